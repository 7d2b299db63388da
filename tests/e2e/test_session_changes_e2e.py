"""A session closed with the CLI stops posting within a second, on a real `crossingguard run`.

The proxy runs with a full session reload only once a minute, so what makes the change visible
is the store's change token checked by the session cache's worker (proxy_addons/sessions.py).
"""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import TEEN_IP
from tests.support import CrossingGuardProcess, proxied_client

pytestmark = pytest.mark.e2e

COMMENT_URL = "https://www.youtube.com/youtubei/v1/comment/create_comment"
COMMENT = {"comment": "Our class project video is up"}


@pytest.fixture(scope="module")
def slow_refresh_proxy(tmp_path_factory, district, upstream):
    _, roster, devices = district
    _, forwarder = upstream
    p = CrossingGuardProcess(tmp_path_factory.mktemp("sessions-home"), roster=roster.directory, devices=devices,
                             mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                                        "--set", "crossingguard_session_refresh_ms=60000"])
    p.start()
    try:
        yield p
    finally:
        p.stop()


def post_until(client, status: int, seconds: float) -> tuple[int, float]:
    """POST the comment until it answers `status` or `seconds` pass: (last status, seconds taken)."""
    start = time.monotonic()
    while True:
        r = client.post(COMMENT_URL, json=COMMENT, headers={"Accept": "application/json"})
        elapsed = time.monotonic() - start
        if r.status_code == status or elapsed > seconds:
            return r.status_code, elapsed
        time.sleep(0.05)


def test_open_and_close_reach_the_proxy_within_a_second(slow_refresh_proxy, district):
    _, roster, _ = district
    proxy = slow_refresh_proxy
    with proxied_client(proxy.url, proxy.ca_file, source_ip=TEEN_IP) as c:
        assert c.post(COMMENT_URL, json=COMMENT).status_code == 403        # read-only: no session
        opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                           "--platform", "youtube", "--minutes", "30")
        assert opened.returncode == 0, opened.stderr
        session_id = json.loads(opened.stdout.splitlines()[-1])["id"]
        status, took = post_until(c, 200, 1.0)
        assert status == 200, f"the opened session did not reach the proxy within 1 s ({took:.2f} s)"
        closed = proxy.cli("session", "close", session_id)
        assert closed.returncode == 0, closed.stderr
        status, took = post_until(c, 403, 1.0)
        assert status == 403, f"a post {took:.2f} s after closing the session still went through"
        r = c.post(COMMENT_URL, json=COMMENT, headers={"Accept": "application/json"})
        assert r.status_code == 403 and r.json()["action"] == "read_only"
