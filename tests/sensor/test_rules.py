"""Pure rules as tables: bypass judgement, signatures, proxy address parsing, stream
reassembly, bounded flow tables and memory on a long capture."""
from __future__ import annotations

import pytest

from agent.commands.sensor import parse_proxy
from agent.errors import UsageError
from agent.policy.catalog import default_catalog
from agent.sensor import Limits, Sensor, judge_bypass
from agent.sensor.flows import FlowTable, Stream
from agent.sensor.httpreq import request_host
from agent.sensor.signatures import tcp_signature, tor_like, udp_signature
from agent.sensor.wire import ip_raw
from tests.sensor import build


@pytest.mark.parametrize("kind, category, platform, dport, via_proxy, proxy_known, expected", [
    ("tls", "social", "instagram", 443, False, True, "direct"),
    ("tls", "social", "instagram", 443, True, True, None),
    ("tls", "social", "instagram", 443, False, False, None),     # no --proxy: cannot tell
    ("http", "video", "youtube", 80, False, True, "direct"),
    ("quic", "social", "snapchat", 443, False, False, "quic"),
    ("quic", None, None, 443, False, True, None),                 # QUIC to an ordinary site
    ("tls", "doh", "doh_google", 443, False, False, "doh"),
    ("tls", "doh", "doh_google", 443, True, True, None),          # DoH through the proxy: the proxy blocks it
    ("tls", "doh", "doh_google", 853, False, False, "dot"),
    ("quic", "doh", "doh_cloudflare", 443, False, False, "doh"),
    ("dns", "social", "instagram", 53, False, True, None),        # a lookup is not a bypass
    ("tls", None, None, 443, False, True, None),
])
def test_judge_bypass(kind, category, platform, dport, via_proxy, proxy_known, expected):
    assert judge_bypass(kind, category, platform, dport=dport, via_proxy=via_proxy,
                        proxy_known=proxy_known) == expected


WG = b"\x01\x00\x00\x00" + bytes(144)
OVPN = b"\x38" + bytes.fromhex("0102030405060708") + bytes(5)


@pytest.mark.parametrize("payload, sport, dport, expected", [
    (WG, 40000, 51820, "vpn_wireguard"),
    (WG, 40000, 443, "vpn_wireguard"),
    (WG[:-1], 40000, 51820, None),                                 # wrong size
    (b"\x02\x00\x00\x00" + bytes(88), 40000, 51820, None),         # a response, not an initiation
    (OVPN, 40000, 1194, "vpn_openvpn"),
    (OVPN, 40000, 9999, None),                                     # not an OpenVPN port
    (b"\x50" + OVPN[1:], 40000, 443, None),                        # a QUIC short header on 443
    (OVPN[:-1] + b"\x01", 40000, 1194, None),                      # packet id not zero
    (bytes.fromhex("1122334455667788") + bytes(8) + b"\x21\x20\x22\x08" + bytes(8), 500, 500, "vpn_ipsec"),
    (bytes(4) + bytes.fromhex("1122334455667788") + bytes(8) + b"\x21\x20\x22\x08" + bytes(8), 4500, 4500,
     "vpn_ipsec"),
    (bytes.fromhex("1122334455667788") + bytes.fromhex("99") * 8 + b"\x21\x20\x22\x08" + bytes(8), 500, 500,
     None),                                                        # responder SPI set: not the first message
    (b"d1:ad2:id20:" + bytes(20) + b"e1:q4:pinge", 6881, 6881, "bittorrent_dht"),
    (b"d1:rd2:id20:" + bytes(20) + b"ee", 6881, 6881, "bittorrent_dht"),
    (b"d1:xd2:id20:" + bytes(20) + b"ee", 6881, 6881, None),
    (b"hello world", 1, 2, None),
])
def test_udp_signatures(payload, sport, dport, expected):
    assert udp_signature(payload, sport, dport) == expected


@pytest.mark.parametrize("payload, expected", [
    (b"\x13BitTorrent protocol" + bytes(48), "bittorrent"),
    ((14).to_bytes(2, "big") + OVPN, "vpn_openvpn"),
    ((15).to_bytes(2, "big") + OVPN, None),
    (b"GET / HTTP/1.1\r\n", None),
])
def test_tcp_signatures(payload, expected):
    assert tcp_signature(payload) == expected


@pytest.mark.parametrize("sni, alpn, resolved, expected", [
    ("www.q4cyamnc6mtokuvm.com", (), False, True),
    ("www.bcdfghkuvmxyzq.net", (), False, True),
    ("www.q4cyamnc6mtokuvm.com", ("h2",), False, False),     # browsers send ALPN
    ("www.q4cyamnc6mtokuvm.com", (), True, False),           # somebody resolved it: a real site
    ("www.wikipedia.com", (), False, False),
    ("www.facebook.com", (), False, False),
    ("q4cyamnc6mtokuvm.com", (), False, False),
    (None, (), False, False),
])
def test_tor_like(sni, alpn, resolved, expected):
    assert tor_like(sni, alpn, resolved) is expected


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.5", (ip_raw("10.0.0.5"), None)),
    ("10.0.0.5:3128", (ip_raw("10.0.0.5"), 3128)),
    ("[2001:db8::1]:8080", (ip_raw("2001:db8::1"), 8080)),
    ("2001:db8::1", (ip_raw("2001:db8::1"), None)),
    (None, None),
])
def test_parse_proxy(text, expected):
    assert parse_proxy(text) == expected


@pytest.mark.parametrize("text", ["proxy.example", "10.0.0.5:0", "10.0.0.5:99999", "10.0.0.5:http", "[::1"])
def test_parse_proxy_errors(text):
    with pytest.raises(UsageError, match="--proxy"):
        parse_proxy(text)


@pytest.mark.parametrize("head, expected", [
    (b"GET / HTTP/1.1\r\nHost: Example.COM\r\n\r\n", ("GET", "Example.COM")),
    (b"GET / HTTP/1.1\r\nhost:example.com:8080\r\n\r\n", ("GET", "example.com")),
    (b"GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", ("GET", "2001:db8::1")),
    (b"CONNECT discord.com:443 HTTP/1.1\r\n\r\n", ("CONNECT", "discord.com")),
    (b"GET http://user@x.example/p HTTP/1.1\r\nHost: y.example\r\n\r\n", ("GET", "x.example")),
    (b"GET / HTTP/1.0\r\n\r\n", ("GET", None)),
    (b"GET / HTTP/1.1\r\nHost: example.com\r\n", "more"),
    (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n", "failed"),
    (b"GET / SPDY/3\r\n\r\n", "failed"),
])
def test_request_host(head, expected):
    assert request_host(head) == expected


def test_stream_reassembly_in_any_order_with_overlaps():
    data = bytes(range(256)) * 4
    st = Stream(base=0xFFFFFF00, proto="tls", max_bytes=4096)   # sequence numbers wrap
    pieces = [(300, 700), (0, 100), (650, 1024), (90, 310), (0, 50)]
    for a, b in pieces:
        st.add((0xFFFFFF00 + a) & 0xFFFFFFFF, data[a:b])
    assert bytes(st.data) == data and st.pending == {} and st.pending_bytes == 0


def test_stream_keeps_at_most_max_bytes():
    st = Stream(base=0, proto="tls", max_bytes=100)
    for off in range(1000, 100_000, 1000):
        st.add(off, b"x" * 1000)                  # all ahead of the gap: none fits the budget
    assert st.pending_bytes <= 100
    st.add(0, b"y" * 5000)
    assert len(st.data) == 100 and st.full


def test_flow_table_cap_and_timeout():
    t = FlowTable(cap=3, timeout=10)
    for i in range(5):
        t.put(i, i, now=float(i))
    assert list(t.items) == [2, 3, 4] and t.evicted == 2
    t.touch(2, now=20.0)
    assert t.sweep(now=20.5) == 2 and list(t.items) == [2]


def test_memory_stays_bounded_on_many_unfinished_handshakes():
    """50,000 connections that each send half a ClientHello and vanish: the tables never exceed
    their caps, and after the time-out they are empty."""
    limits = Limits(streams=500, syns=500, quic=50, timeout=5.0)
    events = []
    sensor = Sensor(default_catalog(), events.append, limits=limits)
    half = build.records(build.client_hello("www.instagram.com", padding=2000))[:1000]
    syn, _, _, data = [bytes(p) for p in build.tcp_session(half)]
    import struct
    peak = 0
    for i in range(50_000):
        port = struct.pack("!H", 1024 + i % 60000)
        src = struct.pack("!I", 0xC0000200 + (i // 60000))
        ts = 1_700_000_000.0 + i * 0.001
        for frame in (syn, data):
            f = bytearray(frame)
            f[26:30] = src
            f[34:36] = port
            sensor.feed(ts, 1, bytes(f))
        peak = max(peak, len(sensor.streams), len(sensor.syns))
    assert peak <= 500 and sensor.streams.evicted > 0
    assert sum(st.size() for st in sensor.streams.items.values()) <= 500 * limits.stream_bytes
    sensor.feed(1_700_000_000.0 + 50.0 + 60, 1, syn)   # much later: the sweep drops idle state
    assert len(sensor.streams) == 0 and len(sensor.syns) <= 1
    assert events == [] and sensor.errors == 0


def test_reset_segments_cover_both_ends_with_exact_sequence_numbers():
    from agent.sensor.enforce import reset_segments
    state = (ip_raw("10.0.0.1"), ip_raw("10.0.0.2"), 40000, 443, 1001, 1518, 777, None)
    assert reset_segments(state) == [("10.0.0.1", "10.0.0.2", 40000, 443, 1518),
                                     ("10.0.0.1", "10.0.0.2", 40000, 443, 1001),
                                     ("10.0.0.2", "10.0.0.1", 443, 40000, 777)]


def test_enforce_rst_needs_a_live_interface(tmp_path):
    import subprocess
    from tests.support.proxy import crossingguard_argv
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(tmp_path), "--pcap", "x.pcap", "--enforce-rst"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--enforce-rst needs --interface" in out.stderr


def test_live_capture_without_root_says_so(tmp_path):
    import os
    import shutil
    import subprocess
    import sys
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop to an unprivileged user")
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                            "-c", "import agent.cli"], capture_output=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2])})
    if probe.returncode != 0:     # the checkout sits in a folder only root may enter (e.g. mktemp -d)
        pytest.skip("an unprivileged user cannot read this checkout")
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                          sys.executable, "-m", "agent.cli", "sensor", "--home", str(tmp_path / "h"),
                          "--interface", "lo", "--no-incidents"],
                         capture_output=True, text=True, timeout=60, cwd=str(tmp_path.parent),
                         env={**os.environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2])})
    assert out.returncode != 0
    assert "needs root" in out.stderr, out.stderr


@pytest.mark.parametrize("ts", [0.0, 1e20, -1e20, float("nan")])
def test_odd_capture_timestamps_still_give_an_event(ts):
    from agent.sensor import Event
    out = Event(ts, "10.0.0.1", None, "10.0.0.2", "dns", "a.example", None, None).to_json()
    assert out["name"] == "a.example" and out["ts"] is not None


@pytest.mark.parametrize("extra, message", [
    (["--interface", "nosuchif0"], "nosuchif0"),
    (["--interface", "lo", "--bpf", "this is not bpf"], "filter"),
])
def test_live_capture_errors_are_clear(tmp_path, extra, message):
    import os
    import subprocess
    from tests.support.proxy import crossingguard_argv
    if os.geteuid() != 0:
        pytest.skip("opening a packet socket needs root")
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(tmp_path), "--no-incidents", "--duration", "2",
                                            *extra), capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "cannot capture" in out.stderr and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
