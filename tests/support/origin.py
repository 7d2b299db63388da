"""A local origin that answers for every host name: HTTPS (and plain HTTP) echoing requests as JSON.

Every response body is `{"method", "path", "host", "headers": {...}, "body_length", "body_sha256",
"tls"}` (the body is read as it arrives, Content-Length or chunked, and only counted and hashed) so a test
can see what reached the site; `LocalOrigin.received()` lists every body read, including those cut
short (a request the proxy aborted gets no response to see); `GET /cg-chunked-download/<N>` answers N known bytes chunked instead (e.g. that the proxy added `YouTube-Restrict: Strict`). HTTP/1.1
keep-alive, one thread per connection (ThreadingHTTPServer).

In-process (tests):      with LocalOrigin(pki) as origin: origin.https_port
As a process (bench):    python -m tests.support.origin --cert C --key K  (prints "PORTS https http")
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


DOWNLOAD = "/cg-chunked-download/"


def download_bytes(size: int, piece: int = 1 << 16):
    """What the origin sends for DOWNLOAD + size, in pieces (tests recompute it to compare)."""
    block = bytes(range(256)) * (piece // 256)
    while size > 0:
        yield block[:min(piece, size)]
        size -= piece


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CGTestOrigin/1"
    wbufsize = 65536   # headers and body leave in one write (flushed after each request), like real servers

    def _echo(self) -> None:
        if self.path.startswith(DOWNLOAD):
            return self._download(int(self.path[len(DOWNLOAD):].split("?")[0]))
        digest = hashlib.sha256()
        received, tail = 0, b""
        for piece in self._body():      # read as it arrives, never held whole: uploads may be large
            digest.update(piece)
            received += len(piece)
            tail = (tail + piece)[-256:]
        # every request, complete or cut short, for tests that check what the site never got whole
        self.server.received.append({"path": self.path, "declared": self.headers.get("Content-Length"),
                                     "chunked": "chunked" in self.headers.get("Transfer-Encoding", "").lower(),
                                     "complete": self._complete, "length": received, "tail": tail,
                                     "sha256": digest.hexdigest()})
        payload = json.dumps({
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "headers": {k: v for k, v in self.headers.items()},
            "body_length": received,
            "body_sha256": digest.hexdigest(),
            "tls": isinstance(self.connection, ssl.SSLSocket),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _download(self, size: int) -> None:
        """`GET /cg-chunked-download/<N>`: N bytes of `download_bytes`, chunked (no Content-Length)."""
        for _ in self._body():
            pass
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in download_bytes(size):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def _body(self):
        """The request body in pieces: Content-Length, or chunked (Transfer-Encoding). Sets
        `_complete`: False when the connection ended before the body did."""
        self._complete = False
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                while True:
                    line = self.rfile.readline(1024)
                    if not line:
                        return
                    size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):   # trailers
                            pass
                        self._complete = True
                        return
                    left = size
                    while left:
                        piece = self.rfile.read(min(left, 1 << 16))
                        if not piece:
                            return
                        left -= len(piece)
                        yield piece
                    self.rfile.readline(1024)   # the CRLF after the chunk
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                piece = self.rfile.read(min(left, 1 << 16))
                if not piece:
                    return
                left -= len(piece)
                yield piece
            self._complete = True
        except (OSError, ValueError):
            return                          # cut off (reset, bad chunk size): not complete

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _echo

    def log_message(self, *args) -> None:  # quiet: tests read responses, not logs
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, handler, ssl_context: ssl.SSLContext | None):
        self.ssl_context = ssl_context
        self.received: collections.deque = collections.deque(maxlen=1000)   # what each request's body was
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = super().get_request()
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK add ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            # Handshake in the connection's own thread (do_handshake_on_connect on first read),
            # so one slow client cannot stall accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address) -> None:  # clients hanging up are normal here
        pass


class LocalOrigin:
    """HTTPS + HTTP echo origin on 127.0.0.1 free ports, served from daemon threads."""

    def __init__(self, cert: Path, key: Path, host: str = "127.0.0.1"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        ctx.set_alpn_protocols(["http/1.1"])
        self.https = _Server((host, 0), EchoHandler, ctx)
        self.http = _Server((host, 0), EchoHandler, None)
        self._threads: list[threading.Thread] = []

    @property
    def https_port(self) -> int:
        return self.https.server_address[1]

    @property
    def http_port(self) -> int:
        return self.http.server_address[1]

    def received(self) -> list[dict]:
        """Every request body the origin read (HTTPS and HTTP), cut short or not: path, declared
        length, chunked, complete (the body ended as framed), length, its last 256 bytes, sha256."""
        return list(self.https.received) + list(self.http.received)

    def start(self) -> "LocalOrigin":
        for srv in (self.https, self.http):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in (self.https, self.http):
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> "LocalOrigin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args(argv)
    origin = LocalOrigin(Path(a.cert), Path(a.key)).start()
    print(f"PORTS {origin.https_port} {origin.http_port}", flush=True)
    try:
        sys.stdin.read()  # run until the parent closes our stdin (or kills us)
    finally:
        origin.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
