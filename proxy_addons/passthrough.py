"""Pass-through addon: intercept only what the policy must see, tunnel everything else untouched.

Decided per TLS connection in `tls_clienthello` (SNI, or the CONNECT target when there is no SNI):
  - a configured certificate-pinned host (policy ignore_hosts)  -> tunnel untouched   (TUNNELS "ignored")
  - engine.must_intercept(host): catalog platforms, DoH resolvers, hosts blocked with a page
                                                               -> intercept         (TUNNELS "intercepted")
  - a search/YouTube host for a subject that gets SafeSearch    -> intercept (headers/params are added)
  - anything else                                              -> tunnel untouched   (TUNNELS "passthrough")
Interception costs ~2 ms CPU per request and ~10 ms per TLS handshake here; a tunnel ~0.09 ms.

Pinned hosts the subject may not use: in explicit-proxy mode the CONNECT is refused (403, the
tunnel never opens) in `http_connect` rather than intercepted. In transparent mode there is no
CONNECT to refuse; `tls_clienthello` then intercepts instead of tunnelling, and the request is
blocked with a page (a pinned client fails its TLS check: the connection dies either way).
"""
from __future__ import annotations

from datetime import datetime, timezone

from mitmproxy import http

from agent.metrics import BLOCKS, COUNTERS, REQUESTS, TUNNELS
from proxy_addons.guard import guarded
from proxy_addons.safesearch import is_safesearch_host
from proxy_addons.verdict import verdict_of


def _host_of(data) -> str | None:
    sni = data.client_hello.sni
    if sni:
        return sni
    address = data.context.server.address
    return str(address[0]) if address else None


class Passthrough:
    name = "crossingguard_passthrough"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core, identity) -> None:
        self.core = core
        self.identity = identity

    def should_intercept(self, host: str, client_conn) -> tuple[bool, str]:
        """(intercept?, reason) for a TLS connection to `host` from `client_conn`."""
        engine = self.core.require().engine
        host = host.lower().rstrip(".")
        if engine.is_ignored(host):
            if self._blocked_for(host, client_conn):
                # Transparent mode (no CONNECT was refused): never tunnel a platform the subject
                # may not use; intercept so the request gets the block page. Fail closed.
                return True, "intercepted"
            return False, "ignored"
        if engine.must_intercept(host):
            return True, "intercepted"
        if is_safesearch_host(host):
            _, subject = self.identity.subject_for_connection(client_conn)
            if engine.safesearch(subject):
                return True, "intercepted"
        return False, "passthrough"

    def _blocked_for(self, host: str, client_conn) -> bool:
        engine = self.core.require().engine
        if engine.catalog.match(host) is None:
            return False
        _, subject = self.identity.subject_for_connection(client_conn)
        return engine.decide(subject, host, "GET", datetime.now(timezone.utc), ()).verdict == "block"

    @guarded("passthrough")
    def tls_clienthello(self, data) -> None:
        if data.ignore_connection:
            return   # someone (e.g. mitmproxy's own --ignore-hosts) already decided
        host = _host_of(data)
        if not host:
            return   # nothing to decide on: mitmproxy's default (intercept)
        intercept, reason = self.should_intercept(host, data.context.client)
        COUNTERS.inc(TUNNELS, reason)
        if not intercept:
            data.ignore_connection = True

    @guarded("passthrough")
    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        state = self.core.require()
        host = flow.request.host.lower().rstrip(".")
        if not state.engine.is_ignored(host):
            return
        v = verdict_of(flow)
        if v.subject is None:
            v.identity, v.subject = self.identity.lookup(flow.client_conn, None)
        decision = state.engine.decide(v.subject, host, "GET", datetime.now(timezone.utc), ())
        v.decision = decision
        if decision.verdict == "block":
            # Kill rather than intercept: a pinned app would reject our certificate anyway.
            platform = decision.platform or "other"
            COUNTERS.inc(REQUESTS, platform, decision.verdict, decision.action, decision.cohort or "none")
            COUNTERS.inc(BLOCKS, platform, decision.guideline or "none")
            flow.response = http.Response.make(
                403, f"Blocked by district policy ({decision.guideline}). Request id {v.request_id}\n".encode(),
                {"Content-Type": "text/plain; charset=utf-8", "X-CrossingGuard-Request-Id": v.request_id})
