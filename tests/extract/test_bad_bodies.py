"""Bad bodies never raise: they come back with `error` (counted by the caller) or `skipped`."""
from __future__ import annotations

import gzip
import json
import os
import zlib

import brotli
import pytest
import zstandard

from tests.extract.shipped import extract_request, extract_websocket

DISCORD = "https://discord.com/api/v9/channels/1/messages"
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
MP = {"content-type": "multipart/form-data; boundary=XyZ"}

BAD = [
    ("malformed_json", DISCORD, JSON, b'{"content": "hi', "malformed_json"),
    ("binary_garbage_declared_json", DISCORD, JSON, os.urandom(64) + b"\xff\xfe", "undecodable"),
    ("binary_garbage_no_type", "https://oauth.reddit.com/api/comment", {}, b"\x00\xff\xfe\x80" * 50, "binary_garbage"),
    ("binary_garbage_form", "https://oauth.reddit.com/api/comment", FORM, b"text=\xff\xfe\x80abc", "undecodable"),
    ("truncated_multipart", DISCORD, MP,
     b'--XyZ\r\nContent-Disposition: form-data; name="payload_json"\r\n\r\n{"content": "hi"}\r\n--XyZ\r\nContent-Disposition: form-da',
     "truncated_multipart"),
    ("multipart_without_boundary_param", DISCORD, {"content-type": "multipart/form-data"}, b"--a\r\n\r\nx\r\n--a--", "multipart_no_boundary"),
    ("multipart_bad_payload_json", DISCORD, MP,
     b'--XyZ\r\nContent-Disposition: form-data; name="payload_json"\r\n\r\n{"content": \r\n--XyZ--\r\n', "malformed_json"),
    ("bad_encoding_header", DISCORD, {**JSON, "content-encoding": "compress"}, b'{"content": "hi"}', "bad_encoding"),
    ("gzip_header_plain_body", DISCORD, {**JSON, "content-encoding": "gzip"}, b'{"content": "hi"}', "bad_encoding"),
    ("br_header_garbage", DISCORD, {**JSON, "content-encoding": "br"}, b"\x8b\x00\x80garbage", "bad_encoding"),
    ("zstd_header_garbage", DISCORD, {**JSON, "content-encoding": "zstd"}, b"not zstd at all", "bad_encoding"),
    ("truncated_gzip", DISCORD, {**JSON, "content-encoding": "gzip"}, gzip.compress(b'{"content": "hello there"}' * 50)[:40],
     "bad_encoding"),
    ("instagram_signed_body_not_json", "https://i.instagram.com/api/v1/media/1_2/comment/", FORM,
     b"signed_body=SIGNATURE.%7Bnot+json", "malformed_json"),
    ("facebook_variables_not_json", "https://www.facebook.com/api/graphql/", FORM,
     b"fb_api_req_friendly_name=CometUFICreateCommentMutation&variables=%7Bbroken", "malformed_json"),
    ("deeply_nested_json", "https://www.linkedin.com/voyager/api/x", JSON, b"[" * 100_000 + b"]" * 100_000, "malformed_json"),
]


@pytest.mark.parametrize("name,url,headers,body,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_body_sets_error(name, url, headers, body, reason):
    result = extract_request("POST", url, headers, body)
    assert result.posts == []
    assert result.error == reason
    assert result.platform is not None


def bomb(encoding: str) -> bytes:
    raw = b"\0" * (8 << 20)                     # 8 MiB of zeros -> a few KiB compressed
    return {"gzip": lambda: gzip.compress(raw), "deflate": lambda: zlib.compress(raw, 9),
            "br": lambda: brotli.compress(raw), "zstd": lambda: zstandard.ZstdCompressor().compress(raw)}[encoding]()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_decompression_bomb_is_skipped_too_large(encoding):
    body = bomb(encoding)
    assert len(body) < 100_000
    result = extract_request("POST", DISCORD, {**JSON, "content-encoding": encoding}, body, max_bytes=1_000_000)
    assert result.skipped == "too_large" and result.posts == [] and result.error is None


def test_compressed_body_just_under_limit_is_read():
    payload = json.dumps({"content": "fits " + "a" * 900}).encode()
    result = extract_request("POST", DISCORD, {**JSON, "content-encoding": "gzip"}, gzip.compress(payload),
                             max_bytes=len(payload))
    assert result.error is None and result.posts[0].text.startswith("fits")
    # decoding past the limit: compacted field by field and still read (scan.py); past the scan
    # bound (4x the limit) it is too large, unparsed
    over = extract_request("POST", DISCORD, {**JSON, "content-encoding": "gzip"}, gzip.compress(payload),
                           max_bytes=len(payload) - 1)
    assert over.error is None and over.posts[0].text.startswith("fits")
    far = extract_request("POST", DISCORD, {**JSON, "content-encoding": "gzip"}, gzip.compress(payload),
                          max_bytes=len(payload) // 4 - 1)
    assert far.skipped == "too_large" and far.posts == []


def test_huge_body_is_not_parsed():
    """Beyond the scan bound (4x the extraction limit) a body is not parsed at all."""
    body = json.dumps({"content": "x " * 2_100_000}).encode()
    result = extract_request("POST", DISCORD, JSON, body)
    assert result.skipped == "too_large" and result.posts == [] and result.error is None


def test_a_body_past_the_limit_is_read_with_each_value_capped():
    body = json.dumps({"content": "x " * 600_000}).encode()
    result = extract_request("POST", DISCORD, JSON, body)
    assert result.error is None and result.skipped is None
    assert [len(p.text) for p in result.posts] == [64 * 1024 - 1]     # 65,536 bytes, stripped


def test_stacked_encodings_are_undone_in_reverse_order():
    payload = json.dumps({"content": "two layers"}).encode()
    body = brotli.compress(gzip.compress(payload))
    result = extract_request("POST", DISCORD, {**JSON, "content-encoding": "gzip, br"}, body)
    assert [p.text for p in result.posts] == ["two layers"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "DELETE"])
def test_non_write_methods_yield_nothing(method):
    body = json.dumps({"content": "would be a message"}).encode()
    result = extract_request(method, DISCORD, JSON, body)
    assert result.posts == [] and result.skipped == "not_a_write" and result.platform == "discord"


def test_get_with_text_in_query_string_yields_nothing():
    result = extract_request("GET", "https://www.tiktok.com/api/comment/publish/?aweme_id=1&text=hello+there", {}, b"")
    assert result.posts == []


def test_host_outside_the_catalog_is_not_read():
    result = extract_request("POST", "https://example.org/api/comment", FORM, b"text=hello+world+friends")
    assert result.platform is None and result.posts == [] and result.skipped == "not_a_platform"


def test_raw_image_upload_is_neither_error_nor_skip():
    result = extract_request("POST", "https://upload.x.com/i/media/upload.json", {"content-type": "image/png"},
                             b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    assert result.platform == "x" and result.posts == [] and result.skipped is None and result.error is None


def test_telemetry_is_not_read():
    result = extract_request("POST", "https://x.com/i/api/1.1/jot/client_event.json", FORM,
                             b"category=perftown&log=%5B%7B%22description%22%3A%22a+long+human+looking+sentence%22%7D%5D")
    assert result.posts == [] and result.error is None and result.skipped is None


@pytest.mark.parametrize("args", [
    ("POST", "http://[::1", {}, b"x"),                 # unparsable URL
    ("POST", DISCORD, None, None),
    ("POST", DISCORD, {"content-type": "application/json"}, b"null"),
    ("POST", DISCORD, {"content-type": "application/json"}, b"[1, 2, 3]"),
    ("POST", DISCORD, {"content-type": "application/json"}, b'{"content": 5, "message_reference": "x"}'),
    ("PATCH", "https://discord.com/api/v9/users/@me", {"content-type": "application/json"}, b'["not", "a", "dict"]'),
    ("PATCH", "https://discord.com/api/v9/users/@me", {"content-type": "application/json"},
     b'{"avatar": "data:image/png;base64,!!!notbase64", "global_name": "Ok Name"}'),
])
def test_odd_shapes_never_raise(args):
    result = extract_request(*args)
    assert isinstance(result.posts, list)


def test_random_bytes_never_raise_on_any_platform():
    import random
    rng = random.Random(7)
    urls = ["https://x.com/i/api/graphql/a/CreateTweet", "https://i.instagram.com/api/v1/media/configure/",
            "https://www.facebook.com/api/graphql/", "https://www.tiktok.com/api/comment/publish/",
            "https://www.youtube.com/youtubei/v1/comment/create_comment", "https://oauth.reddit.com/api/submit",
            DISCORD, "https://web.snapchat.com/messagingcoreservice.MessagingCoreService/CreateContentMessage",
            "https://www.pinterest.com/resource/PinResource/create/", "https://api.tumblr.com/v2/blog/b/posts",
            "https://bsky.social/xrpc/com.atproto.repo.createRecord", "https://m.example/api/v1/statuses",
            "https://gql.twitch.tv/gql"]
    types = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b",
             "application/grpc-web+proto", "text/plain", ""]
    for _ in range(400):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        result = extract_request("POST", rng.choice(urls), {"content-type": rng.choice(types)}, body)
        assert result.platform is not None
        for post in result.posts:           # whatever came out is valid, encodable text
            post.text.encode("utf-8")


def test_websocket_bad_messages():
    for result in (extract_websocket("irc-ws.chat.twitch.tv", "/", b"\xff\xfe\x00"),
                   extract_websocket("gateway.discord.gg", "/?v=10", '{"op": 3, "d": {"status": "online", "game": {"name": "hello there friends"}}}')):
        assert result.posts == [] and result.error is None and result.skipped is None
    assert extract_websocket("web.snapchat.com", "/ws", "{broken").error == "malformed_json"
    assert extract_websocket("example.org", "/", "PRIVMSG #x :hi").platform is None


# Issue 11: bodies that used to pass unread are read: a form labelled JSON, UTF-16/32 with a BOM
# or a charset that says so.
READ_ANYWAY = [
    ("form_labelled_json", JSON, b"content=hello+there&tts=false"),
    ("utf16_bom", JSON, '{"content": "hello there"}'.encode("utf-16")),
    ("utf16_be_bom", JSON, b"\xfe\xff" + '{"content": "hello there"}'.encode("utf-16-be")),
    ("utf32_bom", JSON, '{"content": "hello there"}'.encode("utf-32")),
    ("utf8_bom", JSON, b"\xef\xbb\xbf" + b'{"content": "hello there"}'),
    ("utf16_charset", {"Content-Type": "application/json; charset=utf-16le"},
     '{"content": "hello there"}'.encode("utf-16-le")),
]


@pytest.mark.parametrize("name,headers,body", READ_ANYWAY, ids=[r[0] for r in READ_ANYWAY])
def test_bodies_in_another_shape_are_still_read(name, headers, body):
    result = extract_request("POST", DISCORD, headers, body)
    assert result.error is None
    assert [p.text for p in result.posts] == ["hello there"]
