"""Metric names and the in-process counters the exporter reads at scrape time.

Hot-path code only does `COUNTERS.inc(NAME, label, ...)`: one dict increment, no
locks, no prometheus-client objects per request. The exporter's collector
(`agent/metrics/exporter.py`) turns these counters, plus state that already exists
(activity queue depth, spool depth, open sessions), into metric families when
Prometheus scrapes. Labels are bounded sets only: never a student, device, IP or URL.
"""
from __future__ import annotations

from collections import defaultdict

# name -> label names (the order of `inc()` positional labels)
REQUESTS = "crossingguard_requests_total"                 # platform, verdict, action, cohort
BLOCKS = "crossingguard_blocks_total"                     # platform, guideline
TUNNELS = "crossingguard_tunnels_total"                   # reason: passthrough | ignored | intercepted | refused
POSTS = "crossingguard_posts_total"                       # platform, kind
POSTS_CLASSIFIED = "crossingguard_posts_classified_total" # platform
INCIDENTS = "crossingguard_incidents_total"               # category, severity, school
EXTRACTION_FAILURES = "crossingguard_extraction_failures_total"  # platform, reason
IDENTITY = "crossingguard_identity_resolutions_total"     # source: auth | device | dhcp | unknown
ADDON_ERRORS = "crossingguard_addon_errors_total"         # addon
ALERT_FAILURES = "crossingguard_alert_delivery_failures_total"   # channel: failed attempts (each is retried)
ALERTS_DELIVERED = "crossingguard_alerts_delivered_total"        # channel: deliveries that reached their target
SENSOR_EVENTS = "crossingguard_sensor_events_total"       # kind
SENSOR_BYPASSES = "crossingguard_sensor_bypasses_total"   # kind
CLASSIFIER_LATENCY = "crossingguard_classifier_latency_seconds"  # histogram, no labels
METRICS_SOURCE_ERRORS = "crossingguard_metrics_source_errors_total"  # metric: a state source that raised
ACTIVITY_COMMIT_TIMEOUTS = "crossingguard_activity_commit_timeouts_total"  # responses released before their line was durable
REFUSED = "crossingguard_refused_total"                   # reason: bounded set, see REFUSED_REASONS
UNREADABLE_POSTS = "crossingguard_unreadable_posts_total" # platform, action: held | passed
STREAMED_POSTS = "crossingguard_streamed_posts_total"     # platform, action: passed | held (multipart read while streamed)
ENCODER_FALLBACK = "crossingguard_classifier_encoder_fallback_total"  # classifier workers started without the encoder
BUILD_INFO = "crossingguard_build_info"                   # gauge 1: version, policy_hash (exporter)

# State read at scrape time (registered by their owners through STATE.register).
ACTIVITY_LINES = "crossingguard_activity_lines_written_total"    # counter (ActivityLog.lines_written)
ACTIVITY_QUEUE = "crossingguard_activity_queue_depth"            # gauge (ActivityLog.queue_depth)
ACTIVITY_DROPPED = "crossingguard_activity_dropped_total"        # counter (ActivityLog.dropped: queue full)
ACTIVITY_HELPER = "crossingguard_activity_fsync_helper_up"       # gauge (ActivityLog.helper_up)
SPOOL_DEPTH = "crossingguard_store_spool_depth"                  # gauge: records waiting in home/spool/
SESSIONS_ACTIVE = "crossingguard_teacher_sessions_active"        # gauge: teacher sessions active now
ALERTS_PENDING = "crossingguard_alerts_pending"                  # gauge: alert deliveries waiting (home/alerts.db)
INCIDENTS_OPEN = "crossingguard_incidents_open"                  # gauge by severity: status "open"
INCIDENTS_OVERDUE = "crossingguard_incidents_overdue"            # gauge by severity: open past its SLA
INCIDENTS_OLDEST_OPEN = "crossingguard_incidents_oldest_open_timestamp_seconds"  # gauge by severity

LABELS: dict[str, tuple[str, ...]] = {
    REQUESTS: ("platform", "verdict", "action", "cohort"),
    BLOCKS: ("platform", "guideline"),
    TUNNELS: ("reason",),
    POSTS: ("platform", "kind"),
    POSTS_CLASSIFIED: ("platform",),
    INCIDENTS: ("category", "severity", "school"),
    EXTRACTION_FAILURES: ("platform", "reason"),
    IDENTITY: ("source",),
    ADDON_ERRORS: ("addon",),
    ALERT_FAILURES: ("channel",),
    ALERTS_DELIVERED: ("channel",),
    SENSOR_EVENTS: ("kind",),
    SENSOR_BYPASSES: ("kind",),
    METRICS_SOURCE_ERRORS: ("metric",),
    REFUSED: ("reason",),
    UNREADABLE_POSTS: ("platform", "action"),
    STREAMED_POSTS: ("platform", "action"),
    ENCODER_FALLBACK: (),
}

# Why the proxy refused or cut a connection or request (crossingguard_refused_total{reason}).
REFUSED_REASONS = ("duplicate_host", "local_destination", "unnamed_tunnel", "dot_port",
                   "connection_cap", "idle_timeout", "header_timeout")

# Label names of labelled state sources (their callables return {label value: number}).
STATE_LABELS: dict[str, tuple[str, ...]] = {
    INCIDENTS_OPEN: ("severity",),
    INCIDENTS_OVERDUE: ("severity",),
    INCIDENTS_OLDEST_OPEN: ("severity",),
}


def label_names(name: str) -> tuple[str, ...]:
    return LABELS.get(name, ())

# Histogram buckets in seconds for classifier latency (a post takes ~0.3 ms; batches more).
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Counters:
    """Plain in-process counters keyed by (name, label values)."""

    def __init__(self) -> None:
        self.values: defaultdict[tuple[str, tuple[str, ...]], float] = defaultdict(float)
        self.observations: defaultdict[str, list[float]] = defaultdict(lambda: [0.0] * (len(LATENCY_BUCKETS) + 2))

    def inc(self, name: str, *labels: str, by: float = 1.0) -> None:
        self.values[(name, labels)] += by

    def observe(self, name: str, seconds: float) -> None:
        """Histogram observation: per-bucket counts, then sum and count at the end."""
        row = self.observations[name]
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                row[i] += 1
                break
        row[-2] += seconds
        row[-1] += 1

    def reset(self) -> None:
        self.values.clear()
        self.observations.clear()


COUNTERS = Counters()


class StateSources:
    """State that already exists elsewhere, read only when Prometheus scrapes.

    Components register a zero-argument callable once (e.g. the activity log its queue
    depth); the exporter's collect() calls them. kind is "gauge" or "counter".
    """

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, str, object]] = {}

    def register(self, name: str, help: str, fn, kind: str = "gauge") -> None:
        self.sources[name] = (kind, help, fn)

    def unregister(self, name: str) -> None:
        self.sources.pop(name, None)


STATE = StateSources()
