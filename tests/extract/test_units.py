"""Pure helpers: human-text heuristic, multipart reader, attachments, WebSocket extraction, platform resolution."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.extract.shipped import extract_websocket
from classifiers.extract.attachments import MAX_PIXELS, image_phash, make_attachment
from classifiers.extract.multipart import parse_multipart
from tests.extract.shipped import resolve
from classifiers.extract.result import ExtractError
from classifiers.extract.textlike import looks_human


@pytest.mark.parametrize("value,key,human", [
    ("see you at lunch", "", True),
    ("ok", "text", True),
    ("lol", "comment_text", True),
    ("今日は", "", True),
    ("🔥🔥", "text", True),
    ("PUBLISHED", "postState", False),
    ("feed_timeline", "container_module", False),
    ("inlineComposer", "text", False),
    ("https://example.com/a b", "text", False),
    ("8d2b9a44-0000-4000-8000-00000000000a", "text", False),
    ("1790000000000000001", "text", False),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "text", False),
    ("2026-01-15T07:00:00.000Z", "", False),
    ("a@example.com", "", False),
    ("mutation CreateTweet($x: String!) { create(x: $x) { id } }", "", False),
    ("public", "", False),
    ("two words", "", True),
    ("False", "is_carousel_bumped_post", False),
    ("null", "text", False),
])
def test_looks_human(value, key, human):
    assert looks_human(value, key) is human


def test_multipart_parts_and_quoted_params():
    body = (b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n'
            b'--b\r\nContent-Disposition: form-data; name="f"; filename="x \\"y\\".png"\r\nContent-Type: image/png\r\n\r\n'
            b'\x89PNG\r\n--b--\r\n')
    parts = parse_multipart(body, 'multipart/form-data; boundary="b"')
    assert [(p.name, p.filename, p.data) for p in parts] == [("a", None, b"hello"), ("f", 'x "y".png', b"\x89PNG")]


@pytest.mark.parametrize("body", [b"", b"no delimiter", b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhal"])
def test_multipart_truncated(body):
    with pytest.raises(ExtractError) as exc:
        parse_multipart(body, "multipart/form-data; boundary=b")
    assert exc.value.reason == "truncated_multipart"


def _png(size, color=(10, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def test_attachment_records_type_size_hash_and_phash():
    data = _png((40, 30))
    att = make_attachment(data, "application/octet-stream", "a.png")
    assert att.content_type == "image/png" and att.size == len(data) and len(att.sha256) == 64
    assert att.phash is not None and len(att.phash) == 16


def test_same_picture_recompressed_has_near_phash():
    import imagehash
    img = Image.new("RGB", (120, 90), (250, 250, 250))
    img.paste((0, 0, 200), (10, 10, 70, 60))
    a, b = io.BytesIO(), io.BytesIO()
    img.save(a, "PNG")
    img.save(b, "JPEG", quality=60)
    ha, hb = image_phash(a.getvalue()), image_phash(b.getvalue())
    assert imagehash.hex_to_hash(ha) - imagehash.hex_to_hash(hb) <= 6


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff\xe0broken", b"GIF89a"])
def test_broken_image_has_no_phash_and_no_exception(data):
    att = make_attachment(data, "image/png")
    assert att.phash is None and att.size == len(data)


def test_image_over_pixel_budget_has_no_phash():
    side = int(MAX_PIXELS ** 0.5) + 100
    img = Image.new("1", (side, side))            # a 1-bit image compresses to almost nothing
    buf = io.BytesIO()
    img.save(buf, "PNG")
    assert image_phash(buf.getvalue()) is None


def test_twitch_irc_ignores_credentials_and_control_lines():
    result = extract_websocket("irc-ws.chat.twitch.tv", "/",
                               "CAP REQ :twitch.tv/tags\r\nPASS oauth:secretsecret\r\nNICK kid\r\nJOIN #chan\r\n"
                               "PRIVMSG #chan :\x01ACTION waves hello\x01\r\n")
    assert [(p.kind, p.text, p.target) for p in result.posts] == [("message", "waves hello", "#chan")]


def test_websocket_generic_json_message():
    result = extract_websocket("web.snapchat.com", "/ws", '{"type": "chat", "payload": {"text": "see you soon"}}')
    assert [(p.kind, p.text) for p in result.posts] == [("message", "see you soon")]


@pytest.mark.parametrize("host,path,platform", [
    ("x.com", "/i/api/graphql/a/CreateTweet", "x"),
    ("api.twitter.com", "/1.1/account/update_profile.json", "x"),
    ("i.instagram.com", "/api/v1/media/configure/", "instagram"),
    ("mastodon.example.edu", "/api/v1/statuses", "mastodon"),
    ("morel.us-east.host.bsky.network", "/xrpc/com.atproto.repo.createRecord", "bluesky"),
    ("pds.example.net", "/xrpc/com.atproto.repo.createRecord", "bluesky"),
    ("www.googleapis.com", "/youtube/v3/comments", "youtube"),
    ("www.googleapis.com", "/drive/v3/files", None),
    ("example.org", "/api/comment", None),
    ("notx.com", "/", None),
])
def test_platform_resolution(host, path, platform):
    assert resolve(host, path) == platform
