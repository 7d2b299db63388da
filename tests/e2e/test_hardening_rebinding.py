"""Issue 11, "the proxy's own services", DNS rebinding: a NAME the client gives that resolves to
loopback or a link-local address, through a real `crossingguard run` in regular mode (no upstream
proxy: the proxy resolves names itself), proxy_addons/destinations.py `server_connect`.

The names are made to resolve locally without touching the machine: the proxy runs in a private
mount namespace (`unshare -m`) where a test hosts file is bind-mounted over /etc/hosts, so only
the proxy process sees `rebind.cg-test.example -> 127.0.0.1`. It shares the test's network, so
the clients and the local service are the ordinary loopback ones. Needs root (mount namespace).
"""
from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import urllib.request

import pytest

from tests.e2e.conftest import TEACHER_IP, TEEN_IP
from tests.support import LocalOrigin
from tests.support.proxy import CrossingGuardProcess, free_port, wait_for_port
from tests.support.rawhttp import raw_http, status_of, tunnel

pytestmark = pytest.mark.e2e

REBIND = "rebind.cg-test.example"          # resolves to 127.0.0.1 inside the proxy's namespace
METADATA = "metadata.cg-test.example"      # resolves to 169.254.169.254 (a cloud metadata address)


def mount_namespace_unavailable() -> str | None:
    if os.geteuid() != 0:
        return f"a private mount namespace needs root; tests run as uid {os.geteuid()}"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        return f"unshare -m refused here: {probe.stderr.decode(errors='replace').strip()}"
    return None


@pytest.fixture(scope="module")
def rebinding_proxy(tmp_path_factory, district, origin_pki):
    reason = mount_namespace_unavailable()
    if reason:
        pytest.skip(reason)
    base, roster, devices = district
    hosts = tmp_path_factory.mktemp("hosts") / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n::1 localhost\n127.0.0.1 {REBIND}\n169.254.169.254 {METADATA}\n")
    origin = LocalOrigin(origin_pki.leaf_cert, origin_pki.leaf_key).start()
    metrics_port = free_port()
    p = CrossingGuardProcess(tmp_path_factory.mktemp("home"), roster=roster.directory, devices=devices,
                             metrics_port=metrics_port,
                             mitm_args=["--set", f"crossingguard_admin_addresses={TEACHER_IP}/32"])
    p.argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts), *p.argv]
    p.metrics_port = metrics_port
    p.start()
    try:
        wait_for_port("127.0.0.1", metrics_port, 30, p.proc)
        yield p, origin
    finally:
        p.stop()
        origin.stop()


def refused_count(proxy) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{proxy.metrics_port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith('crossingguard_refused_total{reason="local_destination"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_name_that_resolves_to_loopback_is_refused(rebinding_proxy):
    proxy, origin = rebinding_proxy
    before = refused_count(proxy)
    req = (f"GET http://{REBIND}:{origin.http_port}/secret HTTP/1.1\r\nHost: {REBIND}:{origin.http_port}\r\n"
           f"Connection: close\r\n\r\n").encode()
    answer = raw_http(proxy.port, TEEN_IP, req)
    assert status_of(answer) != 200 and b'"path": "/secret"' not in answer, answer[:400]
    assert refused_count(proxy) == before + 1
    assert f"resolves to a local address (127.0.0.1)" in proxy.output()


def test_a_tunnel_to_such_a_name_never_reaches_the_local_service(rebinding_proxy, origin_pki):
    proxy, origin = rebinding_proxy
    before = refused_count(proxy)
    s, head = tunnel(proxy.port, TEEN_IP, f"{REBIND}:{origin.https_port}")
    reached = False
    try:
        if status_of(head) == 200:
            ctx = ssl.create_default_context(cafile=str(origin_pki.ca_cert))
            ctx.check_hostname = False
            try:
                with ctx.wrap_socket(s, server_hostname=REBIND) as tls:   # only the origin's CA is trusted
                    tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    reached = b"CGTestOrigin" in tls.recv(65536)
            except (ssl.SSLError, OSError):
                pass
    finally:
        s.close()
    assert not reached
    assert refused_count(proxy) >= before + 1


def test_a_name_for_a_link_local_address_is_refused_without_waiting_for_it(rebinding_proxy):
    proxy, _ = rebinding_proxy
    answer = raw_http(proxy.port, TEEN_IP, f"GET http://{METADATA}/latest/meta-data/ HTTP/1.1\r\n"
                                           f"Host: {METADATA}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(answer) != 200, answer[:400]
    assert "resolves to a local address (169.254.169.254)" in proxy.output()


def test_an_admin_address_may_still_reach_it(rebinding_proxy):
    proxy, origin = rebinding_proxy
    req = (f"GET http://{REBIND}:{origin.http_port}/admin-check HTTP/1.1\r\nHost: {REBIND}:{origin.http_port}\r\n"
           f"Connection: close\r\n\r\n").encode()
    answer = raw_http(proxy.port, TEACHER_IP, req)
    assert status_of(answer) == 200 and b'"path": "/admin-check"' in answer, answer[:400]
