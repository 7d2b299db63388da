"""Connection limits: no client holds the proxy's descriptors and memory with connections that do
nothing (issue 11: 1,500 half-open connections held 1,528 descriptors for 100 s).

  - per-address cap (`crossingguard_max_conns_per_address`, default 256): a client address with
    that many open connections gets its next one closed at once (a browser uses 6-20 per site);
  - header-read timeout (`crossingguard_header_timeout_s`, default 15): a connection that has not
    completed its first request head (a CONNECT, an HTTP request, a TLS ClientHello) by then is
    closed: slowloris, half-open sockets;
  - idle timeout (`crossingguard_idle_timeout_s`, default 120): a connection with no byte in either
    direction for that long is closed (mitmproxy's own is 10 minutes).
Each closure is logged with the client address and the reason, and counted in
crossingguard_refused_total{reason="connection_cap"|"header_timeout"|"idle_timeout"} (no address
in the metric). 0 turns a limit off.

How: mitmproxy has no option for these, so the cap uses its `client_connected` hook (setting
`client.error` refuses the connection, as its own `block` addon does), and the timeouts a sweep
every SWEEP_S seconds over the proxy server's open connection handlers (its `connections` table and
each handler's activity watchdog). If a future mitmproxy renames those, the sweep logs once and
stops; the cap still works. Progress (a completed request head) is marked by the hooks below and by
the tunnel layer for tunnels it relays without a flow (`mark_progress`).
"""
from __future__ import annotations

import asyncio
import logging
import time

from mitmproxy import ctx, exceptions

from agent.metrics import COUNTERS, REFUSED

log = logging.getLogger("crossingguard.limits")

SWEEP_S = 1.0
_progressed: set = set()   # client ids that completed a request head (module doc)


def mark_progress(client) -> None:
    """The client completed a request head on this connection (called by the tunnel layer too)."""
    _progressed.add(client.id)


class ConnectionLimits:
    name = "crossingguard_limits"

    def __init__(self) -> None:
        self.cap = 256
        self.header_timeout = 15
        self.idle_timeout = 120
        self._open: dict[str, int] = {}     # client address -> open connections
        self._counted: set = set()          # client ids counted in _open
        self._task: asyncio.Task | None = None
        self._broken = False

    def load(self, loader) -> None:
        loader.add_option("crossingguard_max_conns_per_address", int, 256,
                          "Most open connections one client address may hold; more are closed at once (0: no cap).")
        loader.add_option("crossingguard_header_timeout_s", int, 15,
                          "Seconds a new connection has to complete its first request head (0: no limit).")
        loader.add_option("crossingguard_idle_timeout_s", int, 120,
                          "Seconds without a byte in either direction before a connection is closed (0: mitmproxy's 600).")

    def configure(self, updated) -> None:
        o = ctx.options
        for name in ("crossingguard_max_conns_per_address", "crossingguard_header_timeout_s",
                     "crossingguard_idle_timeout_s"):
            if getattr(o, name) < 0:
                raise exceptions.OptionsError(f"{name} must be 0 or more")
        self.cap = o.crossingguard_max_conns_per_address
        self.header_timeout = o.crossingguard_header_timeout_s
        self.idle_timeout = o.crossingguard_idle_timeout_s

    def running(self) -> None:
        if self._task is None and (self.header_timeout or self.idle_timeout):
            self._task = asyncio.get_running_loop().create_task(self._sweep_forever())

    def done(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # ------------------------------------------------------------------ the cap
    def client_connected(self, client) -> None:
        address = client.peername[0] if client.peername else "?"
        if self.cap and self._open.get(address, 0) >= self.cap:
            COUNTERS.inc(REFUSED, "connection_cap")
            log.warning("crossingguard: connection from %s closed: %d connections open from that address "
                        "(crossingguard_max_conns_per_address)", address, self.cap)
            client.error = "Too many connections from this address."
            return
        self._open[address] = self._open.get(address, 0) + 1
        self._counted.add(client.id)

    def client_disconnected(self, client) -> None:
        _progressed.discard(client.id)
        if client.id not in self._counted:
            return
        self._counted.discard(client.id)
        address = client.peername[0] if client.peername else "?"
        left = self._open.get(address, 1) - 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)

    # ------------------------------------------------------------------ progress
    def requestheaders(self, flow) -> None:
        _progressed.add(flow.client_conn.id)

    def http_connect(self, flow) -> None:
        _progressed.add(flow.client_conn.id)

    def tls_clienthello(self, data) -> None:
        _progressed.add(data.context.client.id)

    # ------------------------------------------------------------------ the timeouts
    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                self.sweep(time.time())
            except Exception:   # never let the sweep die silently on a changed mitmproxy
                if not self._broken:
                    log.exception("crossingguard: connection timeouts disabled (mitmproxy internals changed)")
                self._broken = True
                return

    def sweep(self, now: float) -> int:
        """Closes connections past a timeout; returns how many."""
        server = ctx.master.addons.get("proxyserver")
        closed = 0
        for handler in list(server.connections.values()):
            client = handler.client
            reason = None
            if self.header_timeout and client.id not in _progressed and \
                    now - client.timestamp_start > self.header_timeout:
                reason = "header_timeout"
            elif self.idle_timeout and handler.timeout_watchdog.blocker == 0 and \
                    now - handler.timeout_watchdog.last_activity > self.idle_timeout:
                reason = "idle_timeout"
            if reason is None:
                continue
            io = handler.transports.get(client)
            if io is None or io.handler is None or io.handler.done():
                continue
            COUNTERS.inc(REFUSED, reason)
            log.warning("crossingguard: connection from %s closed: %s (%s s)",
                        client.peername[0] if client.peername else "?",
                        "no complete request head" if reason == "header_timeout" else "idle",
                        self.header_timeout if reason == "header_timeout" else self.idle_timeout)
            io.handler.cancel(reason)
            closed += 1
        return closed
