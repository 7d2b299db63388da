"""Pass-through addon: the decision to intercept only what the policy must see.

What is intercepted, per TLS connection, judged on every name the connection is addressed to (the
TLS SNI and the CONNECT host, a name or an address (the catalog lists DoH resolver addresses)):
  - a configured certificate-pinned host (policy ignore_hosts)  -> tunnel untouched   (TUNNELS "ignored")
  - engine.must_intercept(host): catalog platforms (including the search and YouTube platforms
    SafeSearch rewrites), DoH resolvers, hosts blocked with a page
                                                               -> intercept         (TUNNELS "intercepted")
  - crossingguard.internal (the report page the proxy serves)  -> intercept         (TUNNELS "intercepted")
  - anything else                                              -> tunnel untouched   (TUNNELS "passthrough")
When the SNI and the CONNECT name disagree, the stricter answer wins (domain fronting: "CONNECT
ordinary.example" with SNI instagram.com is intercepted, and Enforce then judges it as Instagram).

Where the decision is applied (earliest first: the `next_layer` decider and the layers that answer
or relay a tunnel themselves) is `proxy_addons/tunnel.py`; this module answers "intercept?" for a
set of names and handles the `tls_clienthello` and `http_connect` hooks.

Pinned hosts the subject may not use: in explicit-proxy mode the CONNECT is refused (403, the
tunnel never opens) in `http_connect` rather than intercepted. In transparent mode there is no
CONNECT to refuse; the decision then intercepts instead of tunnelling, and the request is
blocked with a page (a pinned client fails its TLS check: the connection dies either way).

Nameless tunnels (issue 11): a connection whose only names are addresses (a CONNECT to an IP
literal in any form a resolver reads: dotted, decimal, octal, hex, IPv6, NAT64; and no SNI in the
ClientHello) gives the policy nothing to judge, and an app could name Instagram in the Host header
inside. For everyone but staff it is intercepted, so the Host inside is judged by Enforce (its TLS
gets a certificate for the address; bytes that are neither TLS nor HTTP are refused as for
platforms). The catalog's published address ranges make an address in Meta's, Google's or X's
network count as that platform whatever the SNI says. And `CONNECT host:853` (DNS over TLS) is
refused for everyone but staff: a private resolver skips the district's DNS filter.

Fail mode: any error while deciding leaves the connection to mitmproxy's default, interception
(failmode.py: connection-level hooks fail towards inspection); the per-request hooks then decide.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from mitmproxy import http

from agent.metrics import BLOCKS, COUNTERS, REFUSED, REQUESTS, TUNNELS
from agent.policy.catalog import normalize_address
from agent.policy.model import STAFF_ROLES
from agent.reports import REPORT_HOST
from proxy_addons.failmode import guarded
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.passthrough")


DOT_PORT = 853   # DNS over TLS: refused for everyone but staff (module doc)


def is_ip_literal(host: str) -> bool:
    """An address in any form a resolver reads as one (dotted, decimal 2130706433, octal, hex,
    IPv6, IPv4-mapped, NAT64): the catalog's normalize_address decides."""
    return normalize_address(host) is not None


def is_nameless(names: list[str]) -> bool:
    """A connection with nothing but addresses to judge (no SNI, an IP-literal destination)."""
    return bool(names) and all(is_ip_literal(n) for n in names)


def _norm(host) -> str:
    return str(host or "").lower().rstrip(".")


def connection_names(sni: str | None, address_host: str | None) -> list[str]:
    """The names a TLS connection is addressed to: its SNI and the CONNECT/destination host, name or
    address. An address counts even when there is an SNI: a DoH client may connect to 1.1.1.1 and
    name an ordinary host in its ClientHello (the catalog matches listed addresses exactly)."""
    names = []
    sni, host = _norm(sni), _norm(address_host)
    if sni:
        names.append(sni)
    if host and host not in names:
        names.append(host)
    return names


class Passthrough:
    name = "crossingguard_passthrough"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core, identity) -> None:
        self.core = core
        self.identity = identity
        # client connection id -> why its site could not be reached (a direct tunnel that failed):
        # such a connection is intercepted to show the upstream failure page (upstream.py).
        self.unreachable: dict[str, str] = {}

    def mark_unreachable(self, client_conn, message: str) -> None:
        self.unreachable[client_conn.id] = message

    def client_disconnected(self, client) -> None:
        self.unreachable.pop(client.id, None)

    def should_intercept(self, host: str, client_conn) -> tuple[bool, str]:
        """(intercept?, reason) for a TLS connection to `host` from `client_conn`."""
        engine = self.core.require().engine
        host = _norm(host)
        if host == REPORT_HOST:
            return True, "intercepted"   # the proxy answers it itself (proxy_addons/report.py)
        if engine.is_ignored(host):
            if self._blocked_for(host, client_conn):
                # Transparent mode (no CONNECT was refused): never tunnel a platform the subject
                # may not use; intercept so the request gets the block page. Fail closed.
                return True, "intercepted"
            return False, "ignored"
        if engine.must_intercept(host):
            return True, "intercepted"   # includes the search/YouTube platforms SafeSearch rewrites
        return False, "passthrough"

    def decide_names(self, names: list[str], client_conn) -> tuple[bool, str]:
        """Stricter of the answers for every name: intercept if any name needs it. A tunnel with
        no name at all (module doc: nameless tunnels) is intercepted for everyone but staff."""
        if client_conn is not None and self.unreachable and client_conn.id in self.unreachable:
            return True, "intercepted"   # only to show the upstream failure page (upstream.py)
        if is_nameless(names):
            _, subject = self.identity.subject_for_connection(client_conn)
            if getattr(subject, "role", "unknown") not in STAFF_ROLES:
                return True, "intercepted"
        reasons = []
        for name in names:
            intercept, reason = self.should_intercept(name, client_conn)
            if intercept:
                return True, reason
            reasons.append(reason)
        return False, ("ignored" if "ignored" in reasons else "passthrough")

    def passes_by_name(self, host: str) -> bool:
        """Whether a CONNECT to this host NAME passes through for every subject (no identity needed):
        the condition for the direct tunnel (module doc, step 1)."""
        engine = self.core.require().engine
        host = _norm(host)
        return bool(host) and host != REPORT_HOST and not is_ip_literal(host) and \
            not engine.is_ignored(host) and not engine.must_intercept(host) and \
            host != "localhost" and not host.endswith(".localhost")   # Destinations refuses those

    def must_inspect(self, names: list[str], client_conn) -> bool:
        """Whether a connection to these names may not pass unread; an error counts as yes
        (fail closed: TLS/HTTP are then inspected, anything else is refused; module doc)."""
        try:
            return bool(names) and self.decide_names(names, client_conn)[0]
        except Exception:
            log.exception("crossingguard: deciding a tunnel failed; treating it as one to inspect")
            return True

    def count_refused(self, names: list[str], client_conn) -> None:
        """Counts a refused tunnel; a block too when the policy blocks its platform for the subject."""
        COUNTERS.inc(TUNNELS, "refused")
        try:
            engine = self.core.require().engine
            _, subject = self.identity.subject_for_connection(client_conn)
            now = datetime.now(timezone.utc)
            for name in names:
                if engine.catalog.match(name) is None:
                    continue
                decision = engine.decide(subject, name, "GET", now, ())
                if decision.verdict == "block":
                    COUNTERS.inc(BLOCKS, decision.platform or "other", decision.guideline or "none")
                    return
        except Exception:   # counting only: the connection is refused anyway
            log.exception("crossingguard: counting a refused tunnel failed")

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
        address = data.context.server.address
        names = connection_names(data.client_hello.sni, address[0] if address else None)
        if not names:
            return   # nothing to decide on: mitmproxy's default (intercept)
        intercept, reason = self.decide_names(names, data.context.client)
        COUNTERS.inc(TUNNELS, reason)
        if not intercept:
            data.ignore_connection = True

    @guarded("passthrough")
    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        state = self.core.require()
        host = flow.request.host.lower().rstrip(".")
        if flow.request.port == DOT_PORT:
            v = verdict_of(flow)
            if v.subject is None:
                v.identity, v.subject = self.identity.lookup(flow.client_conn, None)
            if getattr(v.subject, "role", "unknown") not in STAFF_ROLES:
                # DNS over TLS: a private resolver the district filter never sees (student guideline 1).
                COUNTERS.inc(REFUSED, "dot_port")
                flow.response = http.Response.make(
                    403, f"Private DNS (port {DOT_PORT}) is blocked on the school network. Request id {v.request_id}\n".encode(),
                    {"Content-Type": "text/plain; charset=utf-8", "X-CrossingGuard-Request-Id": v.request_id})
                return
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
