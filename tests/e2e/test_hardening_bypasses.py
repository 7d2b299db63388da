"""Issue 11, "ways around the policy", each class through a real `crossingguard run` (upstream mode
to the local origin: every tunnel the proxy opens ends at the echo origin, so a 200 with the echo's
JSON means the request reached "the platform").

Classes: more than one Host; writes dressed as reads; tunnels with no name (IP literals in every
form, published platform ranges); unlisted encrypted DNS and relays; the proxy's own machine;
staff rights by address alone.
"""
from __future__ import annotations

import hashlib
import base64
import json
import ssl

import pytest

from tests.e2e.conftest import TEACHER_IP, TEEN_IP, YOUNG_IP, start_proxy
from tests.support import proxied_client, trust
from tests.support.proxy import free_port
from tests.support.rawhttp import raw_http, raw_https, status_of, tunnel

pytestmark = pytest.mark.e2e

COMMENT = "/youtubei/v1/comment/create_comment"   # read_only for the 15-year-old outside a session


def get(proxy, ip, host, extra=b"", method=b"GET", path=b"/", body=b"") -> bytes:
    req = method + b" " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + extra + \
        b"Connection: close\r\n\r\n" + body
    return raw_https(proxy.port, ip, host, req, trust(proxy.ca_file))


def log_lines(proxy) -> list[dict]:
    out = []
    for f in sorted((proxy.home / "activity").glob("*.jsonl")):
        out += [json.loads(x) for x in f.read_bytes().decode("utf-8").splitlines()]
    return out


def reached_origin(answer: bytes) -> bool:
    return status_of(answer) == 200 and b'"tls"' in answer


# --------------------------------------------------------------------------- more than one Host

@pytest.mark.parametrize("hosts", [
    b"Host: www.google.com\r\nHost: www.youtube.com\r\n",
    b"Host: pbskids.org, www.instagram.com\r\n",
    b"Host: www.youtubekids.com\r\nhost: www.instagram.com\r\n",
])
def test_more_than_one_host_is_400_and_logged_as_the_strictest_platform(proxy, hosts):
    req = b"GET /p/one-host-only HTTP/1.1\r\n" + hosts + b"Connection: close\r\n\r\n"
    answer = raw_https(proxy.port, YOUNG_IP, "www.youtubekids.com", req, trust(proxy.ca_file))
    assert status_of(answer) == 400, answer[:200]
    assert not reached_origin(answer)
    rid = [line for line in answer.split(b"\r\n") if line.lower().startswith(b"x-crossingguard-request-id")]
    rid = rid[0].split(b":", 1)[1].strip().decode()
    line = next(r for r in log_lines(proxy) if r.get("request_id") == rid)
    assert line["verdict"] == "block" and line["platform"] in ("instagram", "youtube")


# --------------------------------------------------------------------------- writes dressed as reads

@pytest.mark.parametrize("method,extra,body", [
    (b"GET", b"Content-Length: 20\r\n", b'{"commentText":"hi"}'),
    (b"HEAD", b"Content-Length: 20\r\n", b'{"commentText":"hi"}'),
    (b"OPTIONS", b"Content-Length: 20\r\n", b'{"commentText":"hi"}'),
    (b"GET", b"Transfer-Encoding: chunked\r\n", b'14\r\n{"commentText":"hi"}\r\n0\r\n\r\n'),
    (b"GET", b"X-HTTP-Method-Override: POST\r\n", b""),
    (b"GET", b"X-Method-Override: POST\r\n", b""),
    (b"GET", b"X-HTTP-Method: PUT\r\n", b""),
])
def test_a_read_that_carries_a_body_or_an_override_is_a_write(proxy, method, extra, body):
    answer = get(proxy, TEEN_IP, "www.youtube.com", extra, method=method, path=COMMENT.encode(), body=body)
    assert status_of(answer) == 403, answer[:300]
    assert not reached_origin(answer)


def test_a_plain_read_still_passes(proxy):
    assert reached_origin(get(proxy, TEEN_IP, "www.youtube.com", path=b"/watch?v=1"))


# --------------------------------------------------------------------------- tunnels with no name

def _nameless(proxy, ip: str, target: str, host_header: str, sni: str | None = None) -> bytes:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE      # an app that checks nothing
    req = f"GET /feed HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode()
    return raw_https(proxy.port, ip, host_header, req, ctx, sni=sni or "", target=target)


@pytest.mark.parametrize("target", [
    "192.0.2.10:443",            # dotted
    "3221225994:443",            # the same address in decimal
    "0300.0.02.012:443",         # ... in octal
    "[2001:db8::10]:443",        # IPv6
    "[64:ff9b::c000:20a]:443",   # NAT64 of 192.0.2.10
])
def test_a_tunnel_with_no_name_is_intercepted_and_the_host_inside_judged(proxy, target):
    answer = _nameless(proxy, YOUNG_IP, target, "www.instagram.com")
    assert status_of(answer) == 403, answer[:300]
    assert not reached_origin(answer)


def test_an_address_in_metas_published_range_is_judged_as_meta_whatever_the_sni(proxy):
    # Ordinary SNI and Host: only the address says Meta (catalog ranges, AS32934).
    answer = _nameless(proxy, YOUNG_IP, "157.240.1.35:443", "www.example.org", sni="www.example.org")
    assert status_of(answer) == 403, answer[:300]


# --------------------------------------------------------------------------- encrypted DNS and relays

@pytest.mark.parametrize("host,extra,path", [
    ("www.youtube.com", b"Accept: application/dns-message\r\n", b"/resolve?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"),
    ("www.youtube.com", b"", b"/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"),
    ("mask.icloud.com", b"", b"/"),
    ("mask-h2.icloud.com", b"", b"/"),
    ("doh.powerdns.org", b"", b"/"),
])
def test_doh_by_shape_and_unlisted_resolvers_and_private_relay_are_blocked(proxy, host, extra, path):
    answer = get(proxy, TEEN_IP, host, extra, path=path)
    assert status_of(answer) == 403, answer[:300]
    assert not reached_origin(answer)


def test_dns_over_tls_port_853_is_refused_for_students(proxy):
    s, head = tunnel(proxy.port, TEEN_IP, "dns.example.net:853")
    s.close()
    assert status_of(head) == 403, head


# --------------------------------------------------------------------------- the proxy's own machine

@pytest.mark.parametrize("target", [
    "127.0.0.1:{metrics}", "localhost:{metrics}", "2130706433:{metrics}", "[::1]:{metrics}",
    "169.254.169.254:80", "0x7f.1:22",
])
def test_loopback_link_local_and_own_addresses_are_refused(proxy, target):
    s, head = tunnel(proxy.port, TEEN_IP, target.format(metrics=9464))
    s.close()
    assert status_of(head) == 403, head


def test_plain_http_to_a_loopback_service_is_refused(proxy):
    answer = raw_http(proxy.port, TEACHER_IP, b"GET http://127.0.0.1:9464/metrics HTTP/1.1\r\n"
                                             b"Host: 127.0.0.1:9464\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 403, answer[:200]


def test_configured_admin_addresses_may_reach_local_destinations(tmp_path, district, upstream):
    p = start_proxy(tmp_path / "home", district, upstream,
                    extra_args=["--set", f"crossingguard_admin_addresses={TEACHER_IP}/32"])
    with p:
        s, head = tunnel(p.port, TEACHER_IP, "127.0.0.1:443")
        s.close()
        assert status_of(head) == 200, head
        s, head = tunnel(p.port, TEEN_IP, "127.0.0.1:443")
        s.close()
        assert status_of(head) == 403, head


# --------------------------------------------------------------------------- staff by address alone

def test_a_teachers_address_alone_does_not_grant_staff_rights(proxy, client_for):
    """The shipped policy's security.staff_requires_proxy_auth: a device on the teacher's address
    posting to Instagram is a student (of unknown age) until proxy auth proves otherwise."""
    r = client_for(TEACHER_IP).post("https://www.instagram.com/api/v1/web/comments/1/add/",
                                    data={"comment_text": "posted as staff?"})
    assert r.status_code == 403


def test_a_teacher_proven_by_proxy_auth_gets_staff_rights(tmp_path, district, upstream):
    password = "correct horse"
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    htpasswd = tmp_path / "users.htpasswd"
    htpasswd.write_text(f"media.teacher:{{SHA}}{digest}\nteen.student:{{SHA}}{digest}\n", encoding="utf-8")
    p = start_proxy(tmp_path / "home", district, upstream, extra_args=["--proxyauth", f"@{htpasswd}"])
    with p:
        with proxied_client(p.url, p.ca_file, source_ip=TEEN_IP, proxy_auth=("media.teacher", password)) as c:
            r = c.get("https://www.youtube.com/watch?v=1")
            assert r.status_code == 200 and "YouTube-Restrict" not in r.json()["headers"]
        with proxied_client(p.url, p.ca_file, source_ip=TEACHER_IP, proxy_auth=("teen.student", password)) as c:
            r = c.get("https://www.youtube.com/watch?v=1")   # the teacher's address, a student's login
            assert r.status_code == 200 and r.json()["headers"].get("YouTube-Restrict") == "Strict"
