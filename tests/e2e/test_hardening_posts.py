"""Issue 11, "posts that can't be read pass unjudged", through a real `crossingguard run` with its
classifier pool: the 15-year-old inside an open teacher session on YouTube (writes allowed) sends
a threat in shapes the extractors could not read before. Each is now either read (and held like a
plain copy of the same text; a post padded past the extraction limit is read within bounds and
held as a threat, not as unreadable) or, when it cannot be read, held because it cannot be (fail
closed). A media upload over the limit still passes.
"""
from __future__ import annotations

import gzip
import json
import time

import pytest

from tests.e2e.conftest import COMMENT_URL, TEEN_IP, comment

pytestmark = pytest.mark.e2e

UPLOAD_URL = "https://upload.youtube.com/upload/studio?uploadType=resumable"
THREAT = "I will shoot up the school tomorrow, everyone is going to pay"
LIMIT = 1_000_000   # crossingguard_post_max_bytes default


def test_the_plain_threat_is_held(poster):
    assert poster.post(COMMENT_URL, json=comment(THREAT)).status_code == 403


def multipart(parts: list[tuple[str, bytes]], close: bool = True) -> tuple[bytes, str]:
    b = "cgboundary1234"
    body = b"".join(f'--{b}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n'.encode() + v + b"\r\n"
                    for n, v in parts)
    if close:
        body += f"--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def _shapes():
    plain = json.dumps(comment(THREAT)).encode()
    many, many_type = multipart([("commentText", THREAT.encode())] + [(f"f{i}", b"x") for i in range(300)])
    open_, open_type = multipart([("commentText", THREAT.encode())], close=False)
    return [
        ("padded_with_many_small_fields", json.dumps(comment(THREAT, pad=[1] * 600_000)).encode(),
         {"Content-Type": "application/json"}),
        ("padded_and_truncated", json.dumps(comment(THREAT, pad="x" * (LIMIT + 10))).encode()[:-30],
         {"Content-Type": "application/json"}),
        ("multipart_300_parts", many, {"Content-Type": many_type}),
        ("multipart_no_closing_boundary", open_, {"Content-Type": open_type}),
        ("form_labelled_json", f"commentText={THREAT.replace(' ', '+')}".encode(), {"Content-Type": "application/json"}),
        ("truncated_json", plain[:-25], {"Content-Type": "application/json"}),
        ("unknown_content_encoding", plain, {"Content-Type": "application/json", "Content-Encoding": "x-squash"}),
        ("utf16_with_bom", json.dumps(comment(THREAT)).encode("utf-16"), {"Content-Type": "application/json"}),
        ("utf32_with_bom", json.dumps(comment(THREAT)).encode("utf-32"), {"Content-Type": "application/json"}),
    ]


@pytest.mark.parametrize("name,body,headers", _shapes(), ids=[s[0] for s in _shapes()])
def test_a_threat_in_an_unreadable_shape_is_held_too(poster, name, body, headers):
    r = poster.post(COMMENT_URL, content=body, headers=headers)
    assert r.status_code == 403, (name, r.status_code, r.text[:200])


def incidents_with(proxy, marker: str) -> list[dict]:
    out = proxy.cli("incidents", "list", "--with-text")
    assert out.returncode == 0, out.stderr
    return [i for i in map(json.loads, filter(str.strip, out.stdout.splitlines())) if marker in i.get("text", "")]


def _padded():
    """A post padded past the extraction limit, the padding after, before, or gzipped small."""
    def json_after(text):
        return json.dumps(comment(text, pad="x" * (LIMIT + 10))).encode(), {"Content-Type": "application/json"}

    def json_before(text):
        return json.dumps({"pad": "y" * (LIMIT + 10), **comment(text)}).encode(), {"Content-Type": "application/json"}

    def gzipped(text):
        body, headers = json_after(text)
        return gzip.compress(body), {**headers, "Content-Encoding": "gzip"}

    def form_before(text):          # a form body (labelled JSON too: sniffed) with the padding first
        return f"pad={'z' * (LIMIT + 10)}&commentText={text.replace(' ', '+')}".encode(), \
            {"Content-Type": "application/x-www-form-urlencoded"}
    return [json_after, json_before, gzipped, form_before]


@pytest.mark.parametrize("shape", _padded(), ids=lambda f: f.__name__)
def test_a_padded_threat_is_read_and_held_as_a_threat(poster, proxy, shape):
    """Issue 11: padding does not make a post unreadable; it is read within bounds (scan.py) and
    held for what it says, with a threat incident, not as an 'unreadable-post'."""
    text = f"{THREAT} ({shape.__name__})"
    body, headers = shape(text)
    assert len(body) > LIMIT or headers.get("Content-Encoding") == "gzip"
    r = poster.post(COMMENT_URL, content=body, headers={**headers, "Accept": "application/json"})
    assert r.status_code == 403, r.text[:300]
    assert r.json()["rule"] != "unreadable-post" and r.json()["rule"].startswith("incident-hold:"), r.json()
    found = incidents_with(proxy, text)
    assert len(found) == 1, found
    assert "threat" in found[0]["labels"]


@pytest.mark.parametrize("shape", _padded(), ids=lambda f: f.__name__)
def test_a_padded_ordinary_post_passes(poster, proxy, shape):
    text = f"Our volcano model is finished, see the video ({shape.__name__})"
    body, headers = shape(text)
    r = poster.post(COMMENT_URL, content=body, headers=headers)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["body_length"] == len(body)     # the site gets the post as sent, not the compacted copy
    assert incidents_with(proxy, text) == []


def test_a_media_upload_over_the_limit_still_passes(poster):
    body = b"\xff\xd8\xff\xe0" + bytes(range(256)) * ((LIMIT + 4096) // 256)   # a "JPEG" past the limit
    r = poster.post(UPLOAD_URL, content=body, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text[:200]
    assert r.json()["body_length"] == len(body)


def test_a_large_text_post_is_refused_without_being_read(poster):
    """Over crossingguard_stream_bodies (2 MB) a student's text post cannot be read: refused."""
    import httpx
    body = json.dumps(comment(THREAT, pad="x" * 3_000_000)).encode()
    try:
        r = poster.post(COMMENT_URL, content=body, headers={"Content-Type": "application/json"})
    except httpx.HTTPError:
        return                      # the connection was closed: nothing reached the site
    assert r.status_code != 200, r.text[:200]


def test_parallel_large_uploads_reach_the_site_whole(proxy, session, client_for):
    """Five parallel 9.5 MB uploads (over crossingguard_stream_bodies: streamed) each reach the site
    with every byte. (Whether they were streamed is asserted in tests/addons/test_bodies.py.)"""
    import threading
    size = 9_500_000
    body = b"\xff\xd8\xff\xe0" + b"\x01" * (size - 4)
    results: list = []

    def upload():
        c = client_for(TEEN_IP, timeout=120)
        r = c.post(UPLOAD_URL, content=body, headers={"Content-Type": "image/jpeg"})
        results.append((r.status_code, r.json().get("body_length") if r.status_code == 200 else None))

    threads = [threading.Thread(target=upload) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [(200, size)] * 5


def test_a_text_field_pushed_past_the_limit_by_a_file_part_is_read(poster):
    """Multipart over the extraction limit (1 MB) but under the stream limit (2 MB): the text parts
    are read (a file part no longer carries a threat past the classifiers as "media"), while a
    photo with an ordinary caption still reaches the site whole."""
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 6_000          # 1.5 MB

    def with_photo(name: str, text: str) -> tuple[bytes, str]:
        b = "cgPhotoBoundary"
        body = (f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{text}\r\n'
                f'--{b}\r\nContent-Disposition: form-data; name="photo"; filename="final.jpg"\r\n'
                f"Content-Type: image/jpeg\r\n\r\n").encode() + photo + f"\r\n--{b}--\r\n".encode()
        return body, f"multipart/form-data; boundary={b}"

    body, ctype = with_photo("commentText", THREAT)
    assert LIMIT < len(body) < 2 * 1024 * 1024
    r = poster.post(COMMENT_URL, content=body, headers={"Content-Type": ctype})
    assert r.status_code == 403, r.text[:200]                      # held as the threat it is
    body, ctype = with_photo("caption", "Our robotics team at the regional final")
    ok = poster.post(UPLOAD_URL, content=body, headers={"Content-Type": ctype})
    assert ok.status_code == 200, ok.text[:200]
    assert ok.json()["body_length"] == len(body)
