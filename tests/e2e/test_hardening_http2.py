"""Issue 11: HTTP/2 bodies with no declared length, through a real `crossingguard run` to an
HTTP/1.1-only site (tests/support/origin.py offers only http/1.1), proxy_addons/framing.py.

Before, the proxy relayed such a body raw after a request head with no length: the site read an
empty body and took the bytes for the next request (the upload lost, a request smuggled past the
filter). The client here speaks HTTP/2 itself (the h2 library over a CONNECT tunnel with ALPN h2
only), so nothing adds a length on the way.
"""
from __future__ import annotations

import hashlib
import json
import time

import h2.config
import h2.connection
import h2.events
import pytest

from tests.e2e.conftest import COMMENT_URL, TEEN_IP, comment
from tests.support.clients import connect_tunnel, trust

pytestmark = pytest.mark.e2e

COMMENT_PATH = COMMENT_URL.split("www.youtube.com", 1)[1]
THREAT = "I will shoot up the school tomorrow, everyone is going to pay"


def h2_request(proxy, host: str, method: str, path: str, headers: list, chunks, *,
               source_ip: str = TEEN_IP, timeout: float = 60.0) -> tuple[int | None, bytes]:
    """One HTTP/2 request through the proxy's CONNECT tunnel: `chunks` are DATA frames (flow
    control respected), no content-length. Returns (status, body); status None when the proxy
    closed or reset the stream without an answer."""
    proxy_host, proxy_port = proxy.url.split("//", 1)[1].rsplit(":", 1)
    sock, head = connect_tunnel(proxy_host, int(proxy_port), host, 443, source_ip=source_ip)
    assert b" 200" in head.split(b"\r\n", 1)[0], head
    ctx = trust(proxy.ca_file)
    ctx.set_alpn_protocols(["h2"])
    tls = ctx.wrap_socket(sock, server_hostname=host)
    assert tls.selected_alpn_protocol() == "h2"
    tls.settimeout(timeout)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", method), (":scheme", "https"), (":authority", host),
                            (":path", path), *headers], end_stream=not chunks)
    pending = [bytes(c) for c in chunks]
    status, body, done = None, b"", False
    deadline = time.monotonic() + timeout
    try:
        while not done and time.monotonic() < deadline:
            while pending:                       # as much as the peer's window allows
                window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                if window <= 0:
                    break
                piece, rest = pending[0][:window], pending[0][window:]
                if rest:
                    pending[0] = rest
                else:
                    pending.pop(0)
                conn.send_data(sid, piece, end_stream=not pending)
            tls.sendall(conn.data_to_send())
            data = tls.recv(65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived):
                    body += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset,
                                     h2.events.ConnectionTerminated)):
                    done = True
            tls.sendall(conn.data_to_send())
    except (OSError, h2.exceptions.ProtocolError):
        pass                                     # closed by the proxy: status stays as seen
    finally:
        tls.close()
    return status, body


def echo(body: bytes) -> dict:
    return json.loads(body)


def test_a_buffered_http2_post_without_a_length_reaches_the_site_whole(proxy, poster):
    """Judged as any post, then relayed with its length: the site reads exactly the body sent."""
    data = json.dumps(comment("Our class project video is up, thanks everyone")).encode()
    status, body = h2_request(proxy, "www.youtube.com", "POST", COMMENT_PATH,
                              [("content-type", "application/json")], [data[:10], data[10:]])
    assert status == 200, body[:300]
    seen = echo(body)
    assert (seen["body_length"], seen["body_sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert {k.lower(): v for k, v in seen["headers"].items()}.get("content-length") == str(len(data))


def test_an_http2_body_shaped_like_a_request_is_a_body_not_a_second_request(proxy, poster):
    """The smuggling shape: an allowed post whose body is a complete HTTP/1.1 request. The site
    must see one request with that body, never a second request (which the filter did not judge)."""
    inner = (b"POST /youtubei/v1/comment/create_comment HTTP/1.1\r\nHost: www.youtube.com\r\n"
             b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n" + b"x" * 40)
    status, body = h2_request(proxy, "www.youtube.com", "PUT", "/upload/blob",
                              [("content-type", "application/octet-stream")], [inner])
    assert status == 200, body[:300]
    seen = echo(body)
    assert seen["path"] == "/upload/blob" and seen["body_length"] == len(inner), seen
    # and the connection still answers the next request correctly (no stray bytes left on it)
    status, body = h2_request(proxy, "www.youtube.com", "GET", "/watch?v=abc", [], [])
    assert status == 200 and echo(body)["path"].startswith("/watch"), body[:300]


def test_a_threat_in_an_http2_post_without_a_length_is_still_held(proxy, poster):
    data = json.dumps(comment(THREAT)).encode()
    status, body = h2_request(proxy, "www.youtube.com", "POST", COMMENT_PATH,
                              [("content-type", "application/json")], [data[:30], data[30:]])
    assert status == 403, (status, body[:300])


def test_a_streamed_http2_upload_without_a_length_reaches_the_site_chunked(proxy, poster):
    """Past the stream limit (2 MB) the body's length is unknown when its head leaves: the proxy
    chunks it for the HTTP/1.1 site, and every byte arrives in order."""
    piece = bytes(range(256)) * 256                          # 64 KB
    chunks = [b"\xff\xd8\xff\xe0" + piece[4:]] + [piece] * 47     # 3 MB of "JPEG"
    want = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert poster.get("https://upload.youtube.com/").status_code == 200   # warm the upload host
    status, body = h2_request(proxy, "upload.youtube.com", "POST", "/upload/studio?uploadType=resumable",
                              [("content-type", "image/jpeg")], chunks, timeout=120)
    assert status == 200, body[:300]
    seen = echo(body)
    assert (seen["body_length"], seen["body_sha256"]) == (sum(map(len, chunks)), want)
    assert {k.lower(): v for k, v in seen["headers"].items()}.get("transfer-encoding") == "chunked"
