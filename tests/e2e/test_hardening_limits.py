"""Issue 11, resources, through a real `crossingguard run`: a per-address connection cap, a
header-read timeout and an idle timeout, each logged and counted; descriptors come back."""
from __future__ import annotations

import os
import socket
import time

import pytest

from tests.e2e.conftest import TEEN_IP, YOUNG_IP
from tests.support import CrossingGuardProcess, free_port
from tests.support.scrape import scrape

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def limited(tmp_path_factory, district, upstream):
    base, roster, devices = district
    _, forwarder = upstream
    metrics_port = free_port()
    p = CrossingGuardProcess(tmp_path_factory.mktemp("limits-home"), roster=roster.directory, devices=devices,
                             metrics_port=metrics_port,
                             mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                                        "--set", "crossingguard_max_conns_per_address=5",
                                        "--set", "crossingguard_header_timeout_s=2",
                                        "--set", "crossingguard_idle_timeout_s=3"])
    with p:
        yield p, metrics_port


def refused(port: int, reason: str) -> float:
    return scrape(port).value("crossingguard_refused_total", reason=reason)


def closed_within(s: socket.socket, seconds: float) -> bool:
    """Whether the proxy closes this connection within `seconds` (EOF or reset)."""
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_the_cap_closes_the_next_connection_and_timeouts_free_the_rest(limited):
    proxy, metrics_port = limited
    before = {r: refused(metrics_port, r) for r in ("connection_cap", "header_timeout", "idle_timeout")}
    fds_before = fds(proxy.proc.pid)
    silent = [socket.create_connection(("127.0.0.1", proxy.port), source_address=(YOUNG_IP, 0)) for _ in range(5)]
    time.sleep(0.3)
    extra = socket.create_connection(("127.0.0.1", proxy.port), source_address=(YOUNG_IP, 0))
    assert closed_within(extra, 2), "the sixth connection from one address was kept"
    other = socket.create_connection(("127.0.0.1", proxy.port), source_address=(TEEN_IP, 0))  # another address: fine
    other.sendall(b"CONNECT www.example.org:443 HTTP/1.1\r\nHost: www.example.org:443\r\n\r\n")
    assert other.recv(4096).startswith(b"HTTP/1.1 200")
    # the silent ones never completed a request head: closed by the header timeout
    assert all(closed_within(s, 6) for s in silent)
    # the tunnel that did, and then said nothing: closed by the idle timeout
    assert closed_within(other, 8)
    for s in silent + [extra, other]:
        s.close()
    after = {r: refused(metrics_port, r) for r in before}
    assert after["connection_cap"] >= before["connection_cap"] + 1
    assert after["header_timeout"] >= before["header_timeout"] + 5
    assert after["idle_timeout"] >= before["idle_timeout"] + 1
    out = proxy.output()
    assert "closed: 5 connections open from that address" in out and "no complete request head" in out
    deadline = time.monotonic() + 5
    while fds(proxy.proc.pid) > fds_before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fds(proxy.proc.pid) <= fds_before + 2


def test_a_slow_request_head_is_cut_but_a_normal_one_is_not(limited):
    proxy, _ = limited
    slow = socket.create_connection(("127.0.0.1", proxy.port), source_address=(TEEN_IP, 0))
    slow.sendall(b"CONNECT www.example.org:443 HTTP/1.1\r\n")     # and never the blank line
    assert closed_within(slow, 6)
    slow.close()
