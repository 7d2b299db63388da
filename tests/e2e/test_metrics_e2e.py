"""A real Prometheus (Debian's /usr/bin/prometheus) with the shipped scrape config and rules,
scraping a running `crossingguard run`.

The shipped deploy/prometheus/ is copied to a temporary directory with only what a test must
change: the target (file_sd) points at the proxy's metrics port, intervals are 1s, and Prometheus
listens on a free loopback port with its TSDB in tmp. Then a student's request is blocked, and
the test polls Prometheus' HTTP API (bounded) until the block shows in crossingguard_requests_total.
Everything started here is stopped here."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.metrics.helpers import PROM_DIR, browse, dashboard_exprs, realistic_run
from tests.metrics.helpers import rules as shipped_rules
from tests.metrics.promtool import require
from tests.support import free_port, wait_for_port

pytestmark = pytest.mark.e2e

WAIT = 60.0   # seconds, for every bounded wait below


def shipped_config_for_test(dest: Path, metrics_port: int) -> Path:
    """Copy deploy/prometheus to dest, rewriting only targets and intervals."""
    shutil.copytree(PROM_DIR, dest)
    cfg_path = dest / "prometheus.yml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
    (job,) = [j for j in cfg["scrape_configs"] if j["job_name"] == "crossingguard"]
    job.update(scrape_interval="1s", scrape_timeout="1s")
    for sd in job["file_sd_configs"]:
        sd["refresh_interval"] = "1s"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    # Same labels as the shipped target file, the proxy's real port.
    targets_path = dest / "targets" / "crossingguard.yml"
    targets = yaml.safe_load(targets_path.read_text())
    targets = [{"targets": [f"127.0.0.1:{metrics_port}"], "labels": targets[0].get("labels", {})}]
    for other in (dest / "targets").glob("*.yml"):
        other.unlink()
    targets_path.write_text(yaml.safe_dump(targets))
    for rules in (dest / "rules").glob("*.yml"):
        doc = yaml.safe_load(rules.read_text())
        for group in doc["groups"]:
            if "interval" in group:
                group["interval"] = "1s"
        rules.write_text(yaml.safe_dump(doc, sort_keys=False))
    return cfg_path


class PrometheusProcess:
    def __init__(self, config: Path, storage: Path):
        self.port = free_port()
        self.argv = [require("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={storage}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        self.log = storage.parent / "prometheus.log"
        self.proc = None

    def __enter__(self):
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        try:
            wait_for_port("127.0.0.1", self.port, 30, self.proc)
            self.wait(lambda: self.get("/-/ready", raw=True), "ready")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, raw: bool = False, **params):
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                body = resp.read().decode()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode()
            if raw:
                return None
            return json.loads(body)
        except OSError:
            return None
        return body if raw else json.loads(body)

    def query(self, expr: str) -> list:
        doc = self.get("/api/v1/query", query=expr)
        assert doc and doc["status"] == "success", (expr, doc)
        return doc["data"]["result"]

    def value(self, expr: str) -> float:
        result = self.query(expr)
        return sum(float(r["value"][1]) for r in result)

    def wait(self, predicate, what: str):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            got = predicate()
            if got:
                return got
            time.sleep(0.25)
        raise AssertionError(f"Prometheus: {what} not seen within {WAIT}s\n{self.output()[-3000:]}")


def test_prometheus_scrapes_crossingguard_and_sees_a_block(tmp_path):
    with realistic_run(tmp_path / "run", traffic=False) as run:
        config = shipped_config_for_test(tmp_path / "prometheus", run.metrics_port)
        with PrometheusProcess(config, tmp_path / "tsdb") as prom:
            # The target from the shipped file_sd layout is up, with the shipped job name.
            def target_up():
                doc = prom.get("/api/v1/targets")
                active = (doc or {}).get("data", {}).get("activeTargets", [])
                return [t for t in active if t["labels"].get("job") == "crossingguard" and t["health"] == "up"]
            (target,) = prom.wait(target_up, "crossingguard target up")
            assert target["labels"]["instance"] == f"127.0.0.1:{run.metrics_port}"
            assert prom.value('crossingguard_requests_total{verdict="block"}') == 0

            # A student is blocked; Prometheus must see it through a scrape.
            blocked = browse(run)
            assert blocked >= 1
            prom.wait(lambda: prom.value('sum(crossingguard_requests_total{verdict="block"})') >= blocked,
                      f"{blocked} blocked requests in crossingguard_requests_total")
            by_platform = {r["metric"]["platform"]: float(r["value"][1]) for r in
                           prom.query('sum by (platform) (crossingguard_blocks_total{job="crossingguard"})')}
            assert by_platform.get("instagram") == 2 and by_platform.get("tiktok") == 1

            # Every shipped rule loads and evaluates without error.
            def rules_evaluated():
                doc = prom.get("/api/v1/rules")
                rules = [r for g in (doc or {}).get("data", {}).get("groups", []) for r in g["rules"]]
                return rules if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else None
            rules = prom.wait(rules_evaluated, "all rules evaluated")
            assert {r["health"] for r in rules} == {"ok"}, [(r["name"], r.get("lastError")) for r in rules]
            assert len(rules) == len(shipped_rules())

            # Recording rules produce series from the real scrape.
            prom.wait(lambda: prom.query("crossingguard:requests:rate5m"), "crossingguard:requests:rate5m")

            # The seeded critical incident (40 minutes old, open) fires the 15-minute alert,
            # and the proxy-down alert does not.
            def firing():
                doc = prom.get("/api/v1/alerts")
                return {a["labels"]["alertname"] for a in (doc or {}).get("data", {}).get("alerts", [])
                        if a["state"] == "firing"}
            prom.wait(lambda: "CrossingGuardCriticalIncidentUnacknowledged" in firing(),
                      "CrossingGuardCriticalIncidentUnacknowledged firing")
            assert "CrossingGuardProxyDown" not in firing()

            # Every dashboard query is valid PromQL on a real Prometheus (variables substituted).
            for where, expr in dashboard_exprs():
                concrete = re.sub(r"\$(__rate_interval|__range|__interval)", "1m", expr)
                concrete = re.sub(r"\$\{?\w+\}?", ".*", concrete)
                doc = prom.get("/api/v1/query", query=concrete)
                assert doc and doc["status"] == "success", (where, concrete, doc)
        assert prom.proc.poll() is not None, "Prometheus still running"
    assert not run.proxy.alive()
