"""Framing: an HTTP/2 or HTTP/3 request body with no declared length reaches an HTTP/1.1 site framed.

HTTP/2 and HTTP/3 end a body with the stream (END_STREAM), so a client may send one without
`content-length` (fetch() with a stream body, resumable uploads, gRPC-web). mitmproxy 11.0.2
turns such a request into HTTP/1.1 for a site that speaks only HTTP/1.1 without adding a length
or chunking it. The site then reads a request with no body, and the body's bytes are read as the
NEXT request on that connection: the upload is lost, and a body shaped like a request is a request
the filter never judged (request smuggling). Our lazy connection strategy makes the pair common:
the client's protocol is chosen before the site is reached.

One rule, "every body a site receives is framed", in two places:
  - `request` (the body is complete and buffered, up to crossingguard_stream_bodies): add
    `content-length`. HTTP/2 and HTTP/3 allow it too, so nothing depends on the site's protocol,
    and an HTTP/1.1 site that refuses chunked requests (411) still takes it.
  - a streamed body (over the limit: proxy_addons/bodies.py): its length is not known when its
    headers leave, and only mitmproxy's HTTP/1 client knows the site speaks HTTP/1.1. `install()`
    wraps `Http1Client.send` to add `transfer-encoding: chunked` there; mitmproxy then frames every
    chunk it relays and ends with the last chunk (docs/mitmproxy-internals.md item 14).
An HTTP/1.1 request always has its own framing (content-length, chunked, or none and no body).
"""
from __future__ import annotations

from mitmproxy import http

_installed: dict = {}


def unframed_for_http1(request: http.Request) -> bool:
    """An HTTP/2 or HTTP/3 request that declares neither a length nor a transfer coding: its body
    (if any) is delimited only by its stream, which HTTP/1.1 does not have."""
    return ((request.is_http2 or request.is_http3)
            and "content-length" not in request.headers
            and "transfer-encoding" not in request.headers)


class Framing:
    """`request`: a buffered HTTP/2 or HTTP/3 body gets its length (module doc)."""
    name = "crossingguard_framing"

    def load(self, loader) -> None:
        install()

    def request(self, flow: http.HTTPFlow) -> None:
        request = flow.request
        if flow.response is not None or request.stream or not request.raw_content:
            return     # answered here, streamed (framed by install()), or no body to frame
        if unframed_for_http1(request):
            request.headers["content-length"] = str(len(request.raw_content))


def install() -> None:
    """Wrap mitmproxy's HTTP/1 client once per process: a streamed HTTP/2 or HTTP/3 body leaves
    chunked (module doc). Only requests with a body to come are touched (`end_stream` false)."""
    if "send" in _installed:
        return
    from mitmproxy.proxy.layers.http import RequestHeaders
    from mitmproxy.proxy.layers.http._http1 import Http1Client
    original = _installed["send"] = Http1Client.send

    def send(self, event):
        if isinstance(event, RequestHeaders) and not event.end_stream and unframed_for_http1(event.request):
            # The flow's own request: mitmproxy's HTTP/1 conversion copies it for the head, and
            # reads `transfer-encoding` from it again for every chunk and for the end.
            event.request.headers["transfer-encoding"] = "chunked"
        return (yield from original(self, event))

    Http1Client.send = send


def uninstall() -> None:
    """Undo install() (tests)."""
    from mitmproxy.proxy.layers.http._http1 import Http1Client
    if "send" in _installed:
        Http1Client.send = _installed.pop("send")
