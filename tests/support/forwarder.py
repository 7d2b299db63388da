"""A tiny upstream proxy for `crossingguard run -- --mode upstream:http://127.0.0.1:<port>`.

Every `CONNECT host:port` is tunnelled to the local HTTPS origin whatever the host, so real
host names (instagram.com, youtube.com) reach the test origin without DNS. Plain absolute-form
HTTP requests (mitmproxy's upstream mode for http:// URLs) are piped to the origin's HTTP port.
The hosts seen are recorded in `connects` for assertions.

In-process:   with ConnectForwarder(origin.https_port, origin.http_port) as fwd: fwd.port
As a process: python -m tests.support.forwarder --https-port N [--http-port M]  (prints "PORT p")
"""
from __future__ import annotations

import argparse
import socket
import socketserver
import sys
import threading


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        client = self.request
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # relay small writes at once
        client.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk or len(head) > 65536:
                return
            head += chunk
        first = head.split(b"\r\n", 1)[0].split(b" ")
        if len(first) < 2:
            return
        method, target = first[0], first[1].decode("latin-1")
        if method == b"CONNECT":
            self.server.connects.append(target)
            upstream_port, rest = self.server.https_port, head.split(b"\r\n\r\n", 1)[1]
            reply = b"HTTP/1.1 200 Connection established\r\n\r\n"
        elif self.server.http_port:
            self.server.requests.append(target)
            upstream_port, rest, reply = self.server.http_port, head, b""
        else:
            client.sendall(b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            return
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upstream.settimeout(None)
        client.settimeout(None)
        with upstream:
            if reply:
                client.sendall(reply)
            if rest:
                upstream.sendall(rest)
            t = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            t.start()
            _pipe(client, upstream)
            t.join(timeout=60)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, https_port: int, http_port: int | None):
        self.https_port, self.http_port = https_port, http_port
        self.connects: list[str] = []
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address) -> None:
        pass


class ConnectForwarder:
    """Threaded CONNECT forwarder on a free 127.0.0.1 port (see module doc)."""

    def __init__(self, https_port: int, http_port: int | None = None):
        self.server = _Server(https_port, http_port)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def connects(self) -> list[str]:
        return self.server.connects

    def start(self) -> "ConnectForwarder":
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "ConnectForwarder":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--https-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, default=None)
    a = ap.parse_args(argv)
    fwd = ConnectForwarder(a.https_port, a.http_port).start()
    print(f"PORT {fwd.port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        fwd.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
