"""Enforce addon: one policy decision per request, and the block page when it says block.

Decides in `requestheaders` (before a request body is read, so a blocked upload is refused without
buffering it). Teacher sessions come from the SessionCache snapshot (no database on the loop).

read_only (GET/HEAD/OPTIONS pass, writes blocked) is the engine's job (`decide` takes the method);
as a safety net, a write that comes back allowed with action read_only is blocked here too.

Every name a request is addressed to is judged and the stricter answer wins (fail closed): the
Host header, the TLS SNI, the host mitmproxy connects to, and the host of an absolute-form target
(`POST http://www.instagram.com/... HTTP/1.1` sent inside `CONNECT www.example.org:80` is judged
as Instagram, although mitmproxy's transparent HTTP layer sets request.host to the tunnel's name).

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

from agent.metrics import BLOCKS, COUNTERS, REQUESTS
from proxy_addons.blockpage import block_response
from proxy_addons.failmode import fail_mode_for, guarded
from proxy_addons.verdict import host_of, verdict_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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
        method = flow.request.method.upper()
        decision = decide_all_names(state.engine, v.subject, flow, method, now, sessions)
        v.decision = decision
        platform = decision.platform or "other"
        COUNTERS.inc(REQUESTS, platform, decision.verdict, decision.action, decision.cohort or "none")
        if decision.verdict == "block":
            COUNTERS.inc(BLOCKS, platform, decision.guideline or "none")
            flow.response = block_response(state.policy, decision, v.request_id,
                                           flow.request.headers.get("accept", ""))

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


def decide_all_names(engine, subject, flow, method: str, now, sessions):
    """One decision for every name the request is addressed to, the stricter one winning, with
    read_only's write rule applied (module doc)."""
    decision = engine.decide(subject, host_of(flow), method, now, sessions)
    for other in _other_names(flow):
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


def _as_block(decision):
    import dataclasses
    return dataclasses.replace(decision, verdict="block",
                               reason=decision.reason or "Only reading is allowed on this platform here.")
