"""Every request to a catalog platform lands in the hash-chained activity log, and tampering shows.

The proxy is stopped with SIGINT (clean shutdown: the addon flushes and closes the log) before the
log is read; `crossingguard verify-log` then passes, and fails once one line is edited.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import TEEN_IP, UNKNOWN_IP, YOUNG_IP, start_proxy
from tests.support import proxied_client

pytestmark = pytest.mark.e2e


def _lines(home):
    records = []
    for f in sorted((home / "activity").glob("*.jsonl")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            records.append((f, n, json.loads(line)))
    return records


def test_requests_are_logged_and_verify_log_finds_an_edit(tmp_path, district, upstream, origin_pki):
    _, roster, _ = district
    proxy = start_proxy(tmp_path / "home", district, upstream)
    made = []   # (user, host, method, path, status)
    proxy.start()
    try:
        plan = [
            (YOUNG_IP, roster.young, "GET", "https://www.instagram.com/explore/tags/cats/?hl=en&token=SECRET"),
            (YOUNG_IP, roster.young, "GET", "https://www.youtubekids.com/watch?v=1"),
            (TEEN_IP, roster.teen, "GET", "https://www.youtube.com/watch?v=2"),
            (TEEN_IP, roster.teen, "POST", "https://www.youtube.com/youtubei/v1/comment/create_comment?key=K"),
            (UNKNOWN_IP, "unknown", "GET", "https://www.instagram.com/"),
            (TEEN_IP, roster.teen, "GET", "https://www.example.org/not-social"),   # not a platform: not logged
        ]
        for ip, user, method, url in plan:
            with proxied_client(proxy.url, [proxy.ca_file, origin_pki.ca_cert], source_ip=ip) as c:
                r = c.request(method, url, json={"t": "x"} if method == "POST" else None)
            host = url.split("/")[2]
            path = "/" + url.split("/", 3)[3].split("?")[0]
            made.append((user, host, method, path, r.status_code))
        # a comment inside a teacher session is allowed, and logged as allowed
        opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                           "--platform", "youtube", "--minutes", "15")
        assert opened.returncode == 0, opened.stderr
        url = "https://www.youtube.com/youtubei/v1/comment/perform_comment_action"
        with proxied_client(proxy.url, proxy.ca_file, source_ip=TEEN_IP) as c:
            deadline = time.monotonic() + 20
            while True:
                r = c.post(url, json={"t": "in session"})
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.25)
        assert r.status_code == 200
        made.append((roster.teen, "www.youtube.com", "POST", "/youtubei/v1/comment/perform_comment_action", 200))
    finally:
        rc = proxy.stop()
    assert rc in (0, None) or rc == 0, proxy.output()

    records = [rec for _, _, rec in _lines(proxy.home)]
    # (the in-session comment may have been retried while the proxy picked up the session: the
    # last attempt, the allowed one, is what the dict keeps)
    logged = {(r["user"], r["host"], r["method"], r["path"]): r for r in records}
    for user, host, method, path, status in made:
        key = (user, host, method, path)
        if host == "www.example.org":
            assert key not in logged
            continue
        assert key in logged, f"{key} missing from the activity log: {records}"
        rec = logged[key]
        assert rec["verdict"] == ("block" if status == 403 else "allow")
        assert rec["platform"] and rec["rule"] and rec["request_id"] and rec["time"]
        assert "?" not in rec["path"] and "SECRET" not in json.dumps(rec)
    assert logged[(roster.young, "www.instagram.com", "GET", "/explore/tags/cats/")]["device"] == "dev-young"
    assert logged[(roster.young, "www.instagram.com", "GET", "/explore/tags/cats/")]["school"] == roster.school
    assert logged[("unknown", "www.instagram.com", "GET", "/")]["device"] == UNKNOWN_IP

    ok = proxy.cli("verify-log")
    assert ok.returncode == 0, ok.stdout + ok.stderr

    f, n, rec = _lines(proxy.home)[2]
    text = f.read_text(encoding="utf-8").splitlines(keepends=True)
    text[n - 1] = text[n - 1].replace(f'"verdict":"{rec["verdict"]}"', '"verdict":"tampered"', 1) \
        if f'"verdict":"{rec["verdict"]}"' in text[n - 1] else text[n - 1].replace(rec["request_id"], "0" * 16)
    assert text[n - 1] != f.read_text(encoding="utf-8").splitlines(keepends=True)[n - 1]
    f.write_text("".join(text), encoding="utf-8")
    bad = proxy.cli("verify-log")
    assert bad.returncode != 0
    assert f.name in bad.stdout + bad.stderr
