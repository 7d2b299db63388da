"""Regression tests, on a real `crossingguard run`, for bypasses a reviewer found with raw sockets:

1. bytes that are neither TLS nor HTTP in a CONNECT tunnel to a platform were relayed raw
   (mitmproxy's raw TCP fallback): now the tunnel is refused, for client-first and server-first
   protocols alike, while ordinary hosts keep raw pass-through;
2. WebSocket messages from the client escaped read_only and the end of a teacher session;
3. an absolute-form URL (`POST http://www.instagram.com/... HTTP/1.1`, `Host: www.example.org`)
   inside `CONNECT www.example.org:80` was judged as example.org and forwarded.

Every upstream connection of the proxy goes to a local capture server (a route script: we have no
DNS for the test names), which records what reached "the platform".
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import threading
import time

import pytest

from tests.e2e.conftest import TEEN_IP, YOUNG_IP
from tests.support import CrossingGuardProcess, connect_tunnel, trust
from tests.support.proxy import free_port
from tests.support.scrape import scrape

pytestmark = pytest.mark.e2e

ROUTE_SCRIPT = '''
from mitmproxy import ctx


class RouteToCapture:
    """Connects every upstream connection to a local server (by the port the client asked for)."""

    def load(self, loader):
        loader.add_option("test_routes", str, "", "port=host:port,... where each upstream port goes")

    def server_connect(self, data):
        routes = dict(item.split("=") for item in ctx.options.test_routes.split(","))
        host, _, port = routes[str(data.server.address[1])].rpartition(":")
        data.server.address = (host, int(port))


addons = [RouteToCapture()]
'''

WA_HANDSHAKE = b"WA\x06\x02\x00\x01noise-handshake-bytes"
MQTT_CONNECT = b"\x10\x1a\x00\x04MQTT\x04\x02\x00<\x00\x0edevice-123456"
GREETING = b"220 chat.example ESMTP ready\r\n"


class Capture:
    """A TCP server standing in for every site: records the bytes each connection sent, answers
    HTTP with `200 ok` and anything else with SERVER-REPLY; optionally greets first."""

    def __init__(self, greeting: bytes = b"", tls: ssl.SSLContext | None = None):
        self.greeting, self.tls = greeting, tls
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()                 # started before it is listed: seen() may join it at once
            self.threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        got = b""
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            if self.greeting:
                conn.sendall(self.greeting)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += chunk
                if got[:4] in (b"GET ", b"POST"):
                    if b"\r\n\r\n" in got:
                        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                        break
                else:
                    conn.sendall(b"SERVER-REPLY")
        except OSError:
            pass
        finally:
            conn.close()
            with self.lock:
                self.received.append(got)

    def seen(self) -> bytes:
        """Everything any connection sent so far (waits for open connections to end, bounded)."""
        for t in list(self.threads):
            t.join(timeout=6)
        with self.lock:
            return b"".join(self.received)

    def reset(self) -> None:
        self.seen()
        with self.lock:
            self.received.clear()

    def close(self) -> None:
        self.sock.close()


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_frame(payload: bytes, mask: bool) -> bytes:
    """One final text frame (RFC 6455); clients mask, servers do not."""
    head = bytes([0x81])
    n = len(payload)
    length = bytes([n]) if n < 126 else bytes([126]) + n.to_bytes(2, "big")
    if not mask:
        return head + length + payload
    key = os.urandom(4)
    return head + bytes([length[0] | 0x80]) + length[1:] + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_ws_frame(sock) -> bytes | None:
    """The payload of the next frame, or None when the connection ends."""
    def exact(n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    head = exact(2)
    if head is None:
        return None
    n, masked = head[1] & 0x7F, head[1] & 0x80
    if n == 126:
        ext = exact(2)
        if ext is None:
            return None
        n = int.from_bytes(ext, "big")
    key = exact(4) if masked else b"\0\0\0\0"
    payload = exact(n)
    if key is None or payload is None:
        return None
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WebSocketOrigin:
    """A minimal WebSocket server over TLS that records what clients sent."""

    def __init__(self, tls: ssl.SSLContext):
        self.tls = tls
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            conn = self.tls.wrap_socket(conn, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + ws_frame(b"welcome", mask=False))
            while (payload := read_ws_frame(conn)) is not None:
                self.received.append(payload)
                conn.sendall(ws_frame(b"echo:" + payload, mask=False))
        except (OSError, StopIteration):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def start(tmp_path_factory, district, routes: str, extra=()) -> tuple[CrossingGuardProcess, int]:
    _, roster, devices = district
    home = tmp_path_factory.mktemp("bypass-home")
    script = home.parent / f"{home.name}-route.py"
    script.write_text(ROUTE_SCRIPT)
    metrics_port = free_port()
    proxy = CrossingGuardProcess(home, roster=roster.directory, devices=devices, metrics_port=metrics_port,
                                 mitm_args=["-s", str(script), "--set", f"test_routes={routes}",
                                            "--set", "crossingguard_local_destinations=allow",   # routes end on loopback
                                            "--set", "crossingguard_session_refresh_ms=500", *extra])
    proxy.start()
    return proxy, metrics_port


@pytest.fixture(scope="module")
def capture():
    c = Capture()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def greeter():
    c = Capture(greeting=GREETING)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def tls_capture(origin_pki):
    """The capture server behind TLS (the test origin's certificate), on the MQTT-over-TLS port."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(origin_pki.leaf_cert, origin_pki.leaf_key)
    c = Capture(tls=server)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def ws_origin(origin_pki):
    """A WebSocket server behind TLS: says "welcome", then echoes every message it receives."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(origin_pki.leaf_cert, origin_pki.leaf_key)
    w = WebSocketOrigin(server)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def lazy(tmp_path_factory, district, capture, tls_capture, ws_origin):
    """crossingguard run as shipped (lazy upstream connections), regular mode."""
    dest = f"127.0.0.1:{capture.port}"
    proxy, metrics_port = start(tmp_path_factory, district,
                                f"443={dest},80={dest},8883=127.0.0.1:{tls_capture.port},"
                                f"8443=127.0.0.1:{ws_origin.port}",
                                extra=["--set", "ssl_insecure=true"])
    try:
        yield proxy, metrics_port
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def eager(tmp_path_factory, district, greeter):
    """Upstream connections opened at CONNECT time, so a server can speak first."""
    proxy, metrics_port = start(tmp_path_factory, district, f"5222=127.0.0.1:{greeter.port}",
                                extra=["--set", "connection_strategy=eager"])
    try:
        yield proxy, metrics_port
    finally:
        proxy.stop()


def metric(metrics_port: int, name: str, **labels: str) -> float:
    return scrape(metrics_port).value(name, **labels)


def read_all(s: socket.socket, limit: float = 5.0) -> bytes:
    """What the proxy sends back until it closes the connection (or `limit` seconds pass)."""
    s.settimeout(limit)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        out += b"<timeout>"
    except ConnectionResetError:
        pass
    return out


def open_tunnel(proxy, host: str, port: int, ip: str) -> tuple[socket.socket, bytes]:
    """A CONNECT tunnel; returns the socket and any bytes that came right after the 200 head."""
    s, head = connect_tunnel(proxy.host, proxy.port, host, port, source_ip=ip)
    assert head.startswith(b"HTTP/1.1 200"), head
    return s, head.split(b"\r\n\r\n", 1)[1]


def tunnel_send(proxy, host: str, port: int, data: bytes, ip: str = YOUNG_IP) -> bytes:
    """Everything the client receives in the tunnel after sending `data`, until it is closed."""
    s, early = open_tunnel(proxy, host, port, ip)
    try:
        if data:
            s.sendall(data)
        return early + read_all(s)
    finally:
        s.close()


# ---------------------------------------------------------------- 1. unreadable tunnels
@pytest.mark.parametrize("ip,host,data", [
    (YOUNG_IP, "g.whatsapp.net", WA_HANDSHAKE),
    (TEEN_IP, "edge-mqtt.facebook.com", MQTT_CONNECT),
    (TEEN_IP, "www.instagram.com", WA_HANDSHAKE),
])
def test_unreadable_bytes_to_a_platform_are_not_relayed(lazy, capture, ip, host, data):
    proxy, metrics_port = lazy
    capture.reset()
    before = metric(metrics_port, "crossingguard_tunnels_total", reason="refused")
    reply = tunnel_send(proxy, host, 443, data, ip)
    assert reply == b""                      # closed, nothing from "upstream"
    assert data not in capture.seen()        # nothing reached the platform
    assert metric(metrics_port, "crossingguard_tunnels_total", reason="refused") == before + 1


def test_refused_whatsapp_for_an_11_year_old_counts_a_block(lazy, capture):
    proxy, metrics_port = lazy
    before = metric(metrics_port, "crossingguard_blocks_total", platform="whatsapp")
    tunnel_send(proxy, "g.whatsapp.net", 443, WA_HANDSHAKE, YOUNG_IP)
    assert metric(metrics_port, "crossingguard_blocks_total", platform="whatsapp") == before + 1


def test_bytes_split_before_they_tell_are_still_refused(lazy, capture):
    """Two bytes first (mitmproxy alone would pick raw TCP on them), the rest a moment later."""
    proxy, _ = lazy
    capture.reset()
    s, _ = open_tunnel(proxy, "g.whatsapp.net", 443, YOUNG_IP)
    try:
        s.sendall(WA_HANDSHAKE[:2])
        time.sleep(0.3)
        try:
            s.sendall(WA_HANDSHAKE[2:])
        except OSError:
            pass
        assert b"SERVER-REPLY" not in read_all(s)
    finally:
        s.close()
    assert b"WA" not in capture.seen()


def test_decrypted_bytes_that_are_not_http_are_not_relayed(lazy, tls_capture):
    """MQTT over TLS to a platform host: we intercept the TLS (catalog name), and the decrypted
    bytes are not HTTP, so they are refused rather than relayed raw to the platform."""
    proxy, metrics_port = lazy
    tls_capture.reset()
    before = metric(metrics_port, "crossingguard_tunnels_total", reason="refused")
    s, _ = open_tunnel(proxy, "edge-mqtt.facebook.com", 8883, YOUNG_IP)
    tls = trust(proxy.ca_file).wrap_socket(s, server_hostname="edge-mqtt.facebook.com")
    try:
        tls.sendall(MQTT_CONNECT)
        try:
            reply = read_all(tls)
        except ssl.SSLError:
            reply = b""   # closed without a TLS close_notify: also nothing relayed
        assert b"SERVER-REPLY" not in reply
    finally:
        tls.close()
    assert MQTT_CONNECT not in tls_capture.seen()
    assert metric(metrics_port, "crossingguard_tunnels_total", reason="refused") == before + 1


def test_ordinary_hosts_keep_raw_pass_through(lazy, capture):
    proxy, _ = lazy
    capture.reset()
    reply = tunnel_send(proxy, "chat.example.org", 443, WA_HANDSHAKE, YOUNG_IP)
    assert reply.startswith(b"SERVER-REPLY")
    assert WA_HANDSHAKE in capture.seen()


def test_server_speaking_first_on_a_platform_tunnel_is_not_relayed(eager, greeter):
    proxy, metrics_port = eager
    before = metric(metrics_port, "crossingguard_tunnels_total", reason="refused")
    reply = tunnel_send(proxy, "g.whatsapp.net", 5222, b"", YOUNG_IP)
    assert GREETING not in reply and reply == b""
    assert metric(metrics_port, "crossingguard_tunnels_total", reason="refused") == before + 1


def test_server_speaking_first_on_an_ordinary_tunnel_is_relayed(eager, greeter):
    proxy, _ = eager
    s, got = open_tunnel(proxy, "mail.example.org", 5222, YOUNG_IP)
    try:
        s.settimeout(5)
        while GREETING not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        assert GREETING in got
    finally:
        s.close()


# ---------------------------------------------------------------- 2. WebSocket messages
def open_websocket(proxy, ip: str, host: str = "www.youtube.com"):
    """A WebSocket to `host` through the proxy (intercepted TLS); returns the socket after the
    server's first ("welcome") message."""
    s, _ = open_tunnel(proxy, host, 8443, ip)
    tls = trust(proxy.ca_file).wrap_socket(s, server_hostname=host)
    key = base64.b64encode(os.urandom(16))
    tls.sendall(b"GET /live HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n")
    tls.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = tls.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    assert read_ws_frame(tls) == b"welcome"      # reading is allowed
    return tls


def relayed(tls, text: bytes, wait: float = 1.5) -> bool:
    """Sends one message; True when the server's echo of it comes back within `wait` seconds."""
    tls.sendall(ws_frame(text, mask=True))
    tls.settimeout(wait)
    try:
        return read_ws_frame(tls) == b"echo:" + text
    except (socket.timeout, ssl.SSLError):
        return False


def test_websocket_messages_are_writes_under_read_only(lazy, ws_origin):
    proxy, metrics_port = lazy
    before = metric(metrics_port, "crossingguard_blocks_total", platform="youtube")
    tls = open_websocket(proxy, TEEN_IP)
    try:
        assert not relayed(tls, b"a comment under read_only")
        assert not relayed(tls, b"another one")
    finally:
        tls.close()
    assert b"a comment under read_only" not in ws_origin.received
    assert metric(metrics_port, "crossingguard_blocks_total", platform="youtube") == before + 1


def test_websocket_messages_stop_when_the_teacher_session_ends(lazy, district, ws_origin):
    proxy, _ = lazy
    _, roster, _ = district
    opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                       "--platform", "youtube", "--minutes", "30")
    assert opened.returncode == 0, opened.stderr
    session_id = json.loads(opened.stdout.splitlines()[-1])["id"]
    closed = False
    tls = None
    try:
        deadline = time.monotonic() + 20   # the proxy reloads sessions every 0.5 s (fixture option)
        while True:
            tls = open_websocket(proxy, TEEN_IP)
            if relayed(tls, b"during class") or time.monotonic() > deadline:
                break
            tls.close()
        assert b"during class" in ws_origin.received
        result = proxy.cli("session", "close", session_id)
        closed = result.returncode == 0
        assert closed, result.stderr
        deadline = time.monotonic() + 20
        n = 0
        while True:   # the same socket, still open: its messages stop once the session is gone
            n += 1
            if not relayed(tls, b"after class %d" % n) or time.monotonic() > deadline:
                break
        assert time.monotonic() <= deadline, "messages were still relayed 20 s after the session ended"
        assert not relayed(tls, b"after class, again")
    finally:
        if tls is not None:
            tls.close()
        if not closed:
            proxy.cli("session", "close", session_id)
    assert b"after class, again" not in ws_origin.received


# ---------------------------------------------------------------- 3. absolute-form in a tunnel
def absolute_form(method: str, url: str, host_header: str, body: bytes = b"") -> bytes:
    return (f"{method} {url} HTTP/1.1\r\nHost: {host_header}\r\ncontent-length: {len(body)}\r\n"
            f"content-type: application/x-www-form-urlencoded\r\nconnection: close\r\n\r\n").encode() + body


@pytest.mark.parametrize("ip,method", [(YOUNG_IP, "POST"), (YOUNG_IP, "GET"), (TEEN_IP, "POST")])
def test_absolute_form_url_inside_a_tunnel_is_judged_by_its_host(lazy, capture, ip, method):
    proxy, _ = lazy
    capture.reset()
    body = b"comment_text=hello" if method == "POST" else b""
    request = absolute_form(method, "http://www.instagram.com/api/v1/web/comments/1/add/", "www.example.org", body)
    reply = tunnel_send(proxy, "www.example.org", 80, request, ip)
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    seen = capture.seen()
    assert b"/api/v1/web/comments" not in seen and b"comment_text" not in seen


def test_absolute_form_to_an_ordinary_host_still_works(lazy, capture):
    proxy, _ = lazy
    capture.reset()
    reply = tunnel_send(proxy, "www.example.org", 80,
                           absolute_form("GET", "http://www.example.org/page", "www.example.org"), YOUNG_IP)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"ok")
    assert b"/page" in capture.seen()
