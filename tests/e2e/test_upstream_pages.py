"""Sites that cannot be reached get the district's page, through a real `crossingguard run`.

Regular (explicit proxy) mode, like a district device with a PAC file. A small script addon sends
every upstream connection to a local port instead of the named host (we have no DNS for the test
names): `refused.port` has nothing listening (connection refused), `closes.port` accepts and
closes at once (the site hangs up without answering). Hosts named `closes.*` go to the second.

Checked: intercepted platforms, plain HTTP, and ordinary sites behind the direct tunnel all get
the page (plain words, the request id, no software version); JSON clients get JSON; mitmproxy's
own error responses carry no version either; headless Chromium shows the page (screenshot saved).
"""
from __future__ import annotations

import json
import socket
import threading

import pytest

from tests.e2e.conftest import TEEN_IP
from tests.support import CrossingGuardProcess, proxied_client, read_head
from tests.support.browser import Browser, artifact_path, png_size
from tests.support.proxy import free_port

pytestmark = pytest.mark.e2e

ROUTE_SCRIPT = '''
from mitmproxy import ctx


class RouteToDeadSites:
    def load(self, loader):
        loader.add_option("test_refused_port", int, 0, "port with nothing listening")
        loader.add_option("test_closes_port", int, 0, "port that accepts and closes")

    def server_connect(self, data):
        host = str(data.server.address[0])
        port = ctx.options.test_closes_port if host.startswith("closes.") else ctx.options.test_refused_port
        data.server.address = ("127.0.0.1", port)


addons = [RouteToDeadSites()]
'''

# What a page must never contain: the software's name and version.
FORBIDDEN = ("mitmproxy", "11.0.2")


class Closer:
    """Accepts TCP connections and closes each one at once (a site that hangs up)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def dead_proxy(tmp_path_factory, district):
    _, roster, devices = district
    home = tmp_path_factory.mktemp("upstream-home")
    script = home.parent / f"{home.name}-route.py"
    script.write_text(ROUTE_SCRIPT)
    with Closer() as closer:
        proxy = CrossingGuardProcess(home, roster=roster.directory, devices=devices, mitm_args=[
            "-s", str(script), "--set", f"test_refused_port={free_port()}",
            "--set", "crossingguard_local_destinations=allow",   # the script re-addresses to loopback
            "--set", f"test_closes_port={closer.port}"])
        proxy.start()
        try:
            yield proxy
        finally:
            proxy.stop()


def assert_district_page(r, host: str, words: str) -> None:
    assert r.status_code == 502, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "server" not in r.headers and "via" not in r.headers
    page = r.text
    request_id = r.headers["x-crossingguard-request-id"]
    assert request_id in page and len(request_id) >= 12
    assert "Essex North Shore Agricultural &amp; Technical School District" in page
    assert f"{host} cannot be reached right now" in page
    assert words in page
    for word in FORBIDDEN:
        assert word not in page.lower(), word


def test_intercepted_platform_that_refuses_gets_the_district_page(dead_proxy):
    with proxied_client(dead_proxy.url, dead_proxy.ca_file, source_ip=TEEN_IP) as c:
        r = c.get("https://www.youtube.com/watch?v=abc")
    assert_district_page(r, "www.youtube.com", "did not accept the connection")


def test_plain_http_site_that_refuses_gets_the_district_page(dead_proxy):
    with proxied_client(dead_proxy.url, dead_proxy.ca_file, source_ip=TEEN_IP) as c:
        r = c.get("http://www.example.org/homework")
    assert_district_page(r, "www.example.org", "did not accept the connection")


def test_site_that_hangs_up_gets_the_district_page(dead_proxy):
    with proxied_client(dead_proxy.url, dead_proxy.ca_file, source_ip=TEEN_IP) as c:
        r = c.get("http://closes.example.org/")
    assert_district_page(r, "closes.example.org", "closed the connection")


def test_ordinary_site_behind_the_direct_tunnel_gets_the_page_not_a_dead_tunnel(dead_proxy):
    """The CONNECT is accepted, then intercepted only to show the page; each answer closes the
    connection so a reload tries the site again."""
    with proxied_client(dead_proxy.url, dead_proxy.ca_file, source_ip=TEEN_IP) as c:
        r = c.get("https://www.example.org/")
        assert_district_page(r, "www.example.org", "did not accept the connection")
        assert r.headers["connection"] == "close"
        again = c.get("https://www.example.org/again")
        assert_district_page(again, "www.example.org", "did not accept the connection")
        assert again.headers["x-crossingguard-request-id"] != r.headers["x-crossingguard-request-id"]


def test_json_clients_get_json_for_an_upstream_failure(dead_proxy):
    with proxied_client(dead_proxy.url, dead_proxy.ca_file, source_ip=TEEN_IP) as c:
        r = c.get("https://www.youtube.com/youtubei/v1/next", headers={"Accept": "application/json"})
    assert r.status_code == 502
    body = r.json()
    assert body["reason"] == "upstream_unreachable" and body["problem"] == "refused"
    assert body["host"] == "www.youtube.com"
    assert body["request_id"] == r.headers["x-crossingguard-request-id"]
    assert "mitmproxy" not in json.dumps(body).lower()


def test_mitmproxy_error_responses_carry_no_version(dead_proxy):
    """A malformed request gets mitmproxy's own 400; it must not name the software's version."""
    with socket.create_connection((dead_proxy.host, dead_proxy.port), timeout=10,
                                  source_address=(TEEN_IP, 0)) as s:
        s.sendall(b"GET http://www.example.org/ HTTP/1.1\r\nHost: www.example.org\r\n"
                  b"Content-Length: nope\r\n\r\n")
        reply = read_head(s)
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 400"), head
    assert "server:" not in head and "mitmproxy" not in head and "11.0.2" not in head


def test_chromium_shows_the_district_page_for_an_unreachable_site(dead_proxy):
    """A real browser through the proxy: no "tunnel connection failed", the district's page."""
    browser = Browser.require()
    dom = browser.dump_dom("https://www.example.org/", proxy=dead_proxy.url, trust_ca=dead_proxy.ca_file)
    assert "www.example.org cannot be reached right now" in dom, dom[:500]
    assert "Request id" in dom and "mitmproxy" not in dom.lower()
    png = browser.screenshot("https://www.example.org/", artifact_path("upstream-failure-browser.png"),
                             proxy=dead_proxy.url, trust_ca=dead_proxy.ca_file)
    assert png_size(png) == (1000, 900) and png.stat().st_size > 10_000


def test_head_request_gets_the_status_without_a_body_and_the_connection_stays_usable(dead_proxy):
    with proxied_client(dead_proxy.url, dead_proxy.ca_file, source_ip=TEEN_IP) as c:
        head = c.head("http://www.example.org/")
        assert head.status_code == 502 and head.content == b""
        assert "x-crossingguard-request-id" in head.headers and "server" not in head.headers
        after = c.get("http://www.example.org/next")      # same keep-alive connection
        assert_district_page(after, "www.example.org", "did not accept the connection")


def test_chromium_shows_the_under_13_page_for_an_unidentified_device(dead_proxy):
    """Chromium connects from 127.0.0.1, which the device registry does not know: an unidentified
    device is treated as under 13. The block page needs no upstream (nothing is contacted)."""
    browser = Browser.require()
    dom = browser.dump_dom("https://www.instagram.com/", proxy=dead_proxy.url, trust_ca=dead_proxy.ca_file)
    assert "Instagram is not for students under 13" in dom, dom[:500]
    assert "http://crossingguard.internal/report" in dom and "session" not in dom.split("<dl")[0].lower()
    png = browser.screenshot("https://www.instagram.com/", artifact_path("block-under13-browser.png"),
                             proxy=dead_proxy.url, trust_ca=dead_proxy.ca_file)
    assert png.stat().st_size > 10_000
