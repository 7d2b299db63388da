"""Real HTTP clients going through the proxy, bound to a chosen loopback source address.

Linux routes all of 127.0.0.0/8 to lo, so binding the client socket to 127.0.0.x lets one
test act as several devices: the proxy sees that address as the client IP (device registry).
"""
from __future__ import annotations

import base64
import socket
import ssl
from pathlib import Path

import httpcore
import httpx


def trust(ca_file: Path | str | list) -> ssl.SSLContext:
    """A client SSL context trusting only the given CA file(s) (reuse it: building one costs ~1 ms)."""
    files = ca_file if isinstance(ca_file, (list, tuple)) else [ca_file]
    ctx = ssl.create_default_context(cafile=str(files[0]))
    for extra in files[1:]:
        ctx.load_verify_locations(cafile=str(extra))
    return ctx


class _BoundBackend(httpcore.SyncBackend):
    """httpcore's proxy connections ignore local_address: bind every TCP connection ourselves."""

    def __init__(self, source_ip: str):
        self.source_ip = source_ip

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return super().connect_tcp(host, port, timeout=timeout, local_address=self.source_ip,
                                   socket_options=socket_options)


def proxied_client(proxy_url: str, ca_file: Path | str | list, *, source_ip: str = "127.0.0.1",
                   proxy_auth: tuple[str, str] | None = None, timeout: float = 20.0,
                   ssl_context: ssl.SSLContext | None = None, **kwargs) -> httpx.Client:
    """httpx client via `proxy_url`, trusting only `ca_file` (or a list of CA files), from `source_ip`.

    Trust the origin's CA too when a test reaches hosts the proxy passes through untouched.
    """
    ctx = ssl_context or trust(ca_file)
    transport = httpx.HTTPTransport(verify=ctx, retries=0)
    # httpx 0.28 does not pass local_address on to its proxy pool: build the pool ourselves.
    headers = None
    if proxy_auth:
        token = base64.b64encode(f"{proxy_auth[0]}:{proxy_auth[1]}".encode()).decode()
        headers = [(b"Proxy-Authorization", f"Basic {token}".encode())]
    transport._pool = httpcore.HTTPProxy(proxy_url=proxy_url, proxy_headers=headers, ssl_context=ctx,
                                         http1=True, http2=False,
                                         network_backend=_BoundBackend(source_ip))
    return httpx.Client(transport=transport, timeout=timeout, **kwargs)


def connect_tunnel(proxy_host: str, proxy_port: int, host: str, port: int = 443, *,
                   source_ip: str = "127.0.0.1", timeout: float = 10.0,
                   connect_to: str | None = None) -> tuple[socket.socket, bytes]:
    """Open a raw CONNECT tunnel to host:port (or to `connect_to`, "ip:port");
    returns (socket, the proxy's response head)."""
    s = socket.create_connection((proxy_host, proxy_port), timeout=timeout,
                                 source_address=(source_ip, 0))
    target = connect_to or f"{host}:{port}"
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    return s, read_head(s)


def read_head(s: socket.socket, chunk_size: int = 65536) -> bytes:
    """Read from `s` until the end of a message head (a blank line) or the peer closes; returns
    everything read (the head, and whatever of the body came with it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(chunk_size)
        if not chunk:
            break
        data += chunk
    return data


def peer_certificate(proxy_host: str, proxy_port: int, host: str, *, source_ip: str = "127.0.0.1",
                     timeout: float = 10.0, connect_to: str | None = None) -> bytes:
    """DER certificate the client sees for `host` (as SNI) through the proxy (no verification)."""
    s, head = connect_tunnel(proxy_host, proxy_port, host, source_ip=source_ip, timeout=timeout,
                             connect_to=connect_to)
    if not head.startswith(b"HTTP/1.1 200") and not head.startswith(b"HTTP/1.0 200"):
        s.close()
        raise ConnectionError(f"CONNECT {host} refused: {head[:80]!r}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(s, server_hostname=host) as tls:
        return tls.getpeercert(binary_form=True)
