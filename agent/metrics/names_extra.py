"""Metric names the exporter needs beyond `agent/metrics/__init__.py`.

These are proposed for `agent/metrics/__init__.py` (the lead owns that file); until they move
there, components import them from here. Only names and label tuples live here: no logic.

State gauges are not counted on the hot path: their owners (activity log, store, sessions)
register a callable with `STATE.register(NAME, help, fn, kind)` and the exporter calls it at
scrape time. A labelled state source returns a mapping {label value (or tuple): number}; the
label names for it are in `STATE_LABELS`.
"""
from __future__ import annotations

from agent.metrics import INCIDENTS, LABELS

# Always exported by the exporter itself.
BUILD_INFO = "crossingguard_build_info"                                  # gauge 1: version, policy_hash
METRICS_SOURCE_ERRORS = "crossingguard_metrics_source_errors_total"      # metric: a state source that raised

# State read at scrape time (registered by their owners through STATE.register).
ACTIVITY_LINES = "crossingguard_activity_lines_written_total"            # counter (ActivityLog.lines_written)
ACTIVITY_QUEUE = "crossingguard_activity_queue_depth"                    # gauge (ActivityLog.queue_depth)
SPOOL_DEPTH = "crossingguard_store_spool_depth"                          # gauge: records waiting in home/spool/
SESSIONS_ACTIVE = "crossingguard_teacher_sessions_active"                # gauge: teacher sessions active now
INCIDENTS_OPEN = "crossingguard_incidents_open"                          # gauge by severity: status "open"
INCIDENTS_OVERDUE = "crossingguard_incidents_overdue"                    # gauge by severity: open past its SLA
INCIDENTS_OLDEST_OPEN = "crossingguard_incidents_oldest_open_timestamp_seconds"  # gauge by severity

STATE_LABELS: dict[str, tuple[str, ...]] = {
    INCIDENTS_OPEN: ("severity",),
    INCIDENTS_OVERDUE: ("severity",),
    INCIDENTS_OLDEST_OPEN: ("severity",),
}

# Proposed change to LABELS in agent/metrics/__init__.py: incidents gain a third label, school
# (a roster org sourcedId: a bounded set). Callers that still pass two labels are exported with
# school="unassigned", so both call shapes work while the change lands.
EXTRA_LABELS: dict[str, tuple[str, ...]] = {
    INCIDENTS: ("category", "severity", "school"),
    METRICS_SOURCE_ERRORS: ("metric",),
}


def label_names(name: str) -> tuple[str, ...]:
    """Label names of a hot-path counter, extra (proposed) labels taking precedence."""
    return EXTRA_LABELS.get(name) or LABELS.get(name, ())
