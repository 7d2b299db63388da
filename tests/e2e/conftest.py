"""End-to-end fixtures: a local HTTPS origin, a CONNECT forwarder, a synthetic roster and devices,
and `crossingguard run` as a real subprocess routed through the forwarder (upstream mode).

Source addresses used as devices (all on lo): see DEVICES below. Every process is stopped in the
fixture's finally, whatever the test did.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.support import (ConnectForwarder, CrossingGuardProcess, LocalOrigin, make_pki, proxied_client,
                           write_devices, write_test_roster)

YOUNG_IP, TEEN_IP, TEACHER_IP, UNKNOWN_IP = "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.99"


@pytest.fixture(scope="session")
def origin_pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("origin-pki"))


@pytest.fixture(scope="module")
def upstream(origin_pki):
    """(origin, forwarder) running in this process's threads."""
    origin = LocalOrigin(origin_pki.leaf_cert, origin_pki.leaf_key).start()
    forwarder = ConnectForwarder(origin.https_port, origin.http_port).start()
    try:
        yield origin, forwarder
    finally:
        forwarder.stop()
        origin.stop()


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """A test roster (11-year-old, 15-year-old in a class, its teacher) and a device registry."""
    base = tmp_path_factory.mktemp("district")
    roster = write_test_roster(base / "roster")
    devices = write_devices(base / "devices.csv", [
        ("dev-young", roster.young, YOUNG_IP, ""),
        ("dev-teen", roster.teen, TEEN_IP, ""),
        ("dev-teacher", roster.teacher, TEACHER_IP, ""),
    ])
    return base, roster, devices


def start_proxy(home, district, upstream, extra_args=(), metrics_port: int = 0) -> CrossingGuardProcess:
    base, roster, devices = district
    _, forwarder = upstream
    return CrossingGuardProcess(
        home, roster=roster.directory, devices=devices, metrics_port=metrics_port,
        mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                   "--set", "crossingguard_session_refresh_ms=500", *extra_args])


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, district, upstream):
    p = start_proxy(tmp_path_factory.mktemp("home"), district, upstream)
    p.start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def client_for(proxy):
    """client_for(ip) -> httpx client through the proxy from that source address (closed after)."""
    made = []

    def make(ip: str, **kw):
        c = proxied_client(proxy.url, proxy.ca_file, source_ip=ip, **kw)
        made.append(c)
        return c
    try:
        yield make
    finally:
        for c in made:
            c.close()


# Posting as the 15-year-old inside an open teacher session on YouTube (writes allowed): shared by
# the posts and the hardening e2e modules.
COMMENT_URL = "https://www.youtube.com/youtubei/v1/comment/create_comment"


def comment(text: str, **extra) -> dict:
    """An InnerTube create_comment body carrying `text`."""
    return {"context": {"client": {"clientName": "WEB", "clientVersion": "2.20261101"}},
            "createCommentParams": "Eg0SC2FiY2RlZmdoaWpr", "commentText": text, **extra}


@pytest.fixture(scope="module")
def session(proxy, district):
    """A YouTube teacher session for the district's class, closed after the module."""
    _, roster, _ = district
    opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                       "--platform", "youtube", "--minutes", "30")
    assert opened.returncode == 0, opened.stderr
    session_id = json.loads(opened.stdout.splitlines()[-1])["id"]
    yield session_id
    proxy.cli("session", "close", session_id)


@pytest.fixture
def poster(session, client_for):
    """The teen's client once an ordinary comment goes through (the session reached the proxy)."""
    c = client_for(TEEN_IP, timeout=60)
    deadline = time.monotonic() + 30   # the proxy reloads sessions every 0.5 s (fixture option)
    while True:
        r = c.post(COMMENT_URL, json=comment("Our class project video is up, thanks everyone"))
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert r.status_code == 200, r.text[:300]
    return c
