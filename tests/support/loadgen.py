"""A lean HTTPS-through-proxy load generator (raw sockets + ssl, no HTTP library).

Benchmarks measure the proxy, so the client must cost as little CPU as possible: one CONNECT,
one TLS handshake, then keep-alive GETs parsed by Content-Length. Not a general HTTP client.
"""
from __future__ import annotations

import socket
import ssl
import threading
import time


def _read_response(tls: ssl.SSLSocket, buf: bytes) -> tuple[int, bytes]:
    """(status, leftover bytes) for one response with a Content-Length."""
    while b"\r\n\r\n" not in buf:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed before response headers")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        rest += chunk
    return status, rest[length:]


def visit(proxy: tuple[str, int], host: str, requests: int, ctx: ssl.SSLContext,
          source_ip: str = "127.0.0.1", path: str = "/page", timeout: float = 30,
          connect_to: str | None = None) -> list[int]:
    """One new proxy connection to `host`:443 and `requests` keep-alive GETs; returns the statuses.

    connect_to: CONNECT this "ip:port" instead of host:443 (SNI and Host stay `host`), so a proxy in
    regular mode reaches a local origin without DNS.
    """
    s = socket.create_connection(proxy, timeout=timeout, source_address=(source_ip, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        target = connect_to or f"{host}:443"
        s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("CONNECT refused")
            head += chunk
        if b" 200" not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:60].decode("latin-1"))
        tls = ctx.wrap_socket(s, server_hostname=host)
        statuses, buf = [], b""
        for i in range(requests):
            tls.sendall(f"GET {path}/{i}?v=1 HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n"
                        f"User-Agent: cg-loadgen\r\n\r\n".encode())
            status, buf = _read_response(tls, buf)
            statuses.append(status)
        tls.close()
        return statuses
    finally:
        s.close()


def run(proxy: tuple[str, int], hosts: list[str], requests_per_visit: int, ctx: ssl.SSLContext,
        threads: int, source_ip: str = "127.0.0.1", connect_to: str | None = None) -> tuple[float, int, int]:
    """Run one visit per entry of `hosts` on `threads` threads: (ok requests/s, ok, errors)."""
    lock = threading.Lock()
    todo = list(reversed(hosts))
    counts = [0, 0]

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                host = todo.pop()
            try:
                statuses = visit(proxy, host, requests_per_visit, ctx, source_ip, connect_to=connect_to)
                ok = sum(1 for x in statuses if x == 200)
                bad = len(statuses) - ok
            except (OSError, ValueError, ConnectionError):
                ok, bad = 0, requests_per_visit
            with lock:
                counts[0] += ok
                counts[1] += bad

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    start = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=600)
    elapsed = time.perf_counter() - start
    return counts[0] / elapsed, counts[0], counts[1]
