"""Bodies addon: large bodies are streamed, not held in the proxy's memory (issue 11: five parallel
50 MB uploads took the proxy to 888 MB), while every request is still judged.

A request body over `crossingguard_stream_bodies` (default 2 MB) is never held whole. What happens
to it is one decision, `over_limit` (pure, below), the same whether the size is known early or late:
  - "close": the request was already answered (blocked by the policy, the report page): the
    connection is closed (no page: sending one would mean reading, and holding, the whole upload);
  - "hold": a write to a platform from a student or unknown device whose body is text (not an
    image, video, audio, octet-stream or multipart upload): it cannot be read within the extraction
    limit, so it is held unread, FAIL CLOSED by the one rule for unreadable posts
    (agent.incidents.unreadable_hold, which posts.py applies to bodies it could not read), counted
    in crossingguard_unreadable_posts_total{action="held"}; the flow's Decision becomes that hold,
    so its activity line says "held". The connection is closed (no page, as above);
  - "read": a multipart write to a platform from a student or unknown device (a photo or video with
    its caption, a Discord message with `payload_json`): streamed through the streaming multipart
    reader (proxy_addons/streamread.py), which sends file bytes on as they pass, captures the text
    parts and withholds the end of the body until the text is judged like any buffered post; a
    body it cannot parse is held here (`request`) as unreadable, fail closed as above;
  - "stream": anything else (media uploads, staff, reads, sites off the catalog): sent on to the
    site chunk by chunk. FAIL OPEN for what is not read: the post classifier does not see such a
    body (only crossingguard_post_max_bytes would have been read anyway; posts.py skips streamed
    flows), because holding every large photo or video would stop legitimate uploads.

When the size is known:
  - a declared `Content-Length` over the limit: decided in `requestheaders`, after Enforce (the
    policy decision is made on the headers, before any body byte is read);
  - no declared length (HTTP/1 `Transfer-Encoding: chunked`, an HTTP/2 or HTTP/3 body without
    content-length): the body is buffered as usual up to the limit, so a small chunked post is
    judged exactly like any other; the moment the buffer passes the limit, mitmproxy's HTTP stream
    asks `over_limit` (via `install()`: mitmproxy has no hook there) and either switches the request
    to streaming, sending what was buffered first, or closes it. So at most the limit is held per
    request whatever the client sends (docs/mitmproxy-internals.md item 13).
Responses over the same size are streamed to the client too, declared or chunked (nothing in the
filter reads response bodies): a declared one from `responseheaders`, one without a length once
its buffer passes the limit (the same wrapper, mirroring mitmproxy's own late switch).
"""
from __future__ import annotations

import logging

from mitmproxy import ctx, exceptions, http
from mitmproxy.utils import human

from agent.incidents import unreadable_hold
from agent.metrics import COUNTERS, EXTRACTION_FAILURES, UNREADABLE_POSTS
from agent.policy.model import STAFF_ROLES
from proxy_addons import streamread
from proxy_addons.blockpage import block_response
from proxy_addons.failmode import guarded
from proxy_addons.streamread import READER_KEY, StreamedPost
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.bodies")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
# flow.metadata: the limit (bytes) of a request body whose length is not declared; read by the
# patched HTTP stream (install) when its buffer passes it.
LIMIT_KEY = "crossingguard_body_limit"
RESPONSE_LIMIT_KEY = "crossingguard_response_limit"   # the same for a response body


def declared_length(headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def over_limit(method: str, decision, role: str, mime: str, answered: bool):
    """What to do with a request body over the stream limit (module doc): "close", "read", "stream",
    or the hold Decision (agent.incidents.unreadable_hold: a student's text write to a platform)."""
    if answered:
        return "close"
    if decision is None or decision.platform is None or method.upper() not in WRITE_METHODS:
        return "stream"
    if mime.startswith("multipart/") and decision.verdict == "allow" and role not in STAFF_ROLES:
        return "read"
    held = unreadable_hold(decision, role, mime, None, "too_large")
    return held if held is not None else "stream"


class Bodies:
    name = "crossingguard_bodies"

    def __init__(self, core) -> None:
        self.core = core
        self.threshold: int | None = 2 * 1024 * 1024

    def load(self, loader) -> None:
        loader.add_option("crossingguard_stream_bodies", str, "2m",
                          "Bodies larger than this are streamed, not held in memory (k/m/g suffixes; empty: "
                          "never); a chunked body is held up to this size, then streamed. Blocked or "
                          "unreadable large student posts are refused; a student's large multipart post "
                          "is read while it streams.")
        install(self.body_over_limit)
        streamread.install()

    def configure(self, updated) -> None:
        if "crossingguard_stream_bodies" in updated:
            try:
                self.threshold = human.parse_size(ctx.options.crossingguard_stream_bodies or None)
            except ValueError as exc:
                raise exceptions.OptionsError(f"crossingguard_stream_bodies: {exc}") from None

    @guarded("bodies")
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if self.threshold is None:
            return
        size = declared_length(flow.request.headers)
        if size is None:
            # Length not declared: decided when (if) the buffered body passes the limit (module doc).
            # HTTP/1 has a body without a length only when it is chunked.
            if "transfer-encoding" in flow.request.headers or flow.request.is_http2 or flow.request.is_http3:
                flow.metadata[LIMIT_KEY] = self.threshold
            return
        if size > self.threshold:
            self.body_over_limit(flow, size)

    def body_over_limit(self, flow: http.HTTPFlow, size: int) -> bool:
        """Applies `over_limit` to a request whose body passed the limit (`size` bytes declared, or
        buffered so far); True when the flow was closed, False when it is to be streamed (then
        `flow.request.stream` is set: True, or the flow's StreamedPost)."""
        v = verdict_of(flow)
        mime = flow.request.headers.get("content-type", "").split(";")[0].strip().lower()
        role = getattr(v.subject, "role", "unknown")
        action = over_limit(flow.request.method, v.decision, role, mime, flow.response is not None)
        if action == "stream":
            flow.request.stream = True
            return False
        if action == "read":
            post = StreamedPost(flow, v.decision.platform,
                                text_cap=getattr(ctx.options, "crossingguard_post_max_bytes", 1_000_000),
                                late_after=self.threshold)
            flow.metadata[READER_KEY] = post
            flow.request.stream = post
            return False
        if action != "close":
            COUNTERS.inc(UNREADABLE_POSTS, v.decision.platform, "held")
            headers = flow.request.headers
            how = f"{size:,}-byte" if "content-length" in headers else \
                f"{'chunked' if 'transfer-encoding' in headers else 'undeclared-length'} (over {self.threshold:,} bytes)"
            log.warning("crossingguard: a %s %s post to %s by a student could not be read; held (request id %s)",
                        how, mime or "untyped", v.decision.platform, v.request_id)
            v.decision = action          # the activity line says held, with the rule
        flow.response = None             # a page would need the whole upload read first
        flow.kill()
        return True

    @guarded("bodies")
    def request(self, flow: http.HTTPFlow) -> None:
        """A streamed multipart post whose body could not be parsed (streamread) is held as
        unreadable, fail closed: the reader stopped sending it on, so it could not pass anyway."""
        post = flow.metadata.get(READER_KEY)
        if post is None or post.error is None or post.page is not None:
            return
        v = verdict_of(flow)
        role = getattr(v.subject, "role", "unknown")
        held = unreadable_hold(v.decision, role, "multipart/form-data", post.error, None)
        COUNTERS.inc(EXTRACTION_FAILURES, v.decision.platform, post.error)
        COUNTERS.inc(UNREADABLE_POSTS, v.decision.platform, "held" if held is not None else "passed")
        log.warning("crossingguard: a streamed multipart post to %s by a student could not be read (%s); held "
                    "(request id %s)", v.decision.platform, post.error, v.request_id)
        if held is None:      # never for the roles the reader is made for; the body is cut, so close it
            flow.kill()
            return
        v.decision = held
        post.page = block_response(self.core.state.policy, held, v.request_id, flow.request.headers.get("accept", ""))

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or self.threshold is None:
            return
        size = declared_length(flow.response.headers)
        if size is None:
            flow.metadata[RESPONSE_LIMIT_KEY] = self.threshold   # streamed once past it (install)
        elif size > self.threshold:
            flow.response.stream = True


# ---------------------------------------------------------------------------------------------
# Bodies without a declared length (module doc). mitmproxy's HTTP stream buffers such a body in
# `state_consume_request_body` and calls `check_body_size(True)` after every chunk; its own late
# switch to streaming (option stream_large_bodies) runs there without any hook, for every flow
# alike. We replace that method with one that, for a flow marked by `requestheaders` (LIMIT_KEY)
# whose buffer passed the limit, asks the addon: stream (mitmproxy's own switch, mirrored from
# 11.0.2: start_request_stream, then the buffer replayed as one RequestData) or close (the flow
# killed and check_killed run, as after a hook that killed it: error hook, connection closed).
# Everything else goes to mitmproxy's method unchanged. Checked by
# tests/architecture/test_mitmproxy_internals.py (item 13: names and source hashes).
_installed: dict = {}


def install(handler) -> None:
    """Patch mitmproxy's HTTP stream once per process; `handler(flow, size) -> closed?` is the
    addon's decision (the newest addon's, so a reloaded script is the one asked)."""
    from mitmproxy.proxy.layers import http as http_layer
    from mitmproxy.proxy.layers.http import RequestData, ResponseData

    _installed["handler"] = handler
    if "check_body_size" in _installed:
        return
    original = _installed["check_body_size"] = http_layer.HttpStream.check_body_size

    def check_body_size(self, request: bool):
        if not request and self.flow is not None and self.response_body_buf:
            limit = self.flow.metadata.get(RESPONSE_LIMIT_KEY)
            if limit is not None and len(self.response_body_buf) > limit and self.flow.response is not None:
                del self.flow.metadata[RESPONSE_LIMIT_KEY]     # a response is only ever streamed
                self.flow.response.stream = True
                body = bytes(self.response_body_buf)
                self.response_body_buf.clear()
                yield from self.start_response_stream()
                yield from self.handle_event(ResponseData(self.stream_id, body))
                return False
        buffered = len(self.request_body_buf) if request else 0
        limit = self.flow.metadata.get(LIMIT_KEY) if buffered and self.flow is not None else None
        if limit is None or buffered <= limit:
            return (yield from original(self, request))
        del self.flow.metadata[LIMIT_KEY]      # decided once
        try:
            closed = _installed["handler"](self.flow, buffered)
        except Exception:                      # fail closed: a body we could not decide is not relayed
            log.exception("crossingguard bodies: deciding an over-limit body failed; request closed")
            self.flow.kill()
            closed = True
        if closed:
            self.request_body_buf.clear()
            if not (yield from self.check_killed(True)):   # the handler always kills; never half-closed
                self.flow.kill()
                yield from self.check_killed(True)
            return True
        if not self.flow.request.stream:      # the handler set it (True, or a StreamedPost)
            self.flow.request.stream = True
        body = bytes(self.request_body_buf)
        self.request_body_buf.clear()
        yield from self.start_request_stream()
        yield from self.handle_event(RequestData(self.stream_id, body))
        return False

    http_layer.HttpStream.check_body_size = check_body_size


def uninstall() -> None:
    """Undo install() (tests)."""
    from mitmproxy.proxy.layers import http as http_layer
    if "check_body_size" in _installed:
        http_layer.HttpStream.check_body_size = _installed.pop("check_body_size")
    _installed.clear()
