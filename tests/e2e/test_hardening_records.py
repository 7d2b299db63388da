"""Issue 11, class "records lost", through a real `crossingguard run`:

1. a request whose path is not UTF-8 (raw 0xFF) no longer poisons the log batch: its own line is
   written (escaped) and every other request of the same moment is there, verify-log passes;
2. durable before answered: under load, the proxy is SIGKILLed; every response a client received
   has its line in the log, and verify-log passes after a restart (which continues the chain);
   the fsync helper process committed them and exits with the proxy;
3. classifier workers (and multiprocessing's resource tracker) exit when the proxy is SIGKILLed.
"""
from __future__ import annotations

import json
import os
import signal
import ssl
import threading
import time
import uuid

import pytest

from tests.e2e.conftest import TEACHER_IP, TEEN_IP, YOUNG_IP, start_proxy
from tests.support import trust
from tests.support.clients import connect_tunnel
from tests.support.rawhttp import raw_https

pytestmark = pytest.mark.e2e


def log_records(home) -> list[dict]:
    out = []
    for f in sorted((home / "activity").glob("*.jsonl")):
        for line in f.read_bytes().splitlines():
            out.append(json.loads(line.decode("utf-8")))   # strict UTF-8: the file must be valid
    return out


def test_a_path_that_is_not_utf8_is_logged_and_loses_no_other_line(tmp_path, district, upstream):
    _, roster, _ = district
    home = tmp_path / "home"
    proxy = start_proxy(home, district, upstream)
    proxy.start()
    try:
        ctx = trust(proxy.ca_file)
        marks = [uuid.uuid4().hex for _ in range(6)]
        results: dict[str, bytes] = {}

        def send(i: int, mark: str) -> None:
            raw = b"/bad/\xff\xfe" + mark.encode() if i % 2 == 0 else f"/ok/{mark}".encode()
            req = b"GET " + raw + b" HTTP/1.1\r\nHost: www.youtube.com\r\nConnection: close\r\n\r\n"
            results[mark] = raw_https(proxy.port, TEEN_IP, "www.youtube.com", req, ctx)

        threads = [threading.Thread(target=send, args=(i, m)) for i, m in enumerate(marks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for mark in marks:
            assert results[mark].startswith(b"HTTP/1.1 200"), results[mark][:200]
        # Durable before answered: the lines are on disk while the proxy still runs.
        paths = [r.get("path", "") for r in log_records(home)]
    finally:
        proxy.stop()
    for i, mark in enumerate(marks):
        hits = [p for p in paths if mark in p]
        assert len(hits) == 1, (mark, paths)
        if i % 2 == 0:
            assert hits[0] == "/bad/\udcff\udcfe" + mark    # the bytes, escaped losslessly
    assert not any(r.get("event") == "dropped" for r in log_records(home))
    verified = proxy.cli("verify-log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    summary = json.loads(verified.stdout.splitlines()[-1])
    assert summary["ok"] is True and summary["durability"] == "sync"


def _get(port: int, source_ip: str, host: str, path: str, ctx) -> int:
    s, head = connect_tunnel("127.0.0.1", port, host, source_ip=source_ip, timeout=10)
    try:
        if b"\r\n\r\n" not in head:
            raise ConnectionError("no CONNECT answer")
        tls = ctx.wrap_socket(s, server_hostname=host)
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        got = b""
        while b"\r\n" not in got:
            chunk = tls.recv(4096)
            if not chunk:
                raise ConnectionError("closed before a status line")
            got += chunk
        return int(got.split(b" ", 2)[1])
    finally:
        s.close()


def test_sigkill_under_load_loses_no_answered_line_and_the_chain_verifies(tmp_path, district, upstream):
    home = tmp_path / "home"
    proxy = start_proxy(home, district, upstream)
    proxy.start()
    ctx = trust(proxy.ca_file)
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(ip: str, host: str) -> None:
        while not stop.is_set():
            mark = uuid.uuid4().hex
            try:
                status = _get(proxy.port, ip, host, f"/load/{mark}", ctx)
            except (OSError, ValueError, ConnectionError, ssl.SSLError):
                continue
            if status in (200, 403):
                with lock:
                    answered.append(mark)

    plan = [(TEEN_IP, "www.youtube.com"), (YOUNG_IP, "www.instagram.com"), (TEACHER_IP, "www.youtube.com"),
            (YOUNG_IP, "www.youtubekids.com")]
    threads = [threading.Thread(target=client, args=p, daemon=True) for p in plan * 2]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(answered) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        # The fsync helper process commits (agent/activity/syncer.py), not the fallback thread.
        helpers = [k for k in _children(proxy.proc.pid) if "syncer.py" in _cmdline(k)]
        os.kill(proxy.proc.pid, signal.SIGKILL)       # mid-load, no shutdown hooks
        proxy.proc.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(k) for k in helpers):
            time.sleep(0.1)
        helper_survived = [k for k in helpers if _alive(k)]
    finally:
        stop.set()
        for t in threads:
            t.join(15)
        proxy.stop()
    with lock:
        got = list(answered)
    assert len(helpers) == 1, f"expected one fsync helper under the proxy, got {helpers}"
    assert not helper_survived, "the fsync helper outlived the killed proxy"
    assert "writer thread commits" not in proxy.output()
    assert len(got) >= 100, f"only {len(got)} answers before the kill"
    logged = "\n".join(r.get("path", "") for r in log_records(home))
    missing = [m for m in got if m not in logged]
    assert not missing, f"{len(missing)} of {len(got)} answered requests have no durable line"

    # A restart continues the chain; verify-log passes over the crash point.
    proxy2 = start_proxy(home, district, upstream)
    proxy2.start()
    try:
        assert _get(proxy2.port, TEEN_IP, "www.youtube.com", "/after-restart", trust(proxy2.ca_file)) == 200
    finally:
        proxy2.stop()
    verified = proxy2.cli("verify-log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert any(r.get("path") == "/after-restart" for r in log_records(home))


def _children(pid: int) -> set[int]:
    """Every descendant of pid (from /proc)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and int(entry) not in found:
                found.add(int(entry))
                frontier.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_classifier_workers_and_resource_tracker_exit_when_the_proxy_is_killed(tmp_path, district, upstream):
    proxy = start_proxy(tmp_path / "home", district, upstream)
    proxy.start()
    try:
        pid = proxy.proc.pid
        deadline = time.monotonic() + 60
        kids: set[int] = set()
        while time.monotonic() < deadline:
            kids = _children(pid)
            if len(kids) >= 2:      # the classifier worker and the resource tracker
                break
            time.sleep(0.2)
        assert len(kids) >= 2, f"expected a classifier worker and a resource tracker, got {kids}"
        os.kill(pid, signal.SIGKILL)
        proxy.proc.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.1)
        survivors = [k for k in kids if _alive(k)]
    finally:
        proxy.stop()
    try:
        assert not survivors, f"processes outlived the proxy: {survivors}"
    finally:
        for k in survivors:
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass
