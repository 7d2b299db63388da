"""Issue 11, resources: request bodies with no declared length (`Transfer-Encoding: chunked`) are
bounded like declared ones, through a real `crossingguard run` (proxy_addons/bodies.py).

Before, a chunked upload was buffered whole: five parallel 50 MB chunked uploads cost the proxy
about 250 MB. Now the proxy holds at most crossingguard_stream_bodies (2 MB) of such a body: a
media upload passes streamed (every byte reaches the site, in order), a small chunked text post
is judged as any post, and a chunked text post past the limit is held unread (fail closed) and
logged as held.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import COMMENT_URL, TEEN_IP, comment

pytestmark = pytest.mark.e2e

UPLOAD_URL = "https://upload.youtube.com/upload/studio?uploadType=resumable"
THREAT = "I will shoot up the school tomorrow, everyone is going to pay"
PIECE = 1 << 16


def chunks(total: int, seed: int):
    """`total` bytes of a "JPEG" in 64 KB pieces, different per seed; httpx sends a generator chunked."""
    block = (bytes([seed]) + bytes(range(256)))[:PIECE] * (PIECE // 256 + 1)
    yield b"\xff\xd8\xff\xe0" + block[:PIECE - 4]
    sent = PIECE
    while sent < total:
        n = min(PIECE, total - sent)
        yield block[seed % 256: seed % 256 + n]
        sent += n


def expected(total: int, seed: int) -> str:
    h = hashlib.sha256()
    for piece in chunks(total, seed):
        h.update(piece)
    return h.hexdigest()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def activity(home: Path) -> list[dict]:
    return [json.loads(line) for f in sorted((home / "activity").glob("*.jsonl"))
            for line in f.read_bytes().splitlines()]


def peak_rss_while(pid: int, work, jobs) -> tuple[float, float]:
    """Run work(job) for every job in parallel threads while sampling the RSS of `pid` every
    50 ms: (RSS before, highest RSS seen), in MB."""
    base = rss_mb(pid)
    peak, done = [base], threading.Event()

    def sample():
        while not done.is_set():
            peak.append(rss_mb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    workers = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for t in workers:
        t.start()
    for t in workers:
        t.join(240)
    done.set()
    sampler.join(5)
    return base, max(peak)


def test_parallel_chunked_uploads_are_streamed_whole_with_bounded_memory(proxy, poster, client_for):
    """Five parallel 50 MB chunked uploads: each reaches the site byte for byte (length and SHA-256
    seen by the origin), while the proxy's resident memory grows by far less than one upload."""
    size, n = 50_000_000, 5
    # poster: the teacher session reached the proxy (writes allowed); warm the upload host's certificate
    assert poster.get("https://upload.youtube.com/").status_code == 200
    results: dict[int, tuple] = {}

    def upload(seed: int):
        try:
            r = client_for(TEEN_IP, timeout=180).post(UPLOAD_URL, content=chunks(size, seed),
                                                      headers={"Content-Type": "image/jpeg"})
            body = r.json() if r.status_code == 200 else {}
            results[seed] = (r.status_code, body.get("body_length"), body.get("body_sha256"),
                             body.get("headers", {}).get("Transfer-Encoding"))
        except Exception as exc:   # reported below with the others
            results[seed] = (repr(exc),)

    base, peak = peak_rss_while(proxy.proc.pid, upload, range(1, n + 1))
    assert {seed: r for seed, r in results.items()} == \
        {seed: (200, size, expected(size, seed), "chunked") for seed in range(1, n + 1)}
    growth = peak - base
    print(f"proxy RSS {base:.0f} MB before, peak {peak:.0f} MB during {n} parallel {size // 1_000_000} MB "
          f"chunked uploads")
    # Buffered whole, the five would need 250 MB; streamed, each holds at most the 2 MB limit plus
    # mitmproxy's and TLS's buffers. 60 MB is a quarter of the buffered cost.
    assert growth < 60, f"proxy RSS grew {growth:.0f} MB during {n} x {size // 1_000_000} MB chunked uploads"
    lines = [rec for rec in activity(proxy.home) if rec.get("host") == "upload.youtube.com"
             and rec.get("method") == "POST"]
    assert len(lines) >= n and all(rec["verdict"] == "allow" for rec in lines)


def test_a_small_chunked_text_post_is_judged_as_any_post(poster, proxy):
    def body():
        data = json.dumps(comment(THREAT)).encode()
        for i in range(0, len(data), 40):
            yield data[i:i + 40]
    r = poster.post(COMMENT_URL, content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 403, r.text[:200]            # held as a threat, like the plain post
    fine = poster.post(COMMENT_URL, content=iter([json.dumps(comment("See you all at practice")).encode()]),
                       headers={"Content-Type": "application/json"})
    assert fine.status_code == 200 and fine.json()["headers"].get("Transfer-Encoding") == "chunked"


def test_a_chunked_text_post_past_the_limit_is_held_unread_and_logged(poster, proxy):
    """3 MB of chunked JSON to the comment endpoint: more than the proxy holds, so it cannot be read;
    held (the connection is closed, nothing reaches the site), counted, and logged as held."""
    def body():
        yield json.dumps(comment(THREAT))[:-1].encode() + b', "pad": "'
        for _ in range(3_000_000 // PIECE):
            yield b"x" * PIECE
        yield b'"}'
    before = len(activity(proxy.home))
    try:
        r = poster.post(COMMENT_URL, content=body(), headers={"Content-Type": "application/json"})
        assert r.status_code != 200, r.text[:200]
    except httpx.HTTPError:
        pass                                            # closed: the expected outcome
    deadline = time.monotonic() + 10
    while True:
        held = [rec for rec in activity(proxy.home)[before:] if rec.get("rule") == "unreadable-post"]
        if held or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert held and held[0]["verdict"] == "block" and held[0]["action"] == "hold" \
        and held[0]["path"] == "/youtubei/v1/comment/create_comment", held
    out = proxy.output()
    assert "a chunked (over 2,097,152 bytes) application/json post to youtube by a student could not be read; held" \
        in out, out[-2000:]


def test_parallel_chunked_downloads_are_streamed_with_bounded_memory(proxy, client_for):
    """Responses too: three parallel 40 MB chunked downloads (no Content-Length) reach the client
    whole while the proxy holds at most the stream limit of each."""
    from tests.support.origin import DOWNLOAD, download_bytes
    size, n = 40_000_000, 3
    want = hashlib.sha256(b"".join(download_bytes(size))).hexdigest()
    c = client_for(TEEN_IP, timeout=30)
    assert c.get("https://www.youtube.com/").status_code == 200        # warm: certificate, connection
    results: dict[int, tuple] = {}

    def download(i: int):
        h, got = hashlib.sha256(), 0
        try:
            with client_for(TEEN_IP, timeout=180).stream("GET", f"https://www.youtube.com{DOWNLOAD}{size}") as r:
                for piece in r.iter_raw():
                    h.update(piece)
                    got += len(piece)
                results[i] = (r.status_code, got, h.hexdigest())
        except Exception as exc:
            results[i] = (repr(exc),)

    base, peak = peak_rss_while(proxy.proc.pid, download, range(n))
    assert results == {i: (200, size, want) for i in range(n)}
    growth = peak - base
    print(f"proxy RSS {base:.0f} MB before, peak {peak:.0f} MB during {n} parallel {size // 1_000_000} MB "
          f"chunked downloads")
    assert growth < 50, f"proxy RSS grew {growth:.0f} MB during {n} x {size // 1_000_000} MB chunked downloads"
