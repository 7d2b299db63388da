"""Upstream failures: the district's own page when an allowed site cannot be reached.

Without this, mitmproxy answers a failed upstream connection with its own unstyled 502 page
(`Server: mitmproxy 11.0.2`), and an ordinary site behind our direct tunnel got a bare 502 to the
CONNECT, which browsers never show ("tunnel connection failed"). Now:

  - Intercepted hosts and plain HTTP: the `error` hook (UpstreamPages) prepares the page (what
    happened in plain words, the request id; agent/pages.py) and records it in
    `flow.metadata[PAGE_KEY]`; mitmproxy's HTTP stream then sends it instead of its own 502.
    mitmproxy has no hook that may answer a failed request, so `install()` replaces one method
    of its HttpStream layer (below); the page is used only when the request was read completely
    and no response from the site had started, otherwise mitmproxy's own error stands.
  - Ordinary sites (direct tunnel, proxy_addons/tunnel.py): when the site refuses, the CONNECT
    is answered "200" and the connection is intercepted only to show this page: TLS with the
    district CA (which district devices trust), no second attempt to reach the site; every
    request on that connection gets the page with `Connection: close`, so a reload tries the site
    again on a new connection. Passthrough.unreachable holds the mark until the client leaves.

Not covered: an ordinary site passed through as raw TCP after mitmproxy's own CONNECT handling
(with proxy auth configured, an IP-literal CONNECT) or in transparent mode. The decision to pass
it through untouched is made before the site is tried, and a page would need its TLS
intercepted, so the browser shows its own connection error there.

No response the proxy makes names the software or its version: `install()` also removes the
`Server: mitmproxy <version>` header from mitmproxy's own HTTP/1 error responses, and HTTP/2 and
HTTP/3 error responses say `server: CrossingGuard` (mitmproxy writes that header inline there).
mitmproxy adds no `Via` header.

mitmproxy internals used (checked against mitmproxy 11.0.2; tests/addons/test_upstream.py fails
loudly if they change): `mitmproxy.proxy.layers.http.HttpStream.handle_protocol_error` and the
stream attributes it uses (flow, client_state, server_state, state_errored, state_done,
check_killed, stream_id, context), the events ResponseProtocolError / ResponseHeaders /
ResponseData / ResponseEndOfMessage, the commands SendHttp / DropStream, HttpErrorHook,
`_http1.make_error_response`, and the module name `version` in `_http2` and `_http3`.
"""
from __future__ import annotations

import logging
import types

from mitmproxy import flow as mflow
from mitmproxy import http

from agent.metrics import ADDON_ERRORS, COUNTERS
from proxy_addons.blockpage import upstream_response
from proxy_addons.verdict import host_of, verdict_of

log = logging.getLogger("crossingguard.upstream")

PAGE_KEY = "crossingguard_upstream_page"   # flow.metadata: the page to send if the site fails
PRODUCT = "CrossingGuard"                  # what a Server header of ours may say (never a version)
CHECKED_MITMPROXY = "11.0.2"


class UpstreamPages:
    """`error`: prepare the page for an upstream failure; `requestheaders`: answer every request
    on a connection whose site refused the tunnel (module doc)."""
    name = "crossingguard_upstream"

    def __init__(self, core, passthrough=None) -> None:
        self.core = core
        self.passthrough = passthrough

    def load(self, loader) -> None:
        install()

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or self.passthrough is None:
            return
        failure = self.passthrough.unreachable.get(flow.client_conn.id)
        if failure is None:
            return
        # The site refused the direct tunnel: answer here, never try it again on this connection.
        v = verdict_of(flow)
        state = self.core.state
        flow.response = upstream_response(state.policy if state else None, host_of(flow), failure,
                                          v.request_id, flow.request.headers.get("accept", ""), close=True)

    def error(self, flow) -> None:
        if not isinstance(flow, http.HTTPFlow) or flow.response is not None or flow.error is None:
            return
        if flow.error.msg == mflow.Error.KILLED_MESSAGE:
            return
        try:
            v = verdict_of(flow)
            state = self.core.state
            flow.metadata[PAGE_KEY] = upstream_response(
                state.policy if state else None, host_of(flow), flow.error.msg, v.request_id,
                flow.request.headers.get("accept", ""))
        except Exception:   # without a page, mitmproxy's own (version-less) error is sent
            COUNTERS.inc(ADDON_ERRORS, "upstream")
            log.exception("crossingguard: preparing the upstream failure page failed")


# ---------------------------------------------------------------- mitmproxy layer patch
_installed: dict = {}


def _make_error_response(status_code: int, message: str = "") -> bytes:
    """mitmproxy 11.0.2's _http1.make_error_response without the `Server: mitmproxy <version>` header."""
    from mitmproxy.net.http import http1
    from mitmproxy.proxy.layers.http._base import format_error

    resp = http.Response.make(status_code, format_error(status_code, message),
                              http.Headers(Connection="close", Content_Type="text/html"))
    return http1.assemble_response(resp)


def _handle_protocol_error(self, event):
    """HttpStream.handle_protocol_error, sending our page for a ResponseProtocolError (a site that
    failed) when the addon prepared one. Otherwise exactly mitmproxy 11.0.2's method."""
    from mitmproxy.net.http import status_codes
    from mitmproxy.proxy.layers.http import (DropStream, HttpErrorHook, ResponseData, ResponseEndOfMessage,
                                             ResponseHeaders, ResponseProtocolError, SendHttp)

    original = _installed["handle_protocol_error"]
    if not isinstance(event, ResponseProtocolError) or event.code == status_codes.NO_RESPONSE \
            or self.flow is None or self.client_state != self.state_done or self.flow.response is not None:
        return (yield from original(self, event))
    # mitmproxy 11.0.2 for a ResponseProtocolError, with the page in place of its error response.
    need_error_hook = not (self.client_state == self.state_errored
                           or self.server_state in (self.state_done, self.state_errored))
    if need_error_hook:
        self.flow.error = mflow.Error(event.message)
        yield HttpErrorHook(self.flow)
    if (yield from self.check_killed(False)):
        return
    page = self.flow.metadata.get(PAGE_KEY)
    if page is not None and self.flow.response is None:
        client = self.context.client
        head_only = self.flow.request.method.upper() == "HEAD"   # headers only: no body after a HEAD
        yield SendHttp(ResponseHeaders(self.stream_id, page, head_only), client)
        if not head_only:
            yield SendHttp(ResponseData(self.stream_id, page.raw_content or b""), client)
        yield SendHttp(ResponseEndOfMessage(self.stream_id), client)
    else:
        yield SendHttp(event, self.context.client)
    self.server_state = self.state_errored
    self.flow.live = False
    yield DropStream(self.stream_id)


def install() -> None:
    """Patch mitmproxy's HTTP layer once per process (idempotent; module doc)."""
    if _installed:
        return
    from mitmproxy.proxy.layers import http as http_layer
    from mitmproxy.proxy.layers.http import _http1, _http2, _http3

    _installed["handle_protocol_error"] = http_layer.HttpStream.handle_protocol_error
    _installed["make_error_response"] = _http1.make_error_response
    _installed["h2_version"] = _http2.version
    _installed["h3_version"] = _http3.version
    http_layer.HttpStream.handle_protocol_error = _handle_protocol_error
    _http1.make_error_response = _make_error_response
    standin = types.SimpleNamespace(MITMPROXY=PRODUCT)
    _http2.version = standin
    _http3.version = standin


def uninstall() -> None:
    """Undo install() (tests)."""
    if not _installed:
        return
    from mitmproxy.proxy.layers import http as http_layer
    from mitmproxy.proxy.layers.http import _http1, _http2, _http3

    http_layer.HttpStream.handle_protocol_error = _installed["handle_protocol_error"]
    _http1.make_error_response = _installed["make_error_response"]
    _http2.version = _installed["h2_version"]
    _http3.version = _installed["h3_version"]
    _installed.clear()
