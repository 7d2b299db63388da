"""The Grafana dashboards: valid, importable anywhere, and every panel documented.

Label existence against a real scrape is checked in test_scrape_e2e.py; here the variables are
checked against the label names the exporter declares."""
import json
import re

import pytest

from agent import metrics as m
from agent import metrics as x
from tests.metrics.helpers import DASHBOARDS, TARGET_LABELS, dashboard_panels, promql_metric_names

REQUIRED = {"crossingguard-it.json", "crossingguard-student-services.json"}


def load(path):
    return json.loads(path.read_text())


def test_both_dashboards_exist():
    assert REQUIRED <= {p.name for p in DASHBOARDS}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_structure(path):
    d = load(path)
    assert d["schemaVersion"] >= 39
    assert d["uid"] and d["title"] and d["description"]
    assert d.get("id") is None, "an exported id would clash on import"
    assert [i["name"] for i in d["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in dashboard_panels(path)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_no_hard_coded_datasource_uid(path):
    text = path.read_text()
    uids = set(re.findall(r'"uid":\s*"([^"]*)"', text)) - {load(path)["uid"]}
    assert uids <= {"${DS_PROMETHEUS}", "-- Grafana --"}, uids


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_has_query_title_unit_thresholds_description(path):
    panels = [p for p in dashboard_panels(path) if p["type"] != "row"]
    assert len(panels) >= 6
    for p in panels:
        where = f"{path.name}: panel {p.get('id')} {p.get('title')!r}"
        assert p.get("title"), where
        assert len(p.get("description", "")) >= 20, f"{where}: description"
        defaults = p["fieldConfig"]["defaults"]
        assert defaults.get("unit"), f"{where}: unit"
        steps = defaults.get("thresholds", {}).get("steps")
        assert steps and steps[0]["value"] is None, f"{where}: thresholds"
        assert p["targets"], f"{where}: no query"
        for t in p["targets"]:
            assert t["expr"].strip(), f"{where}: empty query"
            assert t["datasource"]["uid"] == "${DS_PROMETHEUS}", where
            assert promql_metric_names(t["expr"]), f"{where}: query selects no metric"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_do_not_overlap(path):
    cells = set()
    for p in dashboard_panels(path):
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for dx in range(g["w"]):
            for dy in range(g["h"]):
                cell = (g["x"] + dx, g["y"] + dy)
                assert cell not in cells, f"{path.name}: {p['title']} overlaps at {cell}"
                cells.add(cell)


def declared_labels(metric: str) -> set[str]:
    base = re.sub(r"\{.*\}", "", metric)
    names = x.label_names(base) or x.STATE_LABELS.get(base, ())
    return set(names) | TARGET_LABELS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_variables_query_labels_the_exporter_declares(path):
    d = load(path)
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    queries = [v for v in variables.values() if v["type"] == "query"]
    assert {"platform"} <= set(variables)
    for v in queries:
        q = v["query"]["query"]
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q)
        assert match, f"{v['name']}: {q}"
        metric, label = match.groups()
        if metric.startswith("up"):
            assert label in TARGET_LABELS
        else:
            assert label in declared_labels(metric), f"{path.name}: ${v['name']} uses {label} of {metric}"
        # the variable is used by at least one panel
        used = any(f"${v['name']}" in t["expr"] for p in dashboard_panels(path) for t in p.get("targets", []))
        assert used, f"{path.name}: variable {v['name']} is not used"


def test_student_services_has_school_variable_and_counts_only():
    path = next(p for p in DASHBOARDS if p.name == "crossingguard-student-services.json")
    d = load(path)
    assert "school" in {v["name"] for v in d["templating"]["list"]}
    text = path.read_text()
    for personal in ("user", "device", "student_id", "ip"):
        assert f'by ({personal}' not in text
    names = {n for p in dashboard_panels(path) for t in p.get("targets", []) for n in promql_metric_names(t["expr"])}
    assert {m.INCIDENTS, x.INCIDENTS_OPEN, x.INCIDENTS_OVERDUE, m.ALERT_FAILURES} <= names


def test_grafana_provisioning_files():
    import yaml
    from tests.metrics.helpers import ROOT
    prov = ROOT / "deploy" / "grafana" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "crossingguard.yml").read_text())
    (source,) = ds["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"].startswith("http")
    # $__rate_interval needs Grafana to know the scrape interval the shipped Prometheus uses
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert source["jsonData"]["timeInterval"] == prom["global"]["scrape_interval"]
    dash = yaml.safe_load((prov / "dashboards" / "crossingguard.yml").read_text())
    (provider,) = dash["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]


def test_json_matches_the_generator():
    """dashboards/generate.py is where panels are edited; the shipped JSON must be its output."""
    import runpy
    from tests.metrics.helpers import ROOT
    gen = runpy.run_path(str(ROOT / "dashboards" / "generate.py"), run_name="not_main")
    for name, d in gen["DASHBOARDS"].items():
        assert (ROOT / "dashboards" / name).read_text() == gen["render"](d), f"regenerate {name}"
