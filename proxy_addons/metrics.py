"""mitmproxy addon: serve Prometheus metrics (/metrics) from the proxy process.

Options: `crossingguard_metrics_port` (default 9464, 0 disables) and `crossingguard_metrics_host`
(default 127.0.0.1: the metrics carry no personal data, but exposing them beyond the host is an
operator's choice). The HTTP server is prometheus_client's threaded server, so scrapes never run
on mitmproxy's event loop; the collector reads the in-process counters at scrape time.

Several proxy processes: each runs its own server on its own port (docs/metrics.md says why).

Fail-open choice: if the port cannot be bound the proxy keeps filtering (enforcement matters
more than observability); the error is logged and Prometheus sees the target down, which the
CrossingGuardProxyDown alert reports.
"""
from __future__ import annotations

import logging

from mitmproxy import ctx as mitm_ctx
from mitmproxy import exceptions

from agent.metrics.exporter import CrossingGuardCollector, MetricsServer, build_registry, package_version
from agent.metrics.labels import LabelGuard

log = logging.getLogger(__name__)

DEFAULT_PORT = 9464


class Metrics:
    def __init__(self, core=None, *, app=None, collector: CrossingGuardCollector | None = None):
        """`core`: proxy_addons.state.Core, whose loaded state gives the AppContext (policy hash,
        bounded label sets from the policy and roster, the store for incident gauges); or `app`,
        an AppContext directly. Without either, the counters and process metrics are served."""
        self.core = core
        self._app = app
        self.collector = collector
        self.server: MetricsServer | None = None
        self.store_gauges = None
        self.port = DEFAULT_PORT
        self.host = "127.0.0.1"
        self._running = False

    def load(self, loader) -> None:
        loader.add_option("crossingguard_metrics_port", int, DEFAULT_PORT,
                          "Port for Prometheus metrics (/metrics); 0 disables the exporter.")
        loader.add_option("crossingguard_metrics_host", str, "127.0.0.1",
                          "Address the metrics server binds to.")

    def configure(self, updated) -> None:
        if "crossingguard_metrics_port" not in updated and "crossingguard_metrics_host" not in updated:
            return
        port = mitm_ctx.options.crossingguard_metrics_port
        host = mitm_ctx.options.crossingguard_metrics_host.strip()
        if not 0 <= port <= 65535:
            raise exceptions.OptionsError(
                f"crossingguard_metrics_port: {port} is not a port (0-65535; 0 disables metrics)")
        if not host:
            raise exceptions.OptionsError("crossingguard_metrics_host: empty address")
        changed = (port, host) != (self.port, self.host)
        self.port, self.host = port, host
        if changed and self._running:   # changed at runtime (mitmproxy `set`): rebind
            self._stop()
            self._start()

    def running(self) -> None:
        if self._running:
            return
        self._running = True
        self._start()

    def done(self) -> None:
        self._running = False
        self._stop()

    def _start(self) -> None:
        if self.port == 0:
            return
        if self.collector is None:
            self.collector = self._collector()
        self._start_store_gauges()
        self._start_server()

    def _stop(self) -> None:
        self._stop_server()
        if self.store_gauges is not None:
            self.store_gauges.stop()
            self.store_gauges = None

    # ---- helpers ----
    @property
    def app(self):
        if self._app is not None:
            return self._app
        state = getattr(self.core, "state", None)
        return getattr(state, "context", None)

    def _collector(self) -> CrossingGuardCollector:
        if self.app is None:
            return CrossingGuardCollector()
        app = self.app

        def info() -> dict[str, str]:
            try:
                digest = app.policy.digest[:16]
            except Exception:
                digest = "unknown"
            return {"version": package_version(), "policy_hash": digest}
        return CrossingGuardCollector(guard=LabelGuard.from_context(app), info=info)

    def _start_store_gauges(self) -> None:
        if self.app is None:
            return
        from agent.metrics.store_state import StoreGauges
        app = self.app

        def open_store():
            from agent.store import open_store as _open
            return _open(app.policy.store_url, home=app.home)
        self.store_gauges = StoreGauges(open_store, spool_dir=app.home / "spool").start()

    def _start_server(self) -> None:
        registry = build_registry(self.collector)
        try:
            self.server = MetricsServer(registry, self.host, self.port).start()
        except OSError as exc:
            self.server = None
            log.error("metrics: cannot serve on %s:%s (%s); the proxy continues without metrics",
                      self.host, self.port, exc)
            return
        log.info("metrics: serving http://%s:%s/metrics", self.host, self.server.port)

    def _stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None



# For `mitmdump -s proxy_addons/metrics.py` on its own (counters and process metrics only).
addons = [Metrics()]
