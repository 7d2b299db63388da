"""Shared by the metrics tests: parse a scrape, pull metric names out of PromQL, load the shipped
dashboards and rules, and run a real `crossingguard run` with traffic (the "realistic run")."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.scrape import Scrape, parse_scrape, scrape  # noqa: F401  (re-exported for the metrics tests)

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.json"))
PROM_DIR = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROM_DIR / "rules").glob("*.yml"))

# Series Prometheus adds itself for every target (not the exporter's job).
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                        "scrape_samples_post_metric_relabeling", "scrape_series_added"}
TARGET_LABELS = {"instance", "job", "site"}


# ---------------------------------------------------------------- exposition
# ---------------------------------------------------------------- PromQL
PROMQL_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                   "offset", "bool", "inf", "nan", "atan2",
                   # aggregation operators (may be followed by `by (...)` rather than "(")
                   "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                   "bottomk", "topk", "quantile"}
_GRAFANA_VARS = re.compile(r"\$(__rate_interval|__interval|__range|__range_s|__range_ms)|\$\{?\w+\}?")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`|\{[^}]*\}|\[[^\]]*\]'
                    r'|\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b|\d+(?:\.\d+)?(?:e[+-]?\d+)?'
                    r'|[a-zA-Z_:][a-zA-Z0-9_:]*|\S')


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects. Tokenizes (strings, label matchers {..} and ranges
    [..] are single tokens), then keeps identifiers that are not functions (followed by "("),
    keywords, or label lists after by/without/on/ignoring/group_*."""
    expr = _GRAFANA_VARS.sub(lambda m: "5m" if m.group(1) else "x", expr)
    tokens = _TOKEN.findall(expr)
    names: set[str] = set()
    skip_group = False
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if skip_group:
            if tok == ")":
                skip_group = False
            continue
        if tok.lower() in ("by", "without", "on", "ignoring", "group_left", "group_right"):
            if nxt == "(":
                skip_group = True
            continue
        if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", tok):
            continue
        if nxt == "(" or tok.lower() in PROMQL_KEYWORDS:
            continue
        names.add(tok)
    return names


# ---------------------------------------------------------------- shipped files
def dashboard_panels(path: Path) -> list[dict]:
    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))
    return list(walk(json.loads(path.read_text())["panels"]))


def dashboard_exprs() -> list[tuple[str, str]]:
    """(where, expr) for every panel target and query variable of every dashboard."""
    out = []
    for path in DASHBOARDS:
        d = json.loads(path.read_text())
        for p in dashboard_panels(path):
            for t in p.get("targets", []):
                out.append((f"{path.name}: {p['title']}", t["expr"]))
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q.strip())
                out.append((f"{path.name}: variable {v['name']}", m.group(1) if m else q))
    return out


def rules() -> list[dict]:
    return [r for f in RULE_FILES for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]]


def rule_exprs() -> list[tuple[str, str]]:
    return [(r.get("record") or r.get("alert"), r["expr"]) for r in rules()]


def recorded_names() -> set[str]:
    return {r["record"] for r in rules() if "record" in r}


# ---------------------------------------------------------------- a realistic run
@dataclass
class Run:
    proxy: object
    metrics_port: int
    roster: object
    home: Path
    blocked: int            # requests blocked so far (browse() adds)
    ca_bundle: Path         # district CA + the test origin's CA


YOUNG_IP, TEEN_IP, UNKNOWN_IP, TEACHER_IP = "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"
TWEET = "https://x.com/i/api/graphql/abc/CreateTweet"


def seed_incidents(home: Path, school: str) -> None:
    """Incidents already in the store when the proxy starts (as left by an earlier day)."""
    from agent.store import Incident, open_store
    store = open_store(None, home)
    try:
        old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=40)
        store.add_incident(Incident.new(user="stu-young", platform="instagram", kind="comment",
                                        text="synthetic test post", labels=("threat",), severity="critical",
                                        school=school, created=old))
        store.add_incident(Incident.new(user="stu-teen", platform="tiktok", kind="post",
                                        text="synthetic test post", labels=("pii",), severity="medium",
                                        school=school))
    finally:
        store.close()


@contextlib.contextmanager
def realistic_run(tmp: Path, metrics_port: int | None = None, traffic: bool = True):
    """`crossingguard run` (real mitmproxy, real TLS) behind which three devices browse (see
    `browse`); with traffic=False the caller browses later."""
    from tests.support import (ConnectForwarder, CrossingGuardProcess, LocalOrigin, free_port, make_pki,
                               write_devices, write_test_roster)
    roster = write_test_roster(tmp / "roster")
    devices = write_devices(tmp / "devices.csv", [("dev-young", roster.young, YOUNG_IP, ""),
                                                   ("dev-teen", roster.teen, TEEN_IP, ""),
                                                   ("dev-teacher", roster.teacher, TEACHER_IP, "")])
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    seed_incidents(home, roster.school)
    pki = make_pki(tmp / "pki")
    port = metrics_port or free_port()
    # The teacher here is identified by the registered address, which the shipped policy no longer
    # trusts for staff rights (security.staff_requires_proxy_auth). Proxy auth would make every
    # device authenticate; this run is about metrics, so it uses the shipped policy with that one
    # option off (a supported configuration, tested on in tests/e2e/test_hardening_bypasses.py).
    from agent.context import DEFAULT_POLICY
    policy = tmp / "policy.yaml"
    shipped = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    assert "staff_requires_proxy_auth: true" in shipped
    policy.write_text(shipped.replace("staff_requires_proxy_auth: true", "staff_requires_proxy_auth: false"),
                      encoding="utf-8")
    with LocalOrigin(pki.leaf_cert, pki.leaf_key) as origin, \
            ConnectForwarder(origin.https_port, origin.http_port) as fwd, \
            CrossingGuardProcess(home, roster=roster.directory, devices=devices, metrics_port=port, policy=policy,
                                 mitm_args=["--mode", f"upstream:{fwd.url}", "--set", "ssl_insecure=true"]) as proxy:
        wait_http(port)
        # Hosts outside the catalog pass through untouched: the client then sees the origin's
        # own certificate, so it trusts both the district CA and the test origin's CA.
        bundle = tmp / "ca-bundle.pem"
        bundle.write_text(Path(proxy.ca_file).read_text() + Path(pki.ca_cert).read_text())
        run = Run(proxy, port, roster, home, 0, bundle)
        if traffic:
            browse(run)
        yield run


TRAFFIC = [  # (client address, URL, body or None for GET, blocked? (None: either))
    (YOUNG_IP, "https://instagram.com/", None, True),                                   # 11-year-old
    (YOUNG_IP, "https://www.instagram.com/api/v1/web/comments/1/add/", "comment_text=hi", True),
    (UNKNOWN_IP, "https://www.tiktok.com/foryou", None, True),                          # unidentified
    (TEEN_IP, "https://www.youtube.com/watch?v=abc", None, False),                      # 15-year-old
    (TEEN_IP, "https://example.com/", None, False),                                     # not a platform
    # staff posts are allowed and monitored: classified, one flagged, one unparseable
    (TEACHER_IP, TWEET, '{"variables":{"tweet_text":"Great field trip today, thanks to every family"}}', False),
    (TEACHER_IP, TWEET, '{"variables":{"tweet_text":"I am going to hurt you after school tomorrow"}}', None),
    (TEACHER_IP, TWEET, '{"variables": {"tweet_text": ', None),
]


def browse(run: Run) -> int:
    """Send TRAFFIC through the proxy with real HTTPS clients; returns how many were blocked."""
    from tests.support import proxied_client
    blocked = 0
    for ip, url, body, expect_block in TRAFFIC:
        with proxied_client(run.proxy.url, run.ca_bundle, source_ip=ip) as client:
            if body is None:
                r = client.get(url)
            else:
                kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
                r = client.post(url, content=body.encode(), headers={"content-type": kind})
        if expect_block:
            assert r.status_code >= 400, (url, r.status_code)
            blocked += 1
        elif expect_block is False:
            assert r.status_code == 200, (url, r.status_code)
    run.blocked += blocked
    return blocked


def wait_http(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            scrape(port)
            return
        except OSError as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"no /metrics on port {port} after {timeout}s: {last}")
