"""The collector: what a scrape contains, computed from COUNTERS and STATE at scrape time."""
import datetime as dt
import threading

import pytest
from prometheus_client import generate_latest

from agent import metrics as m
from agent import metrics as x
from agent.metrics.exporter import CrossingGuardCollector, build_registry
from agent.metrics.labels import LabelGuard
from agent.metrics.store_state import StoreGauges, snapshot, spool_depth
from tests.metrics.helpers import parse_scrape


@pytest.fixture
def counters():
    return m.Counters()


@pytest.fixture
def state():
    return m.StateSources()


def scrape_of(counters, state, **kw):
    registry = build_registry(CrossingGuardCollector(counters, state, **kw), process=False)
    return parse_scrape(generate_latest(registry).decode())


def test_counters_become_labelled_series(counters, state):
    counters.inc(m.REQUESTS, "instagram", "block", "block", "students_under13")
    counters.inc(m.REQUESTS, "instagram", "block", "block", "students_under13")
    counters.inc(m.BLOCKS, "instagram", "student.preamble", by=3)
    s = scrape_of(counters, state)
    assert s.value("crossingguard_requests_total", platform="instagram", verdict="block",
                   action="block", cohort="students_under13") == 2
    assert s.value("crossingguard_blocks_total", guideline="student.preamble") == 3
    assert s.types["crossingguard_requests_total"] == "counter"


def test_every_declared_counter_is_exported_even_when_zero(counters, state):
    s = scrape_of(counters, state)
    for name in m.LABELS:
        assert name in s.types, name
    # closed label sets start at 0 so alerts and stat panels see 0, not "no data"
    assert s.value("crossingguard_identity_resolutions_total", source="unknown") == 0
    assert len(s.samples["crossingguard_identity_resolutions_total"]) == 4
    assert len(s.samples["crossingguard_incidents_total"]) == 5 * 4


def test_incidents_without_school_label_get_unassigned(counters, state):
    counters.inc(m.INCIDENTS, "threat", "critical")                 # today's two-label call
    counters.inc(m.INCIDENTS, "threat", "critical", "sch-north")    # proposed three-label call
    s = scrape_of(counters, state, guard=LabelGuard(schools=frozenset({"sch-north"})))
    assert s.value("crossingguard_incidents_total", category="threat", severity="critical",
                   school="unassigned") == 1
    assert s.value("crossingguard_incidents_total", category="threat", severity="critical",
                   school="sch-north") == 1


def test_unsafe_label_values_are_merged_not_lost(counters, state):
    counters.inc(m.ADDON_ERRORS, "10.0.0.7")
    counters.inc(m.ADDON_ERRORS, "stu-0042")
    counters.inc(m.ADDON_ERRORS, "enforce")
    s = scrape_of(counters, state, guard=LabelGuard(forbidden=frozenset({"stu-0042"})))
    assert "10.0.0.7" not in s.text and "stu-0042" not in s.text
    assert s.value("crossingguard_addon_errors_total", addon="redacted") == 2
    assert s.value("crossingguard_addon_errors_total") == 3


def test_histogram_is_cumulative_with_inf_and_sum(counters, state):
    for seconds in (0.00005, 0.0003, 0.0004, 0.02, 5.0):
        counters.observe(m.CLASSIFIER_LATENCY, seconds)
    s = scrape_of(counters, state)
    name = "crossingguard_classifier_latency_seconds"
    assert s.types[name] == "histogram"
    bucket = {d["le"]: s.value(f"{name}_bucket", le=d["le"]) for d in s.samples[f"{name}_bucket"]}
    assert bucket["0.0001"] == 1
    assert bucket["0.0005"] == 3
    assert bucket["0.025"] == 4
    assert bucket["1.0"] == 4
    assert bucket["+Inf"] == 5
    assert s.value(f"{name}_count") == 5
    assert s.value(f"{name}_sum") == pytest.approx(5.02075)
    values = list(bucket.values())
    assert values == sorted(values), "buckets must be cumulative"


def test_state_sources_read_at_scrape_time(counters, state):
    depth = {"n": 3}
    state.register(x.ACTIVITY_QUEUE, "queue", lambda: depth["n"], "gauge")
    state.register(x.ACTIVITY_LINES, "lines", lambda: 10, "counter")
    state.register(x.INCIDENTS_OPEN, "open", lambda: {"critical": 2, "high": 1}, "gauge")
    assert scrape_of(counters, state).value(x.ACTIVITY_QUEUE) == 3
    depth["n"] = 7
    s = scrape_of(counters, state)
    assert s.value(x.ACTIVITY_QUEUE) == 7
    assert s.types[x.ACTIVITY_LINES] == "counter"
    assert s.value(x.ACTIVITY_LINES) == 10
    assert s.value(x.INCIDENTS_OPEN, severity="critical") == 2


def test_failing_state_source_is_counted_and_skipped(counters, state):
    state.register(x.SPOOL_DEPTH, "spool", lambda: 1 / 0, "gauge")
    state.register(x.ACTIVITY_QUEUE, "queue", lambda: 1, "gauge")
    s = scrape_of(counters, state)
    assert x.SPOOL_DEPTH not in s.samples
    assert s.value(x.ACTIVITY_QUEUE) == 1
    assert s.value(x.METRICS_SOURCE_ERRORS, metric=x.SPOOL_DEPTH) == 1


def test_build_info_carries_version_and_policy_hash(counters, state):
    s = scrape_of(counters, state, info=lambda: {"version": "1.2.3", "policy_hash": "abcdef0123456789"})
    assert s.value(x.BUILD_INFO, version="1.2.3", policy_hash="abcdef0123456789") == 1


def test_scrape_while_the_loop_counts(counters, state):
    """Scrapes run in the HTTP server's threads while the proxy increments: no exception, and
    the final scrape sees every increment."""
    collector = CrossingGuardCollector(counters, state)
    registry = build_registry(collector, process=False)
    stop = threading.Event()
    errors = []

    def scraper():
        while not stop.is_set():
            try:
                generate_latest(registry)
            except Exception as exc:  # pragma: no cover - the failure being tested for
                errors.append(exc)
    t = threading.Thread(target=scraper)
    t.start()
    platforms = sorted(LabelGuard().platforms)
    for i in range(30_000):
        counters.inc(m.REQUESTS, platforms[i % len(platforms)], "allow", "allow", f"c{i % 50}")
    stop.set()
    t.join()
    assert errors == []
    assert parse_scrape(generate_latest(registry).decode()).value("crossingguard_requests_total") == 30_000


# ---------------------------------------------------------------- store gauges (real SQLite store)
def _incident(severity, minutes_ago, status="open", now=None):
    from agent.store import Incident
    now = now or dt.datetime.now(dt.timezone.utc)
    return Incident.new(user="stu-x", platform="instagram", kind="post", text="synthetic",
                        severity=severity, status=status, created=now - dt.timedelta(minutes=minutes_ago))


def test_snapshot_counts_open_and_overdue_by_severity(tmp_path):
    from agent.store import open_store
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
    store = open_store(None, tmp_path)
    try:
        for inc in [_incident("critical", 20, now=now), _incident("critical", 5, now=now),
                    _incident("critical", 60, status="reviewing", now=now),   # acknowledged
                    _incident("high", 30, now=now), _incident("high", 90, now=now),
                    _incident("low", 60 * 24 * 4, now=now)]:
            store.add_incident(inc)
        snap = snapshot(store, now)
    finally:
        store.close()
    assert snap.open == {"low": 1, "medium": 0, "high": 2, "critical": 2}
    assert snap.overdue == {"low": 1, "medium": 0, "high": 1, "critical": 1}
    assert snap.oldest_open["critical"] == (now - dt.timedelta(minutes=20)).timestamp()
    assert snap.oldest_open["medium"] == 0.0


def test_store_gauges_register_refresh_and_unregister(tmp_path):
    from agent.store import open_store
    state = m.StateSources()
    store = open_store(None, tmp_path)
    store.add_incident(_incident("critical", 30))
    store.close()
    gauges = StoreGauges(lambda: open_store(None, tmp_path), spool_dir=tmp_path / "nospool", state=state,
                         interval=3600)
    gauges.register()
    assert state.sources[x.INCIDENTS_OPEN][2]() is None        # nothing before the first snapshot
    gauges.refresh()
    assert state.sources[x.INCIDENTS_OPEN][2]()["critical"] == 1
    assert state.sources[x.INCIDENTS_OVERDUE][2]()["critical"] == 1
    state.register(x.SPOOL_DEPTH, "the store's own", lambda: 5)   # owner re-registers: theirs is kept
    gauges.stop()
    assert x.INCIDENTS_OPEN not in state.sources
    assert state.sources[x.SPOOL_DEPTH][2]() == 5


def test_spool_depth_counts_pending_lines(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "a.jsonl").write_text('{"kind":"incident"}\n{"kind":"audit"}\n')
    (spool / "b.jsonl").write_text('{"kind":"incident"}\n\n')
    (spool / "rejected.jsonl").write_text('garbage\n')
    assert spool_depth(spool) == 3
    assert spool_depth(tmp_path / "missing") == 0
