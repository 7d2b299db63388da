"""The shipped Prometheus files pass promtool: config, rules, and the alert-rule unit tests."""
import subprocess

from tests.metrics.helpers import PROM_DIR, RULE_FILES
from tests.metrics.promtool import require


def run(*args):
    return subprocess.run([require("promtool"), *args], capture_output=True, text=True, timeout=60)


def test_check_config():
    r = run("check", "config", str(PROM_DIR / "prometheus.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 rule files found" in r.stdout + r.stderr


def test_check_rules():
    assert RULE_FILES
    r = run("check", "rules", *map(str, RULE_FILES))
    assert r.returncode == 0, r.stdout + r.stderr


def test_alert_rule_unit_tests():
    """deploy/prometheus/tests/alerts_test.yml: each alert fires when it should and not before."""
    r = run("test", "rules", str(PROM_DIR / "tests" / "alerts_test.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_check_metrics_rejects_a_bad_exposition():
    """Guard against a promtool that accepts anything (the real-scrape check relies on it)."""
    bad = "# TYPE crossingguard_requests counter\ncrossingguard_requests 1\n"
    r = subprocess.run([require("promtool"), "check", "metrics"], input=bad, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert 'should have "_total" suffix' in r.stdout + r.stderr
