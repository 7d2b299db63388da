"""Writes dashboards/crossingguard-it.json and crossingguard-student-services.json.

    python dashboards/generate.py dashboards

The JSON files are what Grafana imports; this script keeps their layout, units, thresholds and
descriptions consistent. Edit here and regenerate (tests/metrics/test_dashboards.py checks the
JSON matches). Panel and alert meanings: docs/metrics.md.
"""
import json
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}

def thresholds(*steps):
    out = [{"color": steps[0], "value": None}]
    for value, color in zip(steps[1::2], steps[2::2]):
        out.append({"color": color, "value": value})
    return {"mode": "absolute", "steps": out}

class Builder:
    def __init__(self):
        self.panels, self.y, self.id = [], 0, 1
        self.x = 0
        self.row_h = 0

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "id": self.id, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.id += 1
        self.y += 1

    def _newline(self):
        if self.x:
            self.y += self.row_h
            self.x, self.row_h = 0, 0

    def panel(self, kind, title, desc, targets, unit, th, w=8, h=8, options=None, custom=None,
              decimals=None, min_=None, max_=None, mappings=None):
        if self.x + w > 24:
            self._newline()
        defaults = {"unit": unit, "thresholds": th, "color": {"mode": "thresholds" if kind in ("stat", "bargauge", "gauge") else "palette-classic"}}
        if kind == "timeseries":
            defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                                  "spanNulls": False, "stacking": {"mode": "none", "group": "A"},
                                  "thresholdsStyle": {"mode": "off"}}
            defaults["custom"].update(custom or {})
        if decimals is not None:
            defaults["decimals"] = decimals
        if min_ is not None:
            defaults["min"] = min_
        if max_ is not None:
            defaults["max"] = max_
        if mappings:
            defaults["mappings"] = mappings
        tg = []
        for i, t in enumerate(targets):
            expr, legend = t[0], t[1]
            extra = t[2] if len(t) > 2 else {}
            tg.append({"datasource": DS, "refId": chr(65 + i), "expr": expr, "legendFormat": legend,
                       "range": extra.get("range", kind == "timeseries"), "instant": extra.get("instant", kind != "timeseries"),
                       **({"format": extra["format"]} if "format" in extra else {})})
        p = {"type": kind, "title": title, "description": desc, "id": self.id, "datasource": DS,
             "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
             "fieldConfig": {"defaults": defaults, "overrides": []}, "targets": tg, "options": options or {}}
        if kind == "timeseries" and not options:
            p["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                            "tooltip": {"mode": "multi", "sort": "desc"}}
        if kind == "stat" and not options:
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "colorMode": "background", "graphMode": "none", "textMode": "auto", "justifyMode": "auto",
                            "orientation": "auto"}
        if kind == "bargauge" and not options:
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True}
        self.panels.append(p)
        self.id += 1
        self.x += w
        self.row_h = max(self.row_h, h)

def ds_var():
    return {"name": "DS_PROMETHEUS", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": [], "includeAll": False, "multi": False}

def q_var(name, label, metric, label_name, desc):
    return {"name": name, "label": label, "type": "query", "datasource": DS, "description": desc,
            "definition": f"label_values({metric}, {label_name})",
            "query": {"query": f"label_values({metric}, {label_name})", "refId": "PrometheusVariableQueryEditor-VariableQuery",
                      "qryType": 1},
            "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "options": [],
            "hide": 0, "regex": "", "sort": 1}

def dashboard(uid, title, desc, tags, panels, variables, refresh="30s", time_from="now-6h"):
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "The Prometheus that scrapes the CrossingGuard proxies",
                      "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.2.0"},
                       {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                       {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                       {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
                       {"type": "panel", "id": "bargauge", "name": "Bar gauge", "version": ""},
                       {"type": "panel", "id": "table", "name": "Table", "version": ""}],
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
                                  "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
                                  "type": "dashboard"}]},
        "description": desc, "editable": True, "fiscalYearStartMonth": 0, "graphTooltip": 1, "id": None,
        "links": [], "liveNow": False, "panels": panels, "refresh": refresh, "schemaVersion": 39,
        "tags": tags, "templating": {"list": variables}, "time": {"from": time_from, "to": "now"},
        "timepicker": {}, "timezone": "browser", "title": title, "uid": uid, "version": 1, "weekStart": ""}

RI = "$__rate_interval"
P = 'platform=~"$platform"'

# ---------------- IT ----------------
b = Builder()
b.row("Availability")
b.panel("stat", "Proxies up", "Proxy processes Prometheus scraped successfully on the last scrape, out of the configured targets. Red when any target is down (alert CrossingGuardProxyDown).",
        [('sum(up{job="crossingguard", instance=~"$instance"})', "up"), ('count(up{job="crossingguard", instance=~"$instance"})', "configured")],
        "none", thresholds("red", 1, "green"), w=4, h=5, decimals=0)
b.panel("stat", "Proxies down", "Configured proxy targets whose last scrape failed.",
        [('count(up{job="crossingguard", instance=~"$instance"} == 0) or vector(0)', "down")],
        "none", thresholds("green", 1, "red"), w=4, h=5, decimals=0)
b.panel("stat", "Uptime", "Time since each proxy process started (process_start_time_seconds). A recent restart shows as a small value.",
        [('time() - process_start_time_seconds{job="crossingguard", instance=~"$instance"}', "{{instance}}")],
        "s", thresholds("orange", 600, "green"), w=4, h=5)
b.panel("table", "Version and policy", "crossingguard_build_info per process: package version and the first 16 hex digits of the policy file's SHA-256. Processes disagreeing on the policy hash are running different policies.",
        [('max by (instance, version, policy_hash) (crossingguard_build_info{instance=~"$instance"})', "", {"format": "table", "instant": True, "range": False})],
        "none", thresholds("green"), w=12, h=5,
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"], "fields": ""}})
b.panel("timeseries", "CPU per process", "CPU time used per second by each proxy process (1.0 = one full core). mitmproxy runs one event loop, so a process near 1.0 is saturated: add processes.",
        [(f'rate(process_cpu_seconds_total{{job="crossingguard", instance=~"$instance"}}[{RI}])', "{{instance}}")],
        "percentunit", thresholds("green", 0.8, "orange", 0.95, "red"), w=12, h=7, min_=0, custom={"thresholdsStyle": {"mode": "line"}})
b.panel("timeseries", "Resident memory per process", "Resident set size of each proxy process.",
        [('process_resident_memory_bytes{job="crossingguard", instance=~"$instance"}', "{{instance}}")],
        "bytes", thresholds("green", 2e9, "orange", 4e9, "red"), w=12, h=7, min_=0)

b.row("Traffic and blocks")
b.panel("timeseries", "Requests by platform and verdict", "Requests per second to catalogued platforms, split by platform and verdict (allow/block).",
        [(f'sum by (platform, verdict) (rate(crossingguard_requests_total{{{P}, instance=~"$instance"}}[{RI}]))', "{{platform}} {{verdict}}")],
        "reqps", thresholds("green"), w=12, h=8, min_=0)
b.panel("timeseries", "Blocks by platform", "Blocked requests per second by platform.",
        [(f'sum by (platform) (rate(crossingguard_blocks_total{{{P}, instance=~"$instance"}}[{RI}]))', "{{platform}}")],
        "reqps", thresholds("green"), w=12, h=8, min_=0)
b.panel("bargauge", "Blocks by guideline (time range)", "Blocks over the selected time range, by the guideline clause the policy rule cites (e.g. student.4). Explains why traffic is blocked.",
        [(f'sort_desc(sum by (guideline) (increase(crossingguard_blocks_total{{{P}, instance=~"$instance"}}[$__range])))', "{{guideline}}", {"instant": True, "range": False})],
        "short", thresholds("green"), w=8, h=8, decimals=0, min_=0)
b.panel("stat", "Block ratio", "Share of platform requests blocked over 5 minutes (recording rule crossingguard:block_ratio:rate5m). A jump usually means a policy change or a new device population.",
        [("crossingguard:block_ratio:rate5m", "blocked")],
        "percentunit", thresholds("green", 0.5, "orange", 0.8, "red"), w=4, h=8, decimals=1, min_=0, max_=1)
b.panel("timeseries", "Requests by policy action", "Requests per second by the policy action taken: allow, block, read_only (reads allowed, writes blocked) or monitor.",
        [(f'sum by (action) (rate(crossingguard_requests_total{{{P}, instance=~"$instance"}}[{RI}]))', "{{action}}")],
        "reqps", thresholds("green"), w=6, h=8, min_=0)
b.panel("timeseries", "Tunnels by handling", "CONNECT tunnels per second: intercepted (TLS inspected), passthrough (certificate-pinned hosts left alone) or ignored.",
        [(f'sum by (reason) (rate(crossingguard_tunnels_total{{instance=~"$instance"}}[{RI}]))', "{{reason}}")],
        "ops", thresholds("green"), w=6, h=8, min_=0)

b.row("Posts and classifier latency")
b.panel("timeseries", "Posts seen and classified", "User-written posts found in write requests per second, and how many the classifiers scored, by platform. A gap between the two means posts were not classified (see extraction failures and addon errors).",
        [(f'sum by (platform) (rate(crossingguard_posts_total{{{P}, instance=~"$instance"}}[{RI}]))', "seen {{platform}}"),
         (f'sum by (platform) (rate(crossingguard_posts_classified_total{{{P}, instance=~"$instance"}}[{RI}]))', "classified {{platform}}")],
        "ops", thresholds("green"), w=12, h=8, min_=0)
b.panel("timeseries", "Classifier latency", "Time to classify a batch of posts: 50th, 95th and 99th percentiles from the crossingguard_classifier_latency_seconds histogram. The line marks the CrossingGuardClassifierLatencyHigh threshold (250 ms at p95).",
        [(f'histogram_quantile(0.5, sum by (le) (rate(crossingguard_classifier_latency_seconds_bucket{{instance=~"$instance"}}[{RI}])))', "p50"),
         (f'histogram_quantile(0.95, sum by (le) (rate(crossingguard_classifier_latency_seconds_bucket{{instance=~"$instance"}}[{RI}])))', "p95"),
         (f'histogram_quantile(0.99, sum by (le) (rate(crossingguard_classifier_latency_seconds_bucket{{instance=~"$instance"}}[{RI}])))', "p99")],
        "s", thresholds("green", 0.1, "orange", 0.25, "red"), w=12, h=8, min_=0, custom={"thresholdsStyle": {"mode": "line"}})

b.row("Errors")
b.panel("timeseries", "Addon errors", "Exceptions caught per second in each proxy addon. Each addon continues per its documented fail mode (students fail closed), so errors mean degraded filtering, not an outage.",
        [(f'sum by (addon) (rate(crossingguard_addon_errors_total{{instance=~"$instance"}}[{RI}]))', "{{addon}}")],
        "ops", thresholds("green", 0.01, "orange", 0.1, "red"), w=8, h=8, min_=0, custom={"thresholdsStyle": {"mode": "line"}})
b.panel("timeseries", "Extraction failures", "Write requests whose post could not be extracted, per second, by platform and reason. Usually a platform changed its API format.",
        [(f'sum by (platform, reason) (rate(crossingguard_extraction_failures_total{{{P}, instance=~"$instance"}}[{RI}]))', "{{platform}} {{reason}}")],
        "ops", thresholds("green", 0.01, "orange", 0.1, "red"), w=8, h=8, min_=0)
b.panel("timeseries", "Alert delivery failures", "Incident notifications that failed to send, per channel, over 15 minutes (alert CrossingGuardAlertDeliveryFailing).",
        [('sum by (channel) (increase(crossingguard_alert_delivery_failures_total{instance=~"$instance"}[15m]))', "{{channel}}")],
        "short", thresholds("green", 1, "red"), w=8, h=8, min_=0, decimals=0)
b.panel("timeseries", "Activity log", "Activity-log lines written per second and the writer's queue depth (lines waiting for disk). A growing queue means a slow or full disk (alert CrossingGuardActivityLogBacklog).",
        [(f'sum by (instance) (rate(crossingguard_activity_lines_written_total{{instance=~"$instance"}}[{RI}]))', "written/s {{instance}}"),
         ('crossingguard_activity_queue_depth{instance=~"$instance"}', "queued {{instance}}")],
        "short", thresholds("green", 1000, "orange", 10000, "red"), w=12, h=8, min_=0)
b.panel("timeseries", "Store spool depth", "Records (incidents, audit entries) waiting in the spool because the database was unavailable. Should be 0; a rising line triggers CrossingGuardSpoolGrowing.",
        [('crossingguard_store_spool_depth{instance=~"$instance"}', "{{instance}}")],
        "short", thresholds("green", 1, "orange", 100, "red"), w=12, h=8, min_=0, decimals=0)

b.row("Identity and bypass")
b.panel("stat", "Identity coverage", "Share of requests over 5 minutes whose user was identified (proxy auth, device registry or DHCP) rather than treated as unknown (recording rule crossingguard:identity_known:ratio5m). Unknown users get the strictest policy.",
        [("crossingguard:identity_known:ratio5m", "identified")],
        "percentunit", thresholds("red", 0.8, "orange", 0.95, "green"), w=6, h=8, decimals=1, min_=0, max_=1)
b.panel("timeseries", "Identity resolutions by source", "How users were identified, per second: auth (proxy login), device (registry by IP/MAC), dhcp (sensor-seen DHCP) or unknown.",
        [(f'sum by (source) (rate(crossingguard_identity_resolutions_total{{instance=~"$instance"}}[{RI}]))', "{{source}}")],
        "ops", thresholds("green"), w=10, h=8, min_=0, custom={"stacking": {"mode": "percent", "group": "A"}, "fillOpacity": 60})
b.panel("stat", "Active teacher sessions", "Teacher-directed sessions active now (a class may use a platform fully for the session).",
        [('max(crossingguard_teacher_sessions_active{instance=~"$instance"})', "sessions")],
        "none", thresholds("green"), w=8, h=4, decimals=0)
b.panel("bargauge", "Bypass attempts by kind (time range)", "Social-media traffic the network sensor saw that did not go through the proxy (DNS over HTTPS, QUIC, direct TLS...), by kind, over the selected range.",
        [('sort_desc(sum by (kind) (increase(crossingguard_sensor_bypasses_total[$__range])))', "{{kind}}", {"instant": True, "range": False})],
        "short", thresholds("green", 1, "orange", 50, "red"), w=8, h=4, decimals=0, min_=0)
b.panel("timeseries", "Sensor events and bypasses", "Events per second the sensor decoded, by kind, and bypasses per second (dashed).",
        [(f'sum by (kind) (rate(crossingguard_sensor_events_total[{RI}]))', "event {{kind}}"),
         (f'sum by (kind) (rate(crossingguard_sensor_bypasses_total[{RI}]))', "bypass {{kind}}")],
        "ops", thresholds("green"), w=24, h=8, min_=0)

it_vars = [ds_var(),
           q_var("instance", "Proxy", 'up{job="crossingguard"}', "instance", "Proxy processes (Prometheus targets)."),
           q_var("platform", "Platform", "crossingguard_requests_total", "platform", "Platform ids from the catalog that saw traffic.")]
it = dashboard("crossingguard-it", "CrossingGuard — IT operations",
               "Is the filter up, what does it block and why, how fast, what fails. Data: the crossingguard_* metrics of every proxy (docs/metrics.md).",
               ["crossingguard", "it"], b.panels, it_vars)

# ---------------- Student services ----------------
b = Builder()
S = 'school=~"$school"'
b.row("Now")
b.panel("stat", "Open incidents by severity", "Incidents not yet picked up by a counselor (status open), by severity, read from the incident store. Max across proxies: they share one store.",
        [('max by (severity) (crossingguard_incidents_open)', "{{severity}}")],
        "none", thresholds("green", 1, "orange", 10, "red"), w=8, h=5, decimals=0)
b.panel("stat", "Overdue incidents by severity", "Open incidents older than their acknowledgement target: critical 15 minutes, high 1 hour, medium 24 hours, low 72 hours.",
        [('max by (severity) (crossingguard_incidents_overdue)', "{{severity}}")],
        "none", thresholds("green", 1, "red"), w=8, h=5, decimals=0)
b.panel("stat", "Oldest open critical incident", "Age of the oldest critical incident nobody has acknowledged yet. Red after 15 minutes (alert CrossingGuardCriticalIncidentUnacknowledged). Shows 0 when none is open.",
        [('(time() - max(crossingguard_incidents_oldest_open_timestamp_seconds{severity="critical"} > 0)) or vector(0)', "age")],
        "s", thresholds("green", 1, "orange", 900, "red"), w=8, h=5)

b.row("Trends (no names: counts only)")
b.panel("timeseries", "Incidents by category", "New incidents per hour by category (bullying, threat, self_harm, pii, impersonation) in the selected schools.",
        [(f'sum by (category) (increase(crossingguard_incidents_total{{{S}}}[1h]))', "{{category}}")],
        "short", thresholds("green"), w=12, h=8, min_=0, custom={"drawStyle": "bars", "fillOpacity": 70, "stacking": {"mode": "normal", "group": "A"}})
b.panel("timeseries", "Incidents by severity", "New incidents per hour by severity in the selected schools.",
        [(f'sum by (severity) (increase(crossingguard_incidents_total{{{S}}}[1h]))', "{{severity}}")],
        "short", thresholds("green"), w=12, h=8, min_=0, custom={"drawStyle": "bars", "fillOpacity": 70, "stacking": {"mode": "normal", "group": "A"}})
b.panel("bargauge", "Incidents by school (time range)", "Incidents created over the selected time range, by school (roster organisation id). Use it to see where incidents rise, not who.",
        [(f'sort_desc(sum by (school) (increase(crossingguard_incidents_total{{{S}}}[$__range])))', "{{school}}", {"instant": True, "range": False})],
        "short", thresholds("green", 10, "orange", 50, "red"), w=12, h=8, decimals=0, min_=0)
b.panel("table", "Incidents by school and category (time range)", "Counts over the selected range per school and category. Counts only: no students, posts or devices are in the metrics.",
        [(f'sum by (school, category) (increase(crossingguard_incidents_total{{{S}}}[$__range])) > 0', "", {"format": "table", "instant": True, "range": False})],
        "short", thresholds("green"), w=12, h=8, decimals=0,
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"], "fields": ""}})
b.panel("timeseries", "Posts classified by platform", "Posts the classifiers scored per hour, by platform: the denominator behind the incident counts.",
        [('sum by (platform) (increase(crossingguard_posts_classified_total{platform=~"$platform"}[1h]))', "{{platform}}")],
        "short", thresholds("green"), w=12, h=8, min_=0)

b.row("Alert delivery")
b.panel("stat", "Alert deliveries failed (15 min)", "Incident notifications that failed to send in the last 15 minutes (recording rule crossingguard:alert_delivery_failures:increase15m). Anything above 0 means counselors may not be told about new incidents.",
        [("crossingguard:alert_delivery_failures:increase15m or vector(0)", "failed")],
        "none", thresholds("green", 1, "red"), w=6, h=8, decimals=0)
b.panel("timeseries", "Alert delivery failures by channel", "Failed notifications per hour by channel (e.g. smtp, webhook).",
        [('sum by (channel) (increase(crossingguard_alert_delivery_failures_total[1h]))', "{{channel}}")],
        "short", thresholds("green", 1, "red"), w=18, h=8, min_=0)

ss_vars = [ds_var(),
           q_var("school", "School", "crossingguard_incidents_total", "school", "Schools (roster organisation ids) with incident counts."),
           q_var("platform", "Platform", "crossingguard_posts_classified_total", "platform", "Platforms whose posts were classified.")]
ss = dashboard("crossingguard-student-services", "CrossingGuard — Student services",
               "Where and what kind of incidents rise, and whether counselors are told in time. Counts only, never names (docs/metrics.md).",
               ["crossingguard", "student-services"], b.panels, ss_vars, refresh="1m", time_from="now-7d")

DASHBOARDS = {"crossingguard-it.json": it, "crossingguard-student-services.json": ss}


def render(d: dict) -> str:
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "dashboards"
    for name, d in DASHBOARDS.items():
        with open(f"{out}/{name}", "w", encoding="utf-8") as fh:
            fh.write(render(d))
        print(f"wrote {out}/{name}")
