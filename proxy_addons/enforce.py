"""Enforce addon: one policy decision per request, and the block page when it says block.

Decides in `requestheaders` (before a request body is read, so a blocked upload is refused without
buffering it). Teacher sessions come from the SessionCache snapshot (no database on the loop).

read_only (GET/HEAD/OPTIONS pass, writes blocked) is the engine's job (`decide` takes the method);
as a safety net, a write that comes back allowed with action read_only is blocked here too.
"""
from __future__ import annotations

from datetime import datetime, timezone

from mitmproxy import http

from agent.metrics import BLOCKS, COUNTERS, REQUESTS
from proxy_addons.blockpage import block_response
from proxy_addons.guard import guarded
from proxy_addons.verdict import host_of, verdict_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
        decision = state.engine.decide(v.subject, host_of(flow), method, now, sessions)
        for other in _other_names(flow):
            # Host header and TLS SNI disagree (domain fronting, or a malformed Host): the
            # stricter answer wins, so "Host: example.org" inside an instagram.com tunnel is
            # judged as Instagram. Fail-closed choice, written down here.
            alt = state.engine.decide(v.subject, other, method, now, sessions)
            decision = _stricter(decision, alt)
        if is_write_under_read_only(decision, method):
            decision = _as_block(decision)
        v.decision = decision
        platform = decision.platform or "other"
        COUNTERS.inc(REQUESTS, platform, decision.verdict, decision.action, decision.cohort or "none")
        if decision.verdict == "block":
            COUNTERS.inc(BLOCKS, platform, decision.guideline or "none")
            flow.response = block_response(state.policy, decision, v.request_id,
                                           flow.request.headers.get("accept", ""))


def _other_names(flow) -> tuple[str, ...]:
    """Names this request is also addressed to, when they differ from the Host header: the TLS
    SNI, and the host mitmproxy will actually connect to (absolute-form URL or CONNECT target)."""
    host = host_of(flow)
    others = []
    for name in (flow.client_conn.sni, flow.request.host):
        name = (name or "").lower().rstrip(".")
        if name and name != host and name not in others:
            others.append(name)
    return tuple(others)


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
