"""The real sample captures: every DNS name and SNI tshark extracts, the sensor extracts too
(tshark runs in the test); QUIC SNI and DHCP as the captures' expected.json says."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.sensor.conftest import pcap_dir, run_sensor
from tests.support.proxy import crossingguard_argv

FILES = sorted(p.name for p in pcap_dir().glob("*.pcap")) if pcap_dir() else []


def tshark_names(path) -> set[str]:
    tshark = shutil.which("tshark")
    assert tshark, "tshark is not installed (Debian package tshark; .ci/run installs it)"
    out = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "dns.qry.name",
                          "-e", "tls.handshake.extensions_server_name"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    names = set()
    for line in out.splitlines():
        for field in line.split("\t"):
            names.update(n.strip() for n in field.split(",") if n.strip())
    return names


@pytest.mark.parametrize("name", FILES)
def test_every_name_tshark_extracts_the_sensor_extracts(pcaps, name):
    path = pcaps / name
    expected = tshark_names(path)
    events, _ = run_sensor(path)
    got = {e["name"] for e in events if e["name"] and e["kind"] in ("dns", "tls", "quic")}
    assert expected <= got, f"missed by the sensor: {sorted(expected - got)}"


def test_expected_json_answers(pcaps):
    spec = json.loads((pcaps / "expected.json").read_text())
    assert set(spec) == set(FILES)
    for name, entry in spec.items():
        exp = entry["expected"]
        events, _ = run_sensor(pcaps / name)
        queries = {e["name"] for e in events if e["kind"] == "dns" and not e.get("response")}
        assert queries == set(exp["dns_queries"]), name
        assert set(exp["dns_response_only_names"]) <= {e["name"] for e in events if e.get("response")}
        assert {e["name"] for e in events if e["kind"] == "tls"} == set(exp["tls_sni"]), name
        assert {e["name"] for e in events if e["kind"] == "quic"} == set(exp["quic_sni"]), name
        for kind in ("tls", "quic"):
            by_client = {}
            for e in events:
                if e["kind"] == kind:
                    by_client.setdefault(e["src"], []).append(e["name"])
            assert {k: sorted(v) for k, v in by_client.items()} == \
                {k: sorted(v) for k, v in exp["by_client"][kind].items()}, (name, kind)
        dhcp = [e["dhcp"] for e in events if e["kind"] == "dhcp"]
        assert len(dhcp) == len(exp["dhcp"]), name
        for want, got in zip(exp["dhcp"], dhcp):
            assert got["msg_type"] == want["msg_type"] and got["mac"] == want["mac"]
            for key, field in (("hostname", "hostname"), ("requested_ip", "requested_ip"),
                               ("yiaddr", "assigned_ip"), ("domain", "domain")):
                if key in want:
                    assert got[field] == want[key], (name, key)


def test_quic_capture_is_a_bypass_and_the_cli_writes_the_contract_keys(pcaps, tmp_path):
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(tmp_path), "--pcap",
                                            str(pcaps / "quic_v1_snapchat.pcap")),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(l) for l in out.stdout.splitlines()]
    assert len(lines) == 1
    ev = lines[0]
    assert list(ev)[:8] == ["ts", "src", "src_mac", "dst", "kind", "name", "platform", "bypass"]
    assert (ev["kind"], ev["name"], ev["platform"], ev["bypass"], ev["quic_version"]) == \
        ("quic", "tr6.snapchat.com", "snapchat", "quic", "v1")
    assert ev["src"] == "765b:b77b:dad1:7e73:56f9:5a0f:52a3:f4f"
    # the bypass is an incident of kind bypass, without post text
    listed = subprocess.run(crossingguard_argv("incidents", "list", "--home", str(tmp_path), "--with-text"),
                            capture_output=True, text=True, timeout=60)
    incidents = [json.loads(l) for l in listed.stdout.splitlines()]
    assert [(i["kind"], i["platform"], i["labels"], i["text"]) for i in incidents] == \
        [("bypass", "snapchat", ["quic"], "")]
