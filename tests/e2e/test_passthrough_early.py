"""Pass-through decided early, on a real `crossingguard run` in regular (explicit proxy) mode.

Regular mode is where a CONNECT names its host before any TLS byte, so ordinary sites are tunnelled
without mitmproxy's HTTP or TLS layers (proxy_addons/tunnel.py). The proxy reaches the local
origin through a tiny script addon (we have no DNS for the test names): every upstream connection
goes to the origin, whatever host the client named, exactly like a real site would be reached.
"""
from __future__ import annotations

import socket

import pytest

from tests.e2e.conftest import TEEN_IP, YOUNG_IP
from tests.support import CrossingGuardProcess, cert_issuer_org, connect_tunnel, peer_certificate, read_head, trust
from tests.support import loadgen
from tests.support.proxy import free_port
from tests.support.scrape import scrape

pytestmark = pytest.mark.e2e

ORIGIN_ORG = "CrossingGuard Test Origin"

ROUTE_SCRIPT = '''
from mitmproxy import ctx


class RouteToOrigin:
    def load(self, loader):
        loader.add_option("test_origin", str, "", "host:port every upstream connection goes to")

    def server_connect(self, data):
        host, _, port = ctx.options.test_origin.rpartition(":")
        data.server.address = (host, int(port))


addons = [RouteToOrigin()]
'''


@pytest.fixture(scope="module")
def direct(tmp_path_factory, district, upstream):
    """(proxy, origin https port, metrics port): crossingguard in regular mode, no upstream proxy."""
    base, roster, devices = district
    origin, _ = upstream
    home = tmp_path_factory.mktemp("direct-home")
    script = home.parent / f"{home.name}-route.py"
    script.write_text(ROUTE_SCRIPT)
    metrics_port = free_port()
    proxy = CrossingGuardProcess(home, roster=roster.directory, devices=devices, metrics_port=metrics_port,
                                 mitm_args=["--set", "ssl_insecure=true", "-s", str(script),
                                           "--set", "crossingguard_local_destinations=allow",   # the origin is on loopback
                                            "--set", f"test_origin=127.0.0.1:{origin.https_port}"])
    proxy.start()
    try:
        yield proxy, origin.https_port, metrics_port
    finally:
        proxy.stop()


def tunnels(metrics_port: int, reason: str) -> float:
    return scrape(metrics_port).value("crossingguard_tunnels_total", reason=reason)


def test_connect_by_name_to_an_ordinary_site_is_tunnelled_untouched(direct, origin_pki):
    proxy, _, metrics_port = direct
    before = tunnels(metrics_port, "passthrough")
    der = peer_certificate(proxy.host, proxy.port, "www.example.org", source_ip=YOUNG_IP)
    assert cert_issuer_org(der) == ORIGIN_ORG          # the origin's own certificate: not intercepted
    ctx = trust([proxy.ca_file, origin_pki.ca_cert])
    statuses = loadgen.visit((proxy.host, proxy.port), "docs.example.org", 3, ctx, YOUNG_IP)
    assert statuses == [200, 200, 200]                 # keep-alive requests flow through the tunnel
    assert tunnels(metrics_port, "passthrough") >= before + 2


def test_connect_by_name_to_a_catalog_platform_is_intercepted_and_blocked_for_an_11_year_old(direct, origin_pki):
    proxy, _, _ = direct
    der = peer_certificate(proxy.host, proxy.port, "www.instagram.com", source_ip=YOUNG_IP)
    assert "School District" in cert_issuer_org(der)
    ctx = trust([proxy.ca_file, origin_pki.ca_cert])
    assert loadgen.visit((proxy.host, proxy.port), "www.instagram.com", 1, ctx, YOUNG_IP) == [403]


def test_ip_literal_connect_waits_for_the_sni_and_instagram_is_blocked(direct, origin_pki):
    proxy, https_port, _ = direct
    # A documentation address (TEST-NET-1): the route script sends every upstream connection to the
    # origin anyway, and a loopback target would be refused as a local destination (issue 11).
    target = "192.0.2.44:443"
    der = peer_certificate(proxy.host, proxy.port, "www.instagram.com", source_ip=YOUNG_IP, connect_to=target)
    assert "School District" in cert_issuer_org(der)   # intercepted on the SNI
    ctx = trust([proxy.ca_file, origin_pki.ca_cert])
    assert loadgen.visit((proxy.host, proxy.port), "www.instagram.com", 1, ctx, YOUNG_IP,
                         connect_to=target) == [403]
    # the same IP literal with an ordinary SNI is a plain tunnel
    der = peer_certificate(proxy.host, proxy.port, "www.example.org", source_ip=YOUNG_IP, connect_to=target)
    assert cert_issuer_org(der) == ORIGIN_ORG


def test_ordinary_connect_name_with_a_platform_sni_is_intercepted(direct, origin_pki):
    """Domain-fronting shape: CONNECT names an ordinary site, the ClientHello names Instagram."""
    proxy, _, _ = direct
    der = peer_certificate(proxy.host, proxy.port, "www.instagram.com", source_ip=YOUNG_IP,
                           connect_to="www.example.org:443")
    assert "School District" in cert_issuer_org(der)
    ctx = trust([proxy.ca_file, origin_pki.ca_cert])
    assert loadgen.visit((proxy.host, proxy.port), "www.instagram.com", 1, ctx, YOUNG_IP,
                         connect_to="www.example.org:443") == [403]


def test_plain_http_inside_an_ordinary_connect_is_still_inspected(direct):
    """Not TLS after the CONNECT: the normal stack takes over and Enforce judges the Host header."""
    proxy, _, _ = direct
    s, head = connect_tunnel(proxy.host, proxy.port, "www.example.org", port=80, source_ip=YOUNG_IP)
    with s:
        assert head.startswith(b"HTTP/1.1 200")
        s.sendall(b"GET / HTTP/1.1\r\nHost: www.instagram.com\r\nAccept: application/json\r\n\r\n")
        reply = read_head(s)
    assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == b"403", reply[:200]


def test_unreachable_ordinary_host_gets_the_district_page_not_a_dead_tunnel(tmp_path_factory, district):
    """The CONNECT is accepted and then intercepted, so the browser can show the upstream failure
    page (tests/e2e/test_upstream_pages.py covers the page itself)."""
    base, roster, devices = district
    home = tmp_path_factory.mktemp("direct-502")
    script = home.parent / f"{home.name}-route.py"
    script.write_text(ROUTE_SCRIPT)
    closed = free_port()   # nothing listens here
    with CrossingGuardProcess(home, roster=roster.directory, devices=devices,
                              mitm_args=["-s", str(script), "--set", f"test_origin=127.0.0.1:{closed}",
                                         "--set", "crossingguard_local_destinations=allow"]) as proxy:
        s, head = connect_tunnel(proxy.host, proxy.port, "www.example.org", source_ip=TEEN_IP)
        with s:
            assert head.startswith(b"HTTP/1.1 200"), head
            tls = trust(proxy.ca_file).wrap_socket(s, server_hostname="www.example.org")
            tls.sendall(b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n")
            reply = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 502"), reply[:200]
    assert b"www.example.org cannot be reached right now" in reply


def test_malformed_connect_heads_do_not_break_the_proxy(direct):
    proxy, _, _ = direct
    for junk in (b"CONNECT www.example.org:99999 HTTP/1.1\r\n\r\n", b"CONNECT :443 HTTP/1.1\r\n\r\n",
                 b"CONNECT www..example.org:443 HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x00\x05hello\r\n\r\n",
                 b"CONNECT www.example.org:443 HTTP/1.1\r\n\r\n\x16\x03\x01\xff\xff" + b"x" * 100):
        with socket.create_connection((proxy.host, proxy.port), timeout=10, source_address=(TEEN_IP, 0)) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
    der = peer_certificate(proxy.host, proxy.port, "www.example.org", source_ip=TEEN_IP)
    assert cert_issuer_org(der) == ORIGIN_ORG
    assert proxy.alive()
