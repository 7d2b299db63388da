"""Identity addon: who is behind a flow, cached per client connection.

Sources, in order (agent.identity.IdentityResolver): the proxy-auth user that mitmproxy's
built-in `proxyauth` addon validated (it leaves (user, password) in flow.metadata["proxyauth"],
and remembers CONNECT-authenticated connections), then the current DHCP lease of the client
address (the network sensor's map, refreshed by `LeaseRefresher` in a worker thread) when its MAC
is registered, then the device registry by client IP, else `unknown` (treated as under 13).

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
import threading
import time
import weakref
from datetime import datetime, timezone

from mitmproxy import ctx, http

from agent.identity.leases import LeaseFileWatcher, leases_path
from agent.metrics import ADDON_ERRORS, COUNTERS, IDENTITY
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


class LeaseRefresher:
    """The sensor's DHCP map (HOME/sensor/dhcp-leases.json), read off the event loop.

    A worker thread polls the file (a stat per tick; a parse only when it changed; expired
    leases drop out when they expire) and hands the resolver a fresh ip -> MAC dict by one attribute assignment; hooks
    only read it. Fail choice: an unreadable or malformed file gives an empty map, i.e.
    identification by login and registry only (the map adds identities, it never gates one).
    """

    def __init__(self, core) -> None:
        self.core = core
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshot: dict[str, str] = {}
        self.refreshed_at: float | None = None
        self._watcher: LeaseFileWatcher | None = None

    def start(self, interval: float) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(max(interval, 0.1),),
                                        name="crossingguard-dhcp-leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def refresh(self) -> None:
        state = self.core.state
        if state is None:
            return
        path = leases_path(state.home)
        if self._watcher is None or self._watcher.path != path:
            self._watcher = LeaseFileWatcher(path)     # a reloaded config may name another home
        if self._watcher.poll(time.time()):
            self.snapshot = self._watcher.current
            log.info("crossingguard: DHCP map has %d current leases", len(self.snapshot))
        if state.resolver.dhcp is not self.snapshot:
            state.resolver.dhcp = self.snapshot     # one attribute store: readers see old or new
        self.refreshed_at = time.time()

    def _run(self, interval: float) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.refresh()
                failures = 0
            except Exception:
                COUNTERS.inc(ADDON_ERRORS, "identity")
                if failures == 0:
                    log.exception("crossingguard: reading the DHCP map failed; keeping the last one")
                failures += 1
            self._stop.wait(interval)


class IdentityAddon:
    name = "crossingguard_identity"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core, tunnels=None) -> None:
        self.core = core
        self.tunnels = tunnels   # proxy_addons/wireguard.py: the device whose key a tunnel used
        self._cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.leases = LeaseRefresher(core)

    def load(self, loader) -> None:
        loader.add_option("crossingguard_dhcp_refresh_ms", int, 2000,
                          "Milliseconds between reads of the network sensor's DHCP map "
                          "(HOME/sensor/dhcp-leases.json) for identity by current lease.")

    def running(self) -> None:
        try:
            interval = ctx.options.crossingguard_dhcp_refresh_ms / 1000
        except (AttributeError, KeyError):
            interval = 2.0
        self.leases.start(interval)

    def done(self) -> None:
        self.leases.stop()

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
        identity = self._tunnel_identity(state, client_conn)
        if identity is None:
            identity = state.resolver.resolve(auth_user=auth_user, client_ip=_client_ip(client_conn))
        COUNTERS.inc(IDENTITY, identity.source)
        subject = state.engine.subject(identity, datetime.now(timezone.utc))
        self._cache[client_conn] = _Entry(auth_user, identity, subject, now + SUBJECT_TTL,
                                          self.core.generation)
        return identity, subject

    def _tunnel_identity(self, state, client_conn):
        """A flow that came through a device's WireGuard listener is that device's student: only
        its key can complete a handshake there (agent/wireguard.py). A listener whose device is
        gone (revoked meanwhile) identifies nobody: unknown, the most protective subject."""
        if self.tunnels is None:
            return None
        hit = self.tunnels.device_for(client_conn)
        if hit is None:
            return None
        from agent.identity import Identity
        if hit is False or state.roster.get(hit.user) is None:
            return Identity("unknown", "unknown", getattr(hit, "device_id", None))
        return Identity(hit.user, "device", hit.device_id)

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
