"""Raw HTTP/1.1 through the proxy, byte for byte (what an attacker's script sends, not what a
well-behaved client library allows): duplicate headers, bodies on GET, bytes that are not UTF-8."""
from __future__ import annotations

import socket
import ssl

from tests.support.clients import connect_tunnel


def tunnel(proxy_port: int, source_ip: str, target: str, timeout: float = 20) -> tuple[socket.socket, bytes]:
    """A CONNECT tunnel to `target` ("host:port"); (socket, the proxy's answer head)."""
    return connect_tunnel("127.0.0.1", proxy_port, "", source_ip=source_ip, timeout=timeout, connect_to=target)


def read_all(sock, limit: int = 1 << 22) -> bytes:
    got = b""
    while len(got) < limit:
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not chunk:
            break
        got += chunk
    return got


def raw_https(proxy_port: int, source_ip: str, host: str, request: bytes, ctx: ssl.SSLContext,
              sni: str | None = None, target: str | None = None) -> bytes:
    """`request` (raw bytes, should say `Connection: close`) inside CONNECT + TLS; the whole answer
    (b"" when the tunnel or the TLS handshake was refused). `sni=""`: a ClientHello without SNI."""
    s, head = tunnel(proxy_port, source_ip, target or f"{host}:443")
    try:
        if b" 200" not in head.split(b"\r\n", 1)[0]:
            return head
        try:
            name = host if sni is None else (sni or None)   # sni="" sends no SNI at all
            tls = ctx.wrap_socket(s, server_hostname=name)
        except (ssl.SSLError, OSError):
            return b""
        tls.sendall(request)
        return read_all(tls)
    finally:
        s.close()


def raw_http(proxy_port: int, source_ip: str, request: bytes, timeout: float = 20) -> bytes:
    """`request` sent as is to the proxy port (absolute-form plain HTTP); the whole answer."""
    s = socket.create_connection(("127.0.0.1", proxy_port), timeout=timeout, source_address=(source_ip, 0))
    try:
        s.sendall(request)
        return read_all(s)
    finally:
        s.close()


def status_of(answer: bytes) -> int | None:
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None
