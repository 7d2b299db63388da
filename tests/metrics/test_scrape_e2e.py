"""A real `crossingguard run` (mitmproxy, TLS, three devices browsing), scraped over HTTP.

Checks that every metric the dashboards and rules use is exported, that the exposition passes
`promtool check metrics`, that the dashboard variables' labels exist, and that no roster id,
username, e-mail or client IP ever appears in the scrape."""
import subprocess
import time

import pytest

from agent import metrics as m
from agent import metrics as x
from tests.metrics.helpers import (PROMETHEUS_SYNTHETIC, TEACHER_IP, TEEN_IP, UNKNOWN_IP, YOUNG_IP,
                                   dashboard_exprs, promql_metric_names, realistic_run, recorded_names,
                                   rule_exprs, scrape)
from tests.metrics.promtool import require

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with realistic_run(tmp_path_factory.mktemp("metrics-run")) as r:
        # The store gauges refresh in a background thread: wait (bounded) for the first snapshot.
        deadline = time.monotonic() + 20
        s = scrape(r.metrics_port)
        while x.INCIDENTS_OPEN not in s.samples and time.monotonic() < deadline:
            time.sleep(0.2)
            s = scrape(r.metrics_port)
        yield r, s


def test_realistic_run_counted_what_happened(run):
    r, s = run
    assert s.value(m.REQUESTS, verdict="block") == r.blocked
    assert s.value(m.BLOCKS, platform="instagram", guideline="student.preamble") == 2
    assert s.value(m.REQUESTS, platform="youtube", verdict="allow") == 1
    assert s.value(m.IDENTITY, source="unknown") >= 1 and s.value(m.IDENTITY, source="device") >= 2
    # Seeded: a critical incident 40 minutes old and a fresh medium one. (The teacher's flagged
    # post may add fresh ones if a store snapshot ran after it: never overdue.)
    assert s.value(x.INCIDENTS_OPEN, severity="critical") >= 1
    assert s.value(x.INCIDENTS_OVERDUE, severity="critical") == 1
    assert s.value(x.INCIDENTS_OPEN, severity="medium") >= 1
    assert s.value(x.INCIDENTS_OVERDUE, severity="medium") == 0
    assert 2400 - 120 < time.time() - s.value(x.INCIDENTS_OLDEST_OPEN, severity="critical") < 2400 + 600
    assert s.value(x.BUILD_INFO) == 1
    # the teacher's two parseable tweets were classified, the truncated one counted as a failure
    assert s.value(m.POSTS, platform="x") == 2
    assert s.value(m.POSTS_CLASSIFIED, platform="x") == 2
    assert s.value("crossingguard_classifier_latency_seconds_count") >= 1
    assert s.value(m.EXTRACTION_FAILURES, platform="x") == 1
    assert s.value(m.INCIDENTS, category="threat") >= 1
    info = s.samples[x.BUILD_INFO][0]
    assert len(info["policy_hash"]) == 16 and info["policy_hash"] != "unknown"


def test_every_metric_used_by_dashboards_and_rules_is_exported(run):
    _, s = run
    exported = s.declared()
    defined = exported | recorded_names() | PROMETHEUS_SYNTHETIC
    used = {}
    for where, expr in dashboard_exprs() + rule_exprs():
        for name in promql_metric_names(expr):
            used.setdefault(name, where)
    missing = {name: where for name, where in used.items() if name not in defined}
    assert not missing, f"used but not exported: {missing}"
    # The run exercised these for real: they must have samples, not just a TYPE line.
    with_samples = {m.REQUESTS, m.BLOCKS, m.TUNNELS, m.IDENTITY, x.ACTIVITY_LINES, x.ACTIVITY_QUEUE,
                    x.INCIDENTS_OPEN, x.INCIDENTS_OVERDUE, x.INCIDENTS_OLDEST_OPEN, x.SPOOL_DEPTH,
                    x.SESSIONS_ACTIVE, x.BUILD_INFO, "process_cpu_seconds_total",
                    "crossingguard_classifier_latency_seconds_bucket", m.INCIDENTS,
                    m.POSTS, m.POSTS_CLASSIFIED, m.EXTRACTION_FAILURES}
    assert not {n for n in with_samples if not s.samples.get(n)}, "no samples"


def test_promtool_check_metrics_on_the_real_scrape(run):
    _, s = run
    r = subprocess.run([require("promtool"), "check", "metrics"], input=s.text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


def test_dashboard_variables_resolve_to_existing_labels(run):
    _, s = run
    # label_values(metric, label): the metric has series carrying that label after the run
    # (platform on requests, school on incidents, platform on posts classified when posts ran).
    assert "platform" in s.label_names(m.REQUESTS)
    assert "school" in s.label_names(m.INCIDENTS)
    assert "platform" in s.label_names(m.POSTS_CLASSIFIED)
    assert {"instagram", "tiktok", "youtube"} <= {ls["platform"] for ls in s.samples[m.REQUESTS]}


def test_no_personal_data_in_the_scrape(run):
    r, s = run
    text = s.text.lower()
    roster = r.roster
    for secret in (roster.young, roster.teen, roster.teacher, "young.student", "teen.student",
                   "students.example.org", YOUNG_IP, TEEN_IP, UNKNOWN_IP, TEACHER_IP, "dev-young", "dev-teen",
                   "media.teacher", "instagram.com", "/api/", "field trip", "hurt you"):
        assert secret.lower() not in text, secret
    allowed = {"platform", "verdict", "action", "cohort", "guideline", "reason", "kind", "category",
               "severity", "school", "source", "addon", "channel", "metric", "le", "version",
               "policy_hash", "implementation", "major", "minor", "patchlevel"}
    used = {k for series in s.samples.values() for ls in series for k in ls}
    assert used <= allowed, used - allowed
