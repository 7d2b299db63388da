"""Bypass events become `bypass` incidents (no text, identified device, deduplicated) in a real
SQLite store, and the sensor metrics the IT dashboard reads are counted and exported."""
from __future__ import annotations

from agent.context import AppContext
from agent.identity import IdentityResolver
from agent.metrics import COUNTERS, SENSOR_BYPASSES, SENSOR_EVENTS
from agent.sensor import Event
from agent.sensor.report import Reporter


def test_bypasses_become_deduplicated_incidents_and_metrics(tmp_path):
    ctx = AppContext(tmp_path / "home")      # shipped policy, demo roster and its device registry
    store = ctx.store
    COUNTERS.reset()
    try:
        resolver = IdentityResolver(ctx.roster, ctx.devices)
        rep = Reporter(store, resolver, ctx.roster, window=3600)
        mila = dict(src="127.0.0.11", src_mac="02:00:00:00:10:01", dst="198.51.100.7")
        rep(Event(1000.0, kind="quic", name="www.instagram.com", platform="instagram", bypass="quic", **mila))
        rep(Event(1001.0, kind="quic", name="i.instagram.com", platform="instagram", bypass="quic", **mila))   # same hour
        rep(Event(1002.0, kind="vpn", name=None, platform=None, bypass="vpn_wireguard", **mila))
        rep(Event(1003.0, kind="dns", name="www.instagram.com", platform="instagram", bypass=None, **mila))
        rep(Event(5000.0, kind="quic", name="www.instagram.com", platform="instagram", bypass="quic", **mila))  # later
        rep(Event(1004.0, kind="p2p", name=None, platform=None, bypass="bittorrent",
                  src="10.9.9.9", src_mac="02:00:00:00:99:99", dst="203.0.113.5"))
        incidents = store.incidents()
        assert [(i.user, i.kind, i.platform, i.labels, i.text, i.severity, i.guidelines) for i in incidents] == [
            ("stu-1001", "bypass", "instagram", ("quic",), "", "low", ("student.1",)),
            ("stu-1001", "bypass", None, ("vpn_wireguard",), "", "medium", ("student.1",)),
            ("stu-1001", "bypass", "instagram", ("quic",), "", "low", ("student.1",)),
            ("unknown", "bypass", None, ("bittorrent",), "", "low", ("student.10",)),
        ]
        assert incidents[0].school and incidents[0].evidence[0]["device"] == "cb-mila"
        assert incidents[0].evidence[0]["name"] == "www.instagram.com"
        assert COUNTERS.values[(SENSOR_EVENTS, ("quic",))] == 3
        assert COUNTERS.values[(SENSOR_EVENTS, ("dns",))] == 1
        assert COUNTERS.values[(SENSOR_BYPASSES, ("quic",))] == 3
        assert COUNTERS.values[(SENSOR_BYPASSES, ("bittorrent",))] == 1
    finally:
        store.close()


def test_sensor_metrics_are_exported_under_the_dashboard_names():
    import urllib.request
    from agent.metrics.exporter import serve
    COUNTERS.reset()
    Reporter()(Event(1.0, "10.0.0.1", None, "10.0.0.2", "tls", "x.com", "x", "direct"))
    server = serve(0)
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10).read().decode()
    finally:
        server.stop()
        COUNTERS.reset()
    assert 'crossingguard_sensor_events_total{kind="tls"} 1.0' in body
    assert 'crossingguard_sensor_bypasses_total{kind="direct"} 1.0' in body
    import json
    from pathlib import Path
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "dashboards" / "crossingguard-it.json").read_text())
    exprs = json.dumps(dashboard)
    assert "crossingguard_sensor_bypasses_total" in exprs and "crossingguard_sensor_events_total" in exprs


def test_cli_bypass_by_a_device_known_only_through_its_dhcp_lease(tmp_path):
    """The sensor's own identity lookup uses the leases it just saw: a registered MAC that DHCP
    gave a new address is named on the incident of its QUIC bypass."""
    import json
    import subprocess
    import time

    from agent.sensor import quic as q
    from tests.sensor import build
    from tests.support.proxy import crossingguard_argv
    mila_mac, new_ip = "02:00:00:00:10:01", "10.50.0.9"       # cb-mila in the demo registry (stu-1001)
    now = time.time()
    initial = build.protect_initial(q.V1, b"\x07" * 8, build.crypto_frame(0, build.client_hello("www.instagram.com",
                                                                                              alpn=("h3",))))
    pkts = build.dhcp_exchange(mila_mac, new_ip, "mila-cb", t0=now)
    pkts.append(build.udp_packet(initial, src=new_ip, src_mac=mila_mac, t=now + 1))
    path = build.write(tmp_path / "bypass.pcap", pkts)
    home = tmp_path / "home"
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(home), "--pcap", path),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    quic = [json.loads(l) for l in out.stdout.splitlines() if '"quic"' in l]
    assert [(e["src"], e["src_mac"], e["bypass"]) for e in quic] == [(new_ip, mila_mac, "quic")]
    listed = subprocess.run(crossingguard_argv("incidents", "list", "--home", str(home)),
                            capture_output=True, text=True, timeout=60)
    incidents = [json.loads(l) for l in listed.stdout.splitlines()]
    assert [(i["user"], i["kind"], i["platform"], i["labels"]) for i in incidents] == \
        [("stu-1001", "bypass", "instagram", ["quic"])]
