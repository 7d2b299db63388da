"""Identity addon: who is behind a flow, cached per client connection.

Sources, in order (agent.identity.IdentityResolver): the proxy-auth user that mitmproxy's
built-in `proxyauth` addon validated (it leaves (user, password) in flow.metadata["proxyauth"],
and remembers CONNECT-authenticated connections), then the device registry by client IP, else
`unknown` (treated as under 13 by the policy).

The resolution is a few dict lookups, done once per client connection and kept in a
WeakKeyDictionary (it disappears with the connection). The Subject (age, cohort inputs) depends on
the date, so it is recomputed at most once a minute per connection.

Proxy auth and the event loop: mitmproxy's proxyauth validators run synchronously on the event
loop. An htpasswd file is checked in memory (fast, recommended). The LDAP validator performs a
network bind per CONNECT (and per request on plain-HTTP connections): a slow directory stalls every
connection. Use htpasswd (synced from the directory), or keep LDAP to small sites, and prefer the
device registry for district devices. mitmproxy 11.0.2's LDAP validator also lacks the upstream
fix for LDAP filter injection in the username (fixed in 12.x): another reason to prefer htpasswd.
"""
from __future__ import annotations

import logging
import time
import weakref
from datetime import datetime, timezone

from mitmproxy import ctx, http

from agent.metrics import COUNTERS, IDENTITY
from proxy_addons.failmode import guarded
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.identity")

SUBJECT_TTL = 60.0   # seconds a computed Subject (age on today's date) is reused per connection


class _Entry:
    __slots__ = ("auth_user", "identity", "subject", "expires", "generation")

    def __init__(self, auth_user, identity, subject, expires, generation):
        self.auth_user, self.identity, self.subject = auth_user, identity, subject
        self.expires, self.generation = expires, generation


def _client_ip(client_conn) -> str:
    peer = getattr(client_conn, "peername", None)
    if not peer:
        return ""
    ip = str(peer[0])
    return ip[7:] if ip.startswith("::ffff:") else ip   # IPv4-mapped IPv6 from dual-stack sockets


def _proxyauth_user_for(client_conn) -> str | None:
    """The user proxyauth authenticated on this connection's CONNECT, if any (no flow yet)."""
    try:
        pa = ctx.master.addons.get("proxyauth")
    except Exception:
        return None
    authenticated = getattr(pa, "authenticated", None)
    if not authenticated:
        return None
    creds = authenticated.get(client_conn)
    return creds[0] if creds else None


class IdentityAddon:
    name = "crossingguard_identity"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core) -> None:
        self.core = core
        self._cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def configure(self, updated) -> None:
        if "proxyauth" in updated:
            spec = getattr(ctx.options, "proxyauth", None) or ""
            if spec.startswith("ldap"):
                # The limit we can enforce from here is to say it loudly once (module doc).
                log.warning("proxyauth uses LDAP: each login binds to the directory ON the event loop, "
                            "stalling every connection while it waits; prefer an htpasswd file synced "
                            "from the directory, or the device registry")

    def lookup(self, client_conn, auth_user: str | None):
        """(Identity, Subject) for a client connection, from the cache when still valid."""
        state = self.core.require()
        now = time.time()
        entry = self._cache.get(client_conn)
        if entry is not None and entry.auth_user == auth_user and entry.generation == self.core.generation:
            if now < entry.expires:
                return entry.identity, entry.subject
            entry.subject = state.engine.subject(entry.identity, datetime.now(timezone.utc))
            entry.expires = now + SUBJECT_TTL
            return entry.identity, entry.subject
        identity = state.resolver.resolve(auth_user=auth_user, client_ip=_client_ip(client_conn))
        COUNTERS.inc(IDENTITY, identity.source)
        subject = state.engine.subject(identity, datetime.now(timezone.utc))
        self._cache[client_conn] = _Entry(auth_user, identity, subject, now + SUBJECT_TTL,
                                          self.core.generation)
        return identity, subject

    @guarded("identity")
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        auth = flow.metadata.get("proxyauth")
        v = verdict_of(flow)
        if v.subject is not None:
            return
        v.identity, v.subject = self.lookup(flow.client_conn, auth[0] if auth else None)

    @guarded("identity")
    def http_connect(self, flow: http.HTTPFlow) -> None:
        # Runs after proxyauth's http_connect (built-in addons come first), so a valid
        # Proxy-Authorization is already in metadata.
        if flow.response is not None:
            return   # proxyauth refused it
        auth = flow.metadata.get("proxyauth")
        v = verdict_of(flow)
        v.identity, v.subject = self.lookup(flow.client_conn, auth[0] if auth else None)

    def subject_for_connection(self, client_conn):
        """For connection-level hooks (tls_clienthello): identity without a flow."""
        return self.lookup(client_conn, _proxyauth_user_for(client_conn))
