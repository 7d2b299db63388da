"""Enforce addon: one policy decision per request, and the block page when it says block.

Decides in `requestheaders` (before a request body is read, so a blocked upload is refused without
buffering it). Teacher sessions come from the SessionCache snapshot (no database on the loop).

read_only (GET/HEAD/OPTIONS pass, writes blocked) is the engine's job (`decide` takes the method);
as a safety net, a write that comes back allowed with action read_only is blocked here too.

Every name a request is addressed to is judged and the stricter answer wins (fail closed): the
Host header, the TLS SNI, the host mitmproxy connects to, and the host of an absolute-form target
(`POST http://www.instagram.com/... HTTP/1.1` sent inside `CONNECT www.example.org:80` is judged
as Instagram, although mitmproxy's transparent HTTP layer sets request.host to the tunnel's name).

More than one Host (two Host fields, or one with a comma-joined list): answered 400 as RFC 9112
section 3.2 requires, never forwarded; every name in it is still judged, so the activity line names
the strictest platform (crossingguard_refused_total{reason="duplicate_host"}).

What counts as a write (issue 11): not the method alone. A GET/HEAD/OPTIONS that carries a body
(Content-Length above 0, any Transfer-Encoding, or body bytes that arrive anyway: HTTP/2) or any
method-override header (X-HTTP-Method-Override, X-Method-Override, X-HTTP-Method) is judged as a
POST, so read_only and write rules apply to it. Frameworks honour those headers; a proxy that did
not would let a "GET" create a comment.

DNS over HTTPS by its shape (issue 11): a request with `Content-Type` or `Accept`
`application/dns-message`, or a path `/dns-query` (RFC 8484's conventional endpoint), is a DoH
query whatever host it goes to (an unlisted resolver, a resolver behind an ordinary name): it is
also judged as the catalog's DoH category, so the policy's DoH rules apply to it.

WebSocket messages (`websocket_message`): the upgrade is a GET, which read_only allows and which
was decided when the socket opened; each message from the client is a write. So a client message
on a flow the policy decided is re-judged as a POST with the teacher sessions active NOW: under
read_only, or once the teacher session that allowed the platform has ended, it is dropped (not
relayed). The decision is cached per flow and recomputed when the session snapshot, the loaded
policy or the minute changes (time-of-day rules). Fail mode: if deciding raises, the message is
dropped for roles whose fail mode is block (students), as for requests.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from mitmproxy import http
from mitmproxy.net.http import url

from agent.metrics import BLOCKS, COUNTERS, REFUSED, REQUESTS
from proxy_addons.blockpage import block_response
from proxy_addons.failmode import fail_mode_for, guarded
from proxy_addons.verdict import host_of, verdict_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OVERRIDE_HEADERS = ("x-http-method-override", "x-method-override", "x-http-method")


def effective_method(method: str, headers) -> str:
    """The method a request is judged as: a safe method carrying a body or an override header is a
    write (module doc), judged as POST."""
    method = method.upper()
    if method not in SAFE_METHODS:
        return method
    if any(h in headers for h in OVERRIDE_HEADERS) or "transfer-encoding" in headers:
        return "POST"
    length = headers.get("content-length", "").strip()
    if length and length != "0":
        return "POST"     # a length that is not a number is a body too (mitmproxy rejects it anyway)
    return method


DNS_MESSAGE = "application/dns-message"


def is_doh_request(request) -> bool:
    """A DNS-over-HTTPS query by its shape (module doc)."""
    headers = request.headers
    if DNS_MESSAGE in headers.get("content-type", "").lower() or DNS_MESSAGE in headers.get("accept", "").lower():
        return True
    path = request.path.split("?", 1)[0].rstrip("/").lower()
    return path == "/dns-query" or path.endswith("/dns-query")


_doh_names: dict[int, str] = {}


def doh_name(engine) -> str | None:
    """A name the catalog files under the DoH category (judging a request as DoH means judging it
    as a request to that name); None when the catalog has no DoH platform."""
    key = id(engine.catalog)
    if key not in _doh_names:
        name = next((p.domains[0] for p in engine.catalog if p.category == "doh" and p.domains), None)
        if len(_doh_names) > 16:
            _doh_names.clear()
        _doh_names[key] = name
    return _doh_names[key]


def host_values(headers) -> list[str]:
    """Every Host value a request carries: each Host field, each comma-separated item."""
    return [item.strip() for value in headers.get_all("host") for item in value.split(",")]
WS_KEY = "crossingguard_ws"   # flow.metadata: per-flow WebSocket re-decision cache (WsState)


@dataclass
class WsState:
    """The last re-decision of a WebSocket flow's client messages, and whether one was dropped."""
    key: tuple = ()
    decision: object = None
    dropped: bool = False


def is_write_under_read_only(decision, method: str) -> bool:
    return decision.action == "read_only" and decision.verdict == "allow" and method not in SAFE_METHODS


class Enforce:
    name = "crossingguard_enforce"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core, sessions=None) -> None:
        self.core = core
        self.sessions = sessions

    @guarded("enforce")
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        v = verdict_of(flow)
        if v.subject is None or v.decision is not None:
            return   # identity failed (fail mode already applied) or already decided
        state = self.core.require()
        now = datetime.now(timezone.utc)
        sessions = self.sessions.active(now) if self.sessions is not None else ()
        method = effective_method(flow.request.method, flow.request.headers)
        hosts = host_values(flow.request.headers)
        extra = list(hosts) if len(hosts) > 1 else []
        if is_doh_request(flow.request):
            name = doh_name(state.engine)
            if name:
                extra.append(name)
        decision = decide_all_names(state.engine, v.subject, flow, method, now, sessions, extra=extra)
        if len(hosts) > 1:
            decision = _as_block(decision, "A request may name only one host.")
        v.decision = decision
        platform = decision.platform or "other"
        COUNTERS.inc(REQUESTS, platform, decision.verdict, decision.action, decision.cohort or "none")
        if len(hosts) > 1:
            COUNTERS.inc(REFUSED, "duplicate_host")
            flow.response = http.Response.make(
                400, f"Bad request: more than one Host (RFC 9112 section 3.2). Request id {v.request_id}\n".encode(),
                {"Content-Type": "text/plain; charset=utf-8", "X-CrossingGuard-Request-Id": v.request_id,
                 "Connection": "close"})
            return
        if decision.verdict == "block":
            COUNTERS.inc(BLOCKS, platform, decision.guideline or "none")
            flow.response = block_response(state.policy, decision, v.request_id,
                                           flow.request.headers.get("accept", ""))

    @guarded("enforce")
    def request(self, flow: http.HTTPFlow) -> None:
        """A body that arrived on a request judged as a read (HTTP/2 DATA without a length): judge
        it again as a write (module doc)."""
        if flow.response is not None or not flow.request.raw_content:
            return
        v = verdict_of(flow)
        if v.subject is None or v.decision is None or v.decision.verdict == "block":
            return
        if effective_method(flow.request.method, flow.request.headers) != flow.request.method.upper():
            return   # already judged as a write
        if flow.request.method.upper() not in SAFE_METHODS:
            return
        state = self.core.require()
        now = datetime.now(timezone.utc)
        sessions = self.sessions.active(now) if self.sessions is not None else ()
        decision = decide_all_names(state.engine, v.subject, flow, "POST", now, sessions)
        if decision.verdict != "block":
            return
        v.decision = decision
        COUNTERS.inc(BLOCKS, decision.platform or "other", decision.guideline or "none")
        flow.response = block_response(state.policy, decision, v.request_id, flow.request.headers.get("accept", ""))

    @guarded("enforce")
    def websocket_message(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None or not flow.websocket.messages:
            return
        message = flow.websocket.messages[-1]
        if not message.from_client or message.dropped:
            return
        v = verdict_of(flow)
        if v.subject is None or v.decision is None or v.failed is not None:
            return   # not decided by the policy (identity failed: the fail mode already applied)
        ws = flow.metadata.get(WS_KEY)
        if ws is None:
            ws = flow.metadata[WS_KEY] = WsState()
        try:
            decision = self._message_decision(flow, v, ws)
        except Exception:
            # Fail mode for the subject's role (failmode.py), then let @guarded log and count it.
            state = self.core.state
            if fail_mode_for(state.policy if state else None, getattr(v.subject, "role", None)) == "block":
                message.drop()
            raise
        if decision.verdict != "block":
            return
        message.drop()
        if not ws.dropped:
            ws.dropped = True   # one block per socket in the counters, not one per message
            COUNTERS.inc(BLOCKS, decision.platform or "other", decision.guideline or "none")

    def _message_decision(self, flow, v, ws: WsState):
        """The flow's decision for a client message (a write), cached while nothing it depends on
        changes: the active sessions, the loaded policy, the minute."""
        now = datetime.now(timezone.utc)
        sessions = self.sessions.active(now) if self.sessions is not None else ()
        key = (sessions, getattr(self.core, "generation", 0), int(now.timestamp()) // 60)
        if ws.decision is None or ws.key != key:
            engine = self.core.require().engine
            ws.decision = decide_all_names(engine, v.subject, flow, "POST", now, sessions)
            ws.key = key
        return ws.decision


def decide_all_names(engine, subject, flow, method: str, now, sessions, extra=()):
    """One decision for every name the request is addressed to (plus `extra` names, e.g. each of
    several Host values), the stricter one winning, with read_only's write rule applied (module doc)."""
    decision = engine.decide(subject, host_of(flow), method, now, sessions)
    for other in (*_other_names(flow), *_names_of(extra)):
        # Host header and TLS SNI / URL host disagree (domain fronting, or a malformed Host):
        # the stricter answer wins, so "Host: example.org" inside an instagram.com tunnel is
        # judged as Instagram. Fail-closed choice, written down here.
        decision = _stricter(decision, engine.decide(subject, other, method, now, sessions))
    if is_write_under_read_only(decision, method):
        decision = _as_block(decision)
    return decision


def _other_names(flow) -> tuple[str, ...]:
    """Names this request is also addressed to, when they differ from the Host header: the TLS
    SNI, the host mitmproxy will actually connect to (CONNECT target / transparent destination),
    and the host of an absolute-form target as the client sent it (request.authority; in a
    tunnel mitmproxy overwrites request.host with the tunnel's name, not the URL's)."""
    host = host_of(flow)
    others = []
    for name in (flow.client_conn.sni, flow.request.host, _authority_host(flow.request)):
        name = (name or "").lower().rstrip(".")
        if name and name != host and name not in others:
            others.append(name)
    return tuple(others)


def _names_of(values) -> list[str]:
    out = []
    for value in values:
        try:
            host, _ = url.parse_authority(value, check=False)
        except ValueError:
            host = value
        host = (host or "").lower().rstrip(".")
        if host:
            out.append(host)
    return out


def _authority_host(request) -> str:
    """Host part of the request's authority (absolute-form URL, or HTTP/2 :authority)."""
    authority = request.authority
    if not authority or request.method == "CONNECT":
        return ""
    try:
        host, _ = url.parse_authority(authority, check=False)
    except ValueError:
        return authority   # judged as sent: a name nothing matches decides nothing
    return host


def _stricter(a, b):
    if a.verdict != b.verdict:
        return a if a.verdict == "block" else b
    if a.platform is None and b.platform is not None:
        return b            # same verdict: keep the one that names a platform (for the log)
    return a


def _as_block(decision, reason: str | None = None):
    import dataclasses
    return dataclasses.replace(decision, verdict="block",
                               reason=reason or decision.reason or "Only reading is allowed on this platform here.")
