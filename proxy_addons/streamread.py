"""Reading a large multipart post while it streams (issue 11: a multipart body over
crossingguard_stream_bodies used to count as media and pass unread, so a 2 MB file part carried any
caption, Discord `payload_json` or status past the filter).

For a student's (or unknown device's) multipart write to a platform, over the stream limit,
proxy_addons/bodies.py sets `flow.request.stream` to a `StreamedPost`. mitmproxy calls it with each
chunk (and with b"" at the end); it runs the streaming multipart reader
(classifiers/extract/multipart_stream.py), so file bytes go on to the site as they arrive while
text parts are captured (capped) and the tail of the body (at least the closing delimiter) is
WITHHELD. When the text before a file part is complete (text-first is what browsers and apps send)
the judgment starts at once, in the classifier pool, while the file streams: the Posts addon put
its starter in `flow.metadata[CLASSIFY_KEY]` (no addon calls another).

The end of the body: mitmproxy 11.0.2 sends a streamed request's end right after its `request`
hook, with no way for a hook to add bytes or to stop it. `install()` replaces the HTTP stream's
`state_stream_request_body` for flows with a StreamedPost (docs/mitmproxy-internals.md item 15):
at the end it runs the `request` hook (Bodies holds a body it could not parse, Posts awaits the
judgment: the same pipeline, incidents, counters and activity line as a buffered post), then
  - passed: the withheld tail, then the end of the message, as mitmproxy would have sent them;
  - held: the site's side is aborted (HTTP/1: the connection is closed; HTTP/2: the stream reset),
    so the site never receives a complete body, and the student gets the hold page: the client has
    sent its whole request by then, so a response is possible (as for a buffered held post). If
    the site already answered early, or no page was made, the client's connection is closed instead.

Choices made here, written down with their reasons (fail closed for students, as for every post
the filter cannot read):
  - the body ends while a judgment is still pending: the tail waits for it (asynchronously, in the
    `request` hook, bounded by the classifier pool's timeout); what the pool does on failure or
    timeout is what it does for a buffered post (fail open, counted: posts.py);
  - a text part after megabytes of file (`late_text`), a body the reader cannot parse (no boundary,
    a malformed or oversized part header, too many parts, no closing delimiter, an encoded body):
    nothing more is sent on and the post is held as unreadable;
  - the client goes away mid-body: mitmproxy closes the site's side too; nothing is judged;
  - an exception inside the stream callable (a bug, a judgment that cannot be started): it runs in
    mitmproxy's HTTP layer, where it would break the connection, so it is caught, counted
    (crossingguard_addon_errors_total{addon="streamread"}) and the post held as unreadable.
Counted in crossingguard_streamed_posts_total{platform, action="passed"|"held"}.
"""
from __future__ import annotations

import asyncio
import logging
import time

from agent.metrics import ADDON_ERRORS, COUNTERS, STREAMED_POSTS
from classifiers.extract.multipart_stream import StreamingMultipart, encode_text

log = logging.getLogger("crossingguard.streamread")

READER_KEY = "crossingguard_stream_reader"     # flow.metadata: the flow's StreamedPost
CLASSIFY_KEY = "crossingguard_stream_classify"  # flow.metadata: Posts' starter, (flow, body) -> (Job, Task)


class StreamedPost:
    """The stream callable of one upload (module doc); its state is read by Bodies and Posts."""

    def __init__(self, flow, platform: str, *, text_cap: int, late_after: int | None) -> None:
        headers = flow.request.headers
        self.reader = StreamingMultipart(headers.get("content-type", ""), text_cap=text_cap, late_after=late_after)
        if headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
            self.reader.refuse("bad_encoding")  # compressed on the wire: the parts cannot be read as they pass
        self.platform = platform
        self._flow = flow
        self.job = None                         # the Job of the latest judgment (Posts reads it)
        self.task: asyncio.Future | None = None  # its classification
        self.tail: bytes | None = None          # withheld until the judgment (set by finish)
        self.page = None                        # set by Bodies or Posts: the post is held, with this page

    @property
    def error(self) -> str | None:
        return self.reader.error

    def __call__(self, chunk: bytes) -> bytes:
        if not chunk:
            return b""        # the end: install() finishes the body after the judgment (module doc)
        try:
            out = self.reader.feed(chunk)
            if self.reader.ready:
                self._start()
            return out
        except Exception:
            # Runs inside mitmproxy's HTTP layer, where an exception would break the connection.
            # Fail closed (a post we could not read, held at the end), counted and logged.
            self._broke("reading")
            return b""

    def finish(self) -> None:
        try:
            self.tail = self.reader.finish()
            if self.reader.ready:
                self._start()
        except Exception:
            self._broke("finishing")
            self.tail = b""

    def _broke(self, when: str) -> None:
        COUNTERS.inc(ADDON_ERRORS, "streamread")
        log.exception("crossingguard streamread: %s a streamed multipart body failed; the post will be held", when)
        self.reader.refuse("internal_error")

    def _start(self) -> None:
        """Start judging the text captured so far (a later start supersedes an earlier one)."""
        parts = self.reader.take_text()
        flow = self._flow
        starter = flow.metadata.get(CLASSIFY_KEY) if flow is not None else None
        if starter is None or not parts:
            return            # posts are not judged (classification off): nothing to start
        if self.task is not None:
            self.task.cancel()
        self.job, self.task = starter(flow, encode_text(self.reader.delim, parts))
        self.task.add_done_callback(_retrieved)

    def release(self) -> None:
        """The flow is over: drop the reference cycle (flow.metadata -> self -> flow)."""
        self._flow = None


def _retrieved(task: asyncio.Future) -> None:
    """A superseded or abandoned judgment (client gone) must not log 'exception never retrieved'."""
    if not task.cancelled():
        task.exception()


# ---------------------------------------------------------------------------------------------
# The end of a streamed body (module doc). mitmproxy 11.0.2's HttpStream.state_stream_request_body
# calls the stream callable with b"" on RequestEndOfMessage, yields HttpRequestHook, sets
# client_state = state_done, sends trailers and the end of message, and ends the flow if the
# response is done. For a flow whose stream is a StreamedPost the end is replaced by ours (mirrored
# from 11.0.2, plus the hold); every other event and flow goes to mitmproxy's method unchanged.
# Checked by tests/architecture/test_mitmproxy_internals.py (item 15: names and source hashes).
_installed: dict = {}


def install() -> None:
    from mitmproxy.flow import Error
    from mitmproxy.http import status_codes
    from mitmproxy.proxy.layers import http as http_layer
    from mitmproxy.proxy.layers.http import (HttpRequestHook, HttpResponseHeadersHook, RequestData,
                                             RequestEndOfMessage, RequestProtocolError, RequestTrailers,
                                             SendHttp)

    if "state_stream_request_body" in _installed:
        return
    original = _installed["state_stream_request_body"] = http_layer.HttpStream.state_stream_request_body

    def state_stream_request_body(self, event):
        flow = self.flow
        post = flow.metadata.get(READER_KEY) if flow is not None else None
        if post is None or not isinstance(event, RequestEndOfMessage) or flow.request.stream is not post:
            return (yield from original(self, event))
        post.finish()
        flow.request.timestamp_end = time.time()
        yield HttpRequestHook(flow)       # Bodies and Posts judge; Activity writes the line
        post.release()
        platform = post.platform
        killed = flow.error is not None
        if post.page is None and not killed and post.tail is not None and post.error is None:
            COUNTERS.inc(STREAMED_POSTS, platform, "passed")
            if post.tail:
                yield SendHttp(RequestData(self.stream_id, post.tail), self.context.server)
            self.client_state = self.state_done
            if flow.request.trailers:
                yield SendHttp(RequestTrailers(self.stream_id, flow.request.trailers), self.context.server)
            yield SendHttp(event, self.context.server)
            if self.server_state == self.state_done:
                yield from self.flow_done()
            return
        # Held (or unreadable, or killed by an addon): the site never gets the rest of the body.
        COUNTERS.inc(STREAMED_POSTS, platform, "held")
        yield SendHttp(RequestProtocolError(self.stream_id, "post held by the filter", status_codes.NO_RESPONSE),
                       self.context.server)
        if post.page is None or killed or self.server_state != self.state_wait_for_response_headers:
            if not (flow.error and flow.error.msg == Error.KILLED_MESSAGE):
                flow.error, flow.live = Error(Error.KILLED_MESSAGE), False
            yield from self.check_killed(True)    # the client's connection is closed, no page
            return
        # As for a buffered post held by an addon (state_consume_request_body): the page is sent.
        flow.response = post.page
        self.client_state = self.state_done
        flow.response.timestamp_start = time.time()
        yield HttpResponseHeadersHook(flow)
        if (yield from self.check_killed(True)):
            return
        yield from self.send_response()
        # The aborted site connection reports its closing later: nothing more is relayed for it.
        self.client_state = self.server_state = self.state_errored

    http_layer.HttpStream.state_stream_request_body = state_stream_request_body


def uninstall() -> None:
    """Undo install() (tests)."""
    from mitmproxy.proxy.layers import http as http_layer
    if "state_stream_request_body" in _installed:
        http_layer.HttpStream.state_stream_request_body = _installed.pop("state_stream_request_body")
    _installed.clear()
