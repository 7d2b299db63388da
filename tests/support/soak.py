"""A steady, realistic load on a running proxy, with the proxy's descriptors and memory sampled.

Used by the suite's short soak (tests/e2e/test_soak.py, ~2 minutes) and by bench/soak.py (30
minutes by default). Loopback only: the proxy runs in upstream mode to a local origin (every
tunnel ends at the echo origin), clients bind to 127.0.0.x device addresses.

The mix, per second of load, cycles through: students reading allowed platforms, an 11-year-old
blocked on Instagram, ordinary sites passed through untouched, an unknown device, a DoH query
(blocked), a student post in an open teacher session (classified), a keep-alive visit of several
requests, and a connection that opens and closes without a request.
"""
from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from tests.support.clients import connect_tunnel

MIX = [  # (source address key, host, method, path)
    ("teen", "www.youtube.com", "GET", "/watch?v=soak"),
    ("young", "www.instagram.com", "GET", "/explore/"),
    ("teen", "www.example.org", "GET", "/news"),
    ("unknown", "www.tiktok.com", "GET", "/foryou"),
    ("teen", "www.youtube.com", "POST", "/youtubei/v1/comment/create_comment"),
    ("young", "www.youtubekids.com", "GET", "/watch?v=kids"),
    ("teen", "dns.google", "GET", "/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"),
    ("teen", "docs.example.org", "GET", "/page"),
    ("teen", "www.google.com", "GET", "/search?q=volcano"),
    ("idle", "", "", ""),
]


@dataclass
class Sample:
    at: float
    rss_kb: int
    fds: int


@dataclass
class SoakResult:
    requests: int = 0
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)     # "host: error" -> count
    samples: list = field(default_factory=list)

    def at(self, seconds: float) -> Sample:
        """The first sample taken at or after `seconds` into the run."""
        return next((s for s in self.samples if s.at >= seconds), self.samples[-1])


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _one(proxy_port: int, ip: str, host: str, method: str, path: str, ctx: ssl.SSLContext) -> int:
    if not host:                                      # open and close without a request
        socket.create_connection(("127.0.0.1", proxy_port), timeout=20, source_address=(ip, 0)).close()
        return 0
    s, head = connect_tunnel("127.0.0.1", proxy_port, host, source_ip=ip, timeout=20)
    try:
        if b"\r\n\r\n" not in head:
            raise ConnectionError("no CONNECT answer")
        if b" 200" not in head.split(b"\r\n", 1)[0]:
            return int(head.split(b" ", 2)[1])
        tls = ctx.wrap_socket(s, server_hostname=host)
        body = b'{"commentText": "Our class video is up, thanks everyone"}' if method == "POST" else b""
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        status = 0
        for i in range(3 if method == "GET" else 1):          # keep-alive: a page's few requests
            last = i == (2 if method == "GET" else 0)
            tls.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}"
                        f"{'Connection: close' if last else 'Connection: keep-alive'}\r\n\r\n".encode() + body)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = tls.recv(65536)
                if not chunk:
                    raise ConnectionError("closed before a response")
                buf += chunk
            head, _, rest = buf.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            closing = b"connection: close" in head.lower()
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(rest) < length:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                rest += chunk
            if closing:
                break                                      # the proxy ends the connection (a block page)
        return status
    finally:
        s.close()


def run_soak(proxy_port: int, proxy_pid: int, addresses: dict[str, str], ctx: ssl.SSLContext, *,
             seconds: float, rate: float, sample_every: float = 5.0, threads: int = 8) -> SoakResult:
    """`rate` mix entries per second for `seconds`, on `threads` client threads; samples the proxy's
    RSS and open descriptors every `sample_every` seconds (bounded: the run ends at `seconds`)."""
    result = SoakResult()
    lock = threading.Lock()
    start = time.monotonic()
    end = start + seconds
    interval = 1.0 / rate
    tick = [0]

    def worker() -> None:
        while True:
            with lock:
                n = tick[0]
                tick[0] += 1
            due = start + n * interval
            if due >= end:
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            who, host, method, path = MIX[n % len(MIX)]
            try:
                status = _one(proxy_port, addresses[who if who != "idle" else "teen"], host, method, path, ctx)
                ok = True
            except (OSError, ValueError, ConnectionError, ssl.SSLError) as exc:
                status, ok = -1, False
                key = f"{host or 'idle'}: {type(exc).__name__}"
                with lock:
                    result.failures[key] = result.failures.get(key, 0) + 1
            with lock:
                result.requests += 1
                result.errors += 0 if ok else 1
                result.statuses[status] = result.statuses.get(status, 0) + 1

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    while time.monotonic() < end:
        result.samples.append(Sample(time.monotonic() - start, rss_kb(proxy_pid), fd_count(proxy_pid)))
        time.sleep(min(sample_every, max(0.0, end - time.monotonic())))
    for t in pool:
        t.join(30)
    time.sleep(1.0)   # let closed connections be reaped before the last sample
    result.samples.append(Sample(time.monotonic() - start, rss_kb(proxy_pid), fd_count(proxy_pid)))
    return result
