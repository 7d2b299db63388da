"""DHCP identity end to end, with a real `crossingguard run`: the sensor reads a DHCP capture
(written by scapy here) that gives registered MACs new loopback addresses; the proxy, reading
the sensor's map off its loop, then judges requests from those addresses as their students,
including an address the registry still lists for the teacher (stale)."""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import origin_pki, upstream  # noqa: F401 - fixtures
from tests.sensor import build
from tests.support import CrossingGuardProcess, proxied_client, write_devices, write_test_roster

pytestmark = pytest.mark.e2e

YOUNG_MAC, TEEN_MAC, TEACHER_MAC = "02:00:00:00:77:01", "02:00:00:00:79:01", "02:00:00:00:78:01"
NEW_IP, STALE_IP = "127.0.0.77", "127.0.0.78"


def activity(home) -> list[dict]:
    out = []
    for f in sorted((home / "activity").glob("*.jsonl")):
        out += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines()]
    return out


def wait_for_record(home, path: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for rec in activity(home):
            if rec.get("path") == path:
                return rec
        time.sleep(0.1)
    raise AssertionError(f"no activity record for {path}: {activity(home)}")


def visit(proxy, origin_pki, ip: str, path: str) -> dict:  # noqa: F811
    with proxied_client(proxy.url, [proxy.ca_file, origin_pki.ca_cert], source_ip=ip) as c:
        c.get(f"https://www.instagram.com{path}")
    return wait_for_record(proxy.home, path)


def test_dhcp_lease_identifies_a_registered_mac_at_its_new_address(tmp_path, upstream, origin_pki):  # noqa: F811
    roster = write_test_roster(tmp_path / "roster")
    devices = write_devices(tmp_path / "devices.csv", [
        ("dev-young", roster.young, "", YOUNG_MAC),             # registered by MAC only
        ("dev-teen", roster.teen, "", TEEN_MAC),
        ("dev-teacher", roster.teacher, STALE_IP, TEACHER_MAC),  # the address the teacher HAD
    ])
    _, forwarder = upstream
    home = tmp_path / "home"
    proxy = CrossingGuardProcess(home, roster=roster.directory, devices=devices,
                                 mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                                            "--set", "crossingguard_dhcp_refresh_ms=200"])
    proxy.start()
    try:
        before = visit(proxy, origin_pki, NEW_IP, "/before-new")
        assert before["user"] == "unknown"
        stale_before = visit(proxy, origin_pki, STALE_IP, "/before-stale")
        assert stale_before["user"] == roster.teacher

        now = time.time()
        pcap = build.write(tmp_path / "dhcp.pcap",
                           build.dhcp_exchange(YOUNG_MAC, NEW_IP, "young-laptop", t0=now)
                           + build.dhcp_exchange(TEEN_MAC, STALE_IP, "teen-phone", t0=now + 1))
        ran = proxy.cli("sensor", "--pcap", pcap, "--no-incidents")
        assert ran.returncode == 0, ran.stderr
        acks = [json.loads(l) for l in ran.stdout.splitlines() if '"ACK"' in l]
        assert [(a["src"], a["src_mac"], a["name"]) for a in acks] == \
            [(NEW_IP, YOUNG_MAC, "young-laptop"), (STALE_IP, TEEN_MAC, "teen-phone")]

        # the proxy picks the map up within its refresh interval (new connections resolve anew)
        deadline = time.monotonic() + 20
        n = 0
        while True:
            n += 1
            rec = visit(proxy, origin_pki, NEW_IP, f"/after-new-{n}")
            if rec["user"] != "unknown" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (rec["user"], rec["device"]) == (roster.young, "dev-young")
        stale = visit(proxy, origin_pki, STALE_IP, "/after-stale")
        assert (stale["user"], stale["device"]) == (roster.teen, "dev-teen")
        # an address nobody leased is judged as before
        assert visit(proxy, origin_pki, "127.0.0.76", "/other")["user"] == "unknown"
    finally:
        proxy.stop()
    assert "Traceback" not in proxy.output()
