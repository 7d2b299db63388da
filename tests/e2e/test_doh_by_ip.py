"""DNS-over-HTTPS reached by IP address (`https://1.1.1.1/dns-query`), end to end.

A browser configured with a resolver URL that is an IP address connects to the address and sends
no SNI, so the only thing naming the destination is the CONNECT target. Before the catalog could
list addresses, such a tunnel passed through untouched and the DoH rule never ran. Here a real
`crossingguard run` (upstream mode, tests/e2e/conftest.py) gets `CONNECT 1.1.1.1:443` (and the IPv6
form) followed by a ClientHello without SNI: the proxy must intercept (its own CA signs what the
client sees) and block the DoH request for students. An address no platform lists, sent the same
way, must still be tunnelled untouched (the origin's own certificate), so interception is decided by
the catalog's addresses and not by "every IP literal".

The forwarder sends every CONNECT to the local origin, so nothing leaves the machine. One test repeats
the check in regular (explicit proxy) mode, where the early tunnel decision (DirectTunnel) runs, with
the route-to-origin script of test_passthrough_early.py in place of the forwarder.
"""
from __future__ import annotations

import json
import ssl

import pytest

from tests.e2e.conftest import TEEN_IP, YOUNG_IP
from tests.e2e.test_passthrough_early import ROUTE_SCRIPT
from tests.support import CrossingGuardProcess, cert_issuer_org, connect_tunnel

pytestmark = pytest.mark.e2e

ORIGIN_ORG = "CrossingGuard Test Origin"
DNS_QUERY = "AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"   # base64url DNS message: www.example.com A


def open_tls_without_sni(proxy, target: str, source_ip: str, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    """CONNECT `target` ("ip:port" or "[v6]:port") and start TLS with no SNI, as browsers do for IP URLs."""
    s, head = connect_tunnel(proxy.host, proxy.port, "", source_ip=source_ip, connect_to=target)
    if b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        s.close()
        raise ConnectionError(f"CONNECT {target} refused: {head[:80]!r}")
    try:
        return ctx.wrap_socket(s, server_hostname=None)
    except BaseException:
        s.close()
        raise


def no_sni_context(cafile=None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False      # no SNI and no name to check: the issuer tells who answered
    if cafile is None:
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(cafile=str(cafile))   # only the proxy's CA: an untouched tunnel fails
    return ctx


def get(tls: ssl.SSLSocket, host_header: str, path: str) -> tuple[int, dict[str, str], bytes]:
    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nAccept: application/dns-message\r\n"
                f"Connection: close\r\n\r\n".encode())
    data = b""
    while True:
        chunk = tls.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers, body


def decide(proxy, user: str, url: str) -> dict:
    r = proxy.cli("decide", "--user", user, "--url", url)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


@pytest.mark.parametrize("target,host_header", [
    ("1.1.1.1:443", "1.1.1.1"),                                        # Cloudflare
    ("[2606:4700:4700::1111]:443", "[2606:4700:4700::1111]"),          # Cloudflare, IPv6
    ("8.8.8.8:443", "8.8.8.8"),                                        # Google
    ("9.9.9.9:443", "9.9.9.9"),                                        # Quad9
], ids=["cloudflare-v4", "cloudflare-v6", "google", "quad9"])
def test_doh_by_address_without_sni_is_intercepted_for_an_11_year_old(proxy, target, host_header):
    with open_tls_without_sni(proxy, target, YOUNG_IP, no_sni_context()) as tls:
        assert "School District" in cert_issuer_org(tls.getpeercert(binary_form=True))


@pytest.mark.parametrize("source_ip,who", [(YOUNG_IP, "young"), (TEEN_IP, "teen")])
def test_doh_query_to_1_1_1_1_is_blocked_for_students(proxy, district, source_ip, who):
    _, roster, _ = district
    url = f"https://1.1.1.1/dns-query?dns={DNS_QUERY}"
    expected = decide(proxy, getattr(roster, who), url)
    assert expected["verdict"] == "block" and expected["platform"] == "doh_cloudflare"
    # Verified against the proxy's CA alone: the request is answered by the proxy, not relayed.
    with open_tls_without_sni(proxy, "1.1.1.1:443", source_ip, no_sni_context(proxy.ca_file)) as tls:
        status, headers, body = get(tls, "1.1.1.1", f"/dns-query?dns={DNS_QUERY}")
    assert status == 403
    assert headers.get("x-crossingguard-request-id")
    assert expected["guideline"].encode() in body


def test_doh_query_by_ipv6_address_is_blocked_for_a_15_year_old(proxy):
    with open_tls_without_sni(proxy, "[2606:4700:4700::1111]:443", TEEN_IP, no_sni_context(proxy.ca_file)) as tls:
        status, headers, _ = get(tls, "[2606:4700:4700::1111]", f"/dns-query?dns={DNS_QUERY}")
    assert status == 403 and headers.get("x-crossingguard-request-id")


@pytest.fixture(scope="module")
def regular_proxy(tmp_path_factory, district, upstream):
    """crossingguard in regular mode; every upstream connection goes to the local origin."""
    _, roster, devices = district
    origin, _ = upstream
    home = tmp_path_factory.mktemp("doh-regular-home")
    script = home.parent / f"{home.name}-route.py"
    script.write_text(ROUTE_SCRIPT)
    proxy = CrossingGuardProcess(home, roster=roster.directory, devices=devices,
                                 mitm_args=["--set", "ssl_insecure=true", "-s", str(script),
                                            "--set", f"test_origin=127.0.0.1:{origin.https_port}"])
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_regular_mode_blocks_doh_by_address_and_tunnels_an_unlisted_one(regular_proxy):
    with open_tls_without_sni(regular_proxy, "1.1.1.1:443", YOUNG_IP, no_sni_context(regular_proxy.ca_file)) as tls:
        status, headers, _ = get(tls, "1.1.1.1", f"/dns-query?dns={DNS_QUERY}")
    assert status == 403 and headers.get("x-crossingguard-request-id")
    with open_tls_without_sni(regular_proxy, "192.0.2.80:443", YOUNG_IP, no_sni_context()) as tls:
        assert "School District" in cert_issuer_org(tls.getpeercert(binary_form=True))   # nameless: intercepted


def test_an_unlisted_address_without_sni_is_intercepted_for_a_student(proxy):
    """Same shape, an address no platform lists: nothing names the destination, so a student's
    tunnel is intercepted (issue 11) and an ordinary request inside still reaches the site."""
    with open_tls_without_sni(proxy, "192.0.2.80:443", YOUNG_IP, no_sni_context(proxy.ca_file)) as tls:
        assert "School District" in cert_issuer_org(tls.getpeercert(binary_form=True))
        tls.sendall(b"GET /page HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n")
        answer = tls.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_resolver_address_is_not_reachable_by_a_tunnel_at_all(proxy):
    """Belt and braces for the test itself: a client trusting only the proxy's CA would fail on an
    untouched tunnel, so the handshake succeeding proves the proxy terminated TLS for 1.1.1.1."""
    with open_tls_without_sni(proxy, "1.1.1.1:443", YOUNG_IP, no_sni_context(proxy.ca_file)) as tls:
        assert tls.version() is not None
    with pytest.raises(ssl.SSLError):   # a name the catalog does not list, in the SNI: untouched
        s, _ = connect_tunnel(proxy.host, proxy.port, "", source_ip=YOUNG_IP, connect_to="192.0.2.80:443")
        try:
            no_sni_context(proxy.ca_file).wrap_socket(s, server_hostname="www.example.org").close()
        finally:
            s.close()


def test_doh_by_address_with_an_ordinary_sni_is_still_intercepted(proxy):
    """A DoH client may name any host in its ClientHello while connecting to 1.1.1.1: the address alone
    must be enough to intercept (the stricter answer of SNI and CONNECT target wins)."""
    s, head = connect_tunnel(proxy.host, proxy.port, "", source_ip=YOUNG_IP, connect_to="1.1.1.1:443")
    assert b" 200 " in head.split(b"\r\n", 1)[0] + b" "
    with no_sni_context().wrap_socket(s, server_hostname="www.example.org") as tls:
        assert "School District" in cert_issuer_org(tls.getpeercert(binary_form=True))
