"""The Prometheus exporter: a custom collector that reads COUNTERS and STATE at scrape time.

client_python style for state that already exists: nothing per request but the dict increment
in `COUNTERS.inc`; when Prometheus scrapes, `collect()` turns the counters, the histogram row and
the registered state sources into metric families. Label values pass through `LabelGuard`
(bounded sets only: no student, device, user, IP or URL ever reaches a scrape).

The registry is a dedicated `CollectorRegistry` (not the global default), holding this collector
plus prometheus_client's process and platform collectors, so tests and several proxies in one
interpreter never see each other's series.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector, start_http_server
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
                                    InfoMetricFamily)
from prometheus_client.registry import Collector

from agent import metrics as m
from agent import metrics as x
from agent.metrics.labels import LabelGuard

log = logging.getLogger(__name__)

HELP: dict[str, str] = {
    m.REQUESTS: "Requests to catalogued platforms, by platform, verdict, policy action and cohort.",
    m.BLOCKS: "Requests blocked, by platform and the guideline clause the rule cites.",
    m.TUNNELS: "Tunnels by handling: intercepted, passed through, ignored (pinned) or refused (unreadable bytes to a platform).",
    m.POSTS: "Posts (user-written content in write requests) seen, by platform and kind.",
    m.POSTS_CLASSIFIED: "Posts scored by the classifiers, by platform.",
    m.ENCODER_FALLBACK: "Classifier worker pools started without the sentence encoder (package missing or checksum "
                        "mismatch): the TF-IDF models score alone.",
    m.INCIDENTS: "Incidents created, by category, severity and school (roster org).",
    m.EXTRACTION_FAILURES: "Write requests whose post extraction failed, by platform and reason.",
    m.IDENTITY: "Identity resolutions by outcome: auth, device, dhcp or unknown.",
    m.ADDON_ERRORS: "Exceptions caught in a proxy addon (the flow continued per its fail mode), by addon.",
    m.ALERT_FAILURES: "Alert delivery attempts (incident notifications) that failed, by channel; each is retried.",
    m.ALERTS_DELIVERED: "Alert deliveries (incident notifications) that reached their target, by channel.",
    m.SENSOR_EVENTS: "Events seen by the network sensor, by kind.",
    m.SENSOR_BYPASSES: "Social-media traffic that did not go through the proxy, by kind.",
    m.CLASSIFIER_LATENCY: "Time to classify one batch of posts, in seconds.",
    x.METRICS_SOURCE_ERRORS: "Scrape-time state sources that raised (their metric was skipped).",
    m.ACTIVITY_COMMIT_TIMEOUTS: "Responses released before their activity line was durable (a stalled disk).",
    m.REFUSED: "Requests or connections refused by a hardening rule, by reason.",
    m.UNREADABLE_POSTS: "Writes to a post endpoint whose text could not be read, by platform and what was done.",
    m.STREAMED_POSTS: "Students' multipart posts over the stream limit read while they streamed, by platform and "
                      "outcome: passed (the withheld end sent on) or held (the site's side aborted).",
}

# Series exported as 0 before anything happened, for closed label sets, so that dashboards and
# alerts see 0 rather than "no data". Open sets (platform, guideline, addon, ...) start empty:
# dashboards wrap their sums in `or vector(0)`.
ZERO_SERIES: dict[str, tuple[tuple[str, ...], ...]] = {
    m.IDENTITY: (("auth",), ("device",), ("dhcp",), ("unknown",)),
    m.ENCODER_FALLBACK: ((),),
    m.TUNNELS: (("intercepted",), ("passthrough",), ("ignored",), ("refused",)),
    m.REFUSED: tuple((r,) for r in m.REFUSED_REASONS),
    m.SENSOR_EVENTS: (("dns",), ("tls",), ("quic",), ("http",), ("dhcp",)),
    m.ALERT_FAILURES: (("webhook",), ("email",)),
    m.ALERTS_DELIVERED: (("webhook",), ("email",)),
    m.INCIDENTS: tuple((c, s, "unassigned") for c in ("bullying", "threat", "self_harm", "pii", "impersonation")
                       for s in ("low", "medium", "high", "critical")),
}


def counter_names() -> tuple[str, ...]:
    """Every hot-path counter family, exported even before its first increment (no series, or
    the zero series above), so `absent()` never confuses "nothing happened" with "not running"."""
    return tuple(m.LABELS)


def _fill(names: tuple[str, ...], values: tuple) -> tuple:
    """Callers passing fewer labels than declared (e.g. incidents before `school` was added) get
    "unassigned" for the missing ones; extra labels are dropped."""
    if len(values) == len(names):
        return values
    return tuple(values[:len(names)]) + ("unassigned",) * (len(names) - len(values))


def _snapshot(d: dict) -> list:
    """Copy a dict another thread mutates (the proxy loop increments while we scrape)."""
    for _ in range(5):
        try:
            return list(d.copy().items())
        except RuntimeError:  # changed size during copy: retry (bounded)
            continue
    return []


class CrossingGuardCollector(Collector):
    def __init__(self, counters: m.Counters | None = None, state: m.StateSources | None = None,
                 guard: LabelGuard | None = None, info: Callable[[], dict[str, str]] | None = None):
        self.counters = counters if counters is not None else m.COUNTERS
        self.state = state if state is not None else m.STATE
        self.guard = guard or LabelGuard()
        self.info = info or (lambda: {"version": package_version(), "policy_hash": "unknown"})
        self._lock = threading.Lock()   # collect() may run in several server threads at once
        self._source_errors: defaultdict[str, int] = defaultdict(int)

    def describe(self) -> Iterable:
        return []   # families are dynamic; skip the registration-time collect()

    def collect(self) -> Iterator:
        with self._lock:
            state = list(self._state())   # first: a failing source is counted in this scrape
            yield from self._build_info()
            yield from self._counters()
            yield self._histogram(m.CLASSIFIER_LATENCY)
            yield from state

    # ---- families ----
    def _build_info(self):
        try:
            info = {k: str(v)[:64] for k, v in self.info().items()}
        except Exception:  # never fail a scrape on metadata
            log.exception("build info")
            info = {"version": package_version(), "policy_hash": "unknown"}
        fam = InfoMetricFamily(x.BUILD_INFO[: -len("_info")], "CrossingGuard version and policy file hash.")
        fam.add_metric([], info)
        yield fam

    def _counters(self):
        grouped: dict[str, defaultdict[tuple, float]] = {}
        for (name, values), amount in _snapshot(self.counters.values):
            names = x.label_names(name)
            if name not in m.LABELS:
                continue   # undeclared name (a typo): its label names are unknown, so not exported
            clean = self.guard.clean_all(names, _fill(names, values))
            grouped.setdefault(name, defaultdict(float))[clean] += amount
        for name, errors in ((x.METRICS_SOURCE_ERRORS, dict(self._source_errors)),):
            grouped.setdefault(name, defaultdict(float)).update({(k,): float(v) for k, v in errors.items()})
        for name in counter_names():
            series = grouped.get(name, defaultdict(float))
            for zero in ZERO_SERIES.get(name, ()):
                series.setdefault(zero, 0.0)
            fam = CounterMetricFamily(name, HELP.get(name, name.replace("_", " ")),
                                      labels=list(x.label_names(name)))
            for labels, value in sorted(series.items()):
                fam.add_metric(list(labels), value)
            yield fam

    def _histogram(self, name: str):
        row = list(self.counters.observations.get(name) or [0.0] * (len(m.LATENCY_BUCKETS) + 2))
        total, count = row[-2], row[-1]
        buckets, running = [], 0.0
        for bound, n in zip(m.LATENCY_BUCKETS, row):
            running += n   # Counters.observe stores per-bucket counts; Prometheus wants cumulative
            buckets.append((_le(bound), running))
        # observe() bumps bucket, sum, count in turn without a lock: a scrape between two of those
        # steps must still see +Inf >= every bucket (Prometheus requires monotonic buckets).
        count = max(count, running)
        buckets.append(("+Inf", count))
        return HistogramMetricFamily(name, HELP[name], buckets=buckets, sum_value=total)

    def _state(self):
        for name, (kind, help_text, fn) in list(self.state.sources.items()):
            try:
                value = fn()
            except Exception:
                self._source_errors[name] += 1
                log.warning("metrics source %s raised", name, exc_info=True)
                continue
            if value is None:
                continue   # source not ready (e.g. the first store snapshot not taken yet)
            names = x.STATE_LABELS.get(name, ())
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            fam = family(name, help_text, labels=list(names))
            if names:
                merged: defaultdict[tuple, float] = defaultdict(float)
                for key, v in dict(value).items():
                    key = key if isinstance(key, tuple) else (key,)
                    merged[self.guard.clean_all(names, _fill(names, key))] += float(v)
                for labels, v in sorted(merged.items()):
                    fam.add_metric(list(labels), v)
            else:
                fam.add_metric([], float(value))
            yield fam


def _le(bound: float) -> str:
    return repr(float(bound))


def package_version() -> str:
    try:
        from importlib.metadata import version
        return version("crossingguard")
    except Exception:
        return "unknown"


def build_registry(collector: CrossingGuardCollector | None = None, *,
                   process: bool = True) -> CollectorRegistry:
    """A dedicated registry: our collector plus process_* and python_info."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector or CrossingGuardCollector())
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
    return registry


class MetricsServer:
    """prometheus_client's threaded HTTP server on host:port, stoppable: `/metrics` (any other path
    too, as prometheus_client does) and `/healthz` when a `health` check is given.

    `/healthz` answers 200 `ok` when health() returns None and 503 with the reason otherwise; it is
    what the Kubernetes probes and the compose healthcheck ask (deploy/), so it must test the thing
    that matters, e.g. that the proxy port accepts connections (proxy_addons/metrics.py)."""

    def __init__(self, registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 9464,
                 health: Callable[[], str | None] | None = None):
        self.registry, self.host, self.port, self.health = registry, host, port, health
        self._server = self._thread = None

    def start(self) -> "MetricsServer":
        if self.health is None:
            self._server, self._thread = start_http_server(self.port, addr=self.host, registry=self.registry)
        else:
            self._server, self._thread = _start_with_health(self.port, self.host, self.registry, self.health)
        self.port = self._server.server_address[1]   # port 0 in tests: the one the OS chose
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None


def health_app(metrics_app, health: Callable[[], str | None]):
    """WSGI: /healthz from health() (None = healthy), everything else to the metrics app. Every
    answer names itself `crossingguard` in `Server` (wsgiref would otherwise announce its own and
    Python's exact versions to whoever can reach the port)."""
    def app(environ, start_response):
        def start_named(status, headers, exc_info=None):
            return start_response(status, [*headers, ("Server", "crossingguard")], exc_info)

        if environ.get("PATH_INFO") != "/healthz":
            return metrics_app(environ, start_named)
        try:
            problem = health()
        except Exception as exc:  # noqa: BLE001 - a failing check is an unhealthy answer, not a crash
            problem = f"health check failed: {exc}"
        status = "200 OK" if problem is None else "503 Service Unavailable"
        body = b"ok\n" if problem is None else (problem + "\n").encode("utf-8", "replace")
        start_named(status, [("Content-Type", "text/plain; charset=utf-8"),
                                ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [body]
    return app


def _start_with_health(port: int, host: str, registry, health):
    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer, _get_best_family, _SilentHandler
    from wsgiref.simple_server import make_server

    class Server(ThreadingWSGIServer):
        pass

    Server.address_family, addr = _get_best_family(host, port)
    httpd = make_server(addr, port, health_app(make_wsgi_app(registry), health), Server,
                        handler_class=_SilentHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    return httpd, thread


def serve(port: int, host: str = "127.0.0.1", app=None) -> MetricsServer:
    """Start /metrics for a process that is not the proxy (e.g. `crossingguard sensor
    --metrics-port N`): the same collector, counters of this process. `app`: an AppContext for
    bounded label sets and the policy hash. Returns the running server (call .stop())."""
    guard = LabelGuard.from_context(app) if app is not None else LabelGuard()

    def info() -> dict[str, str]:
        digest = "unknown"
        if app is not None:
            try:
                digest = app.policy.digest[:16]
            except Exception:
                pass
        return {"version": package_version(), "policy_hash": digest}
    return MetricsServer(build_registry(CrossingGuardCollector(guard=guard, info=info)), host, port).start()
