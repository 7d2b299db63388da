"""Link layers and tunnels a capture may hold, each checked against tshark on the same file:
every DNS name and SNI tshark extracts through GRE, IP-in-IP, VXLAN, GTP-U, MPLS, 802.11 with
radiotap, PPP, Linux cooked capture, BSD loopback IPv6, first IP fragments and mDNS, the sensor
extracts too."""
from __future__ import annotations

import pytest
from scapy.contrib.gtp import GTP_U_Header
from scapy.contrib.mpls import MPLS
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.dot11 import Dot11, Dot11QoS, RadioTap
from scapy.layers.l2 import LLC, SNAP
from scapy.layers.inet import GRE, IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import GRE_PPTP, CookedLinux, Ether, Loopback
from scapy.layers.ppp import PPP
from scapy.layers.vxlan import VXLAN
from scapy.utils import wrpcap

from agent.sensor import quic as q
from tests.sensor import build
from tests.sensor.conftest import run_sensor
from tests.sensor.test_real_captures import tshark_names

A, B = "192.0.2.10", "198.51.100.20"
OUTER = Ether(src="02:00:00:00:0e:01", dst="02:00:00:00:0e:02")


def dns_query(name: str) -> bytes:
    return bytes(DNS(id=3, rd=1, qd=DNSQR(qname=name)))


def hello(name: str) -> bytes:
    return build.records(build.client_hello(name))


def inner_tcp(name: str, sport: int = 40000):
    return IP(src=A, dst=B) / TCP(sport=sport, dport=443, flags="PA", seq=1, ack=1) / hello(name)


def inner_dns(name: str):
    return IP(src=A, dst="192.0.2.53") / UDP(sport=33333, dport=53) / dns_query(name)


def ether_cases():
    yield "gre-ipv4", OUTER / IP(src="203.0.113.1", dst="203.0.113.2") / GRE() / inner_dns("gre.tiktok.com")
    yield "gre-ether", (OUTER / IP(src="203.0.113.1", dst="203.0.113.2") / GRE(proto=0x6558)
                        / Ether(src="02:00:00:00:0e:03", dst="02:00:00:00:0e:04") / inner_tcp("bridged.reddit.com"))
    yield "pptp", (OUTER / IP(src="203.0.113.1", dst="203.0.113.2")
                   / GRE_PPTP(seqnum_present=1, sequence_number=1, call_id=3) / PPP(proto=0x0021)
                   / inner_dns("pptp.bsky.app"))
    yield "ipip", OUTER / IP(src="203.0.113.1", dst="203.0.113.2", proto=4) / inner_tcp("ipip.discord.com", 40001)
    yield "6in4", (OUTER / IP(src="203.0.113.1", dst="203.0.113.2", proto=41)
                   / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=3333, dport=53)
                   / dns_query("sixinfour.snapchat.com"))
    yield "vxlan", (OUTER / IP(src="203.0.113.1", dst="203.0.113.2") / UDP(sport=50000, dport=4789)
                    / VXLAN(vni=42) / Ether(src="02:00:00:00:0e:05", dst="02:00:00:00:0e:06")
                    / inner_tcp("vxlan.youtube.com", 40002))
    yield "gtpu", (OUTER / IP(src="203.0.113.1", dst="203.0.113.2") / UDP(sport=2152, dport=2152)
                   / GTP_U_Header(teid=7, gtp_type=255) / inner_dns("gtp.whatsapp.net"))
    yield "mpls", Ether(src="02:00:00:00:0e:01", dst="02:00:00:00:0e:02", type=0x8847) / MPLS(label=16, s=0) \
        / MPLS(label=17, s=1) / inner_tcp("mpls.pinterest.com", 40003)
    # first fragments: the DNS questions are in the first fragment of a large response
    big = DNS(id=9, qr=1, qd=DNSQR(qname="frag.linkedin.com"),
              an=[DNSRR(rrname="frag.linkedin.com", type="TXT", rdata="x" * 200) for _ in range(12)])
    for i, frag in enumerate(fragment(IP(src="192.0.2.53", dst=A) / UDP(sport=53, dport=33334) / big, 600)):
        yield f"fragment-{i}", OUTER / frag
    frag6 = IPv6(src="2001:db8::53", dst="2001:db8::10") / IPv6ExtHdrFragment(m=1, offset=0, id=5) \
        / UDP(sport=53, dport=33335) / DNS(id=10, qr=1, qd=DNSQR(qname="frag6.tumblr.com"))
    yield "fragment-v6", OUTER / frag6
    yield "mdns", OUTER / IP(src=A, dst="224.0.0.251") / UDP(sport=5353, dport=5353) / DNS(
        id=0, qd=[DNSQR(qname="Kitchen Printer._ipp._tcp.local", qtype="SRV"), DNSQR(qname="_googlecast._tcp.local", qtype="PTR")])
    yield "llmnr", OUTER / IP(src=A, dst="224.0.0.252") / UDP(sport=50001, dport=5355) / dns_query("fileserver")
    for d in (27, 32, 34):
        version = 0xFF000000 + d
        pkt = build.protect_initial(version, bytes([d]) * 8, build.crypto_frame(0, build.client_hello(
            f"draft{d}.instagram.com", alpn=("h3",))))
        yield f"quic-draft-{d}", OUTER / IP(src=A, dst=B) / UDP(sport=50000 + d, dport=443) / pkt


def write_all(path, packets):
    for i, p in enumerate(packets):
        p.time = 1_700_000_000 + i * 0.01
    wrpcap(str(path), packets)
    return path


def test_tunnels_fragments_mpls_mdns_and_quic_drafts_match_tshark(tmp_path):
    cases = list(ether_cases())
    path = write_all(tmp_path / "encaps.pcap", [p for _, p in cases])
    expected = tshark_names(path)
    events, _ = run_sensor(path)
    got = {e["name"] for e in events if e["name"]}
    assert expected <= got, f"missed: {sorted(expected - got)}"
    # and what each case should give, whatever tshark's version decodes
    for name in ("gre.tiktok.com", "pptp.bsky.app", "bridged.reddit.com", "ipip.discord.com", "sixinfour.snapchat.com",
                 "vxlan.youtube.com", "gtp.whatsapp.net", "mpls.pinterest.com", "frag.linkedin.com",
                 "frag6.tumblr.com", "Kitchen Printer._ipp._tcp.local", "_googlecast._tcp.local", "fileserver",
                 "draft27.instagram.com", "draft32.instagram.com", "draft34.instagram.com"):
        assert name in got, name
    by_name = {e["name"]: e for e in events if e["name"]}
    assert by_name["bridged.reddit.com"]["src_mac"] == "02:00:00:00:0e:03"   # the inner device's MAC
    assert by_name["gtp.whatsapp.net"]["src"] == A and by_name["gtp.whatsapp.net"]["src_mac"] is None
    assert by_name["draft27.instagram.com"]["quic_version"] == "draft-27"
    assert by_name["fileserver"]["transport"] == "llmnr"


@pytest.mark.parametrize("kind", ["radiotap", "ppp", "sll", "loopback6", "raw"])
def test_other_link_layers_match_tshark(tmp_path, kind):
    name = f"{kind}.instagram.com"
    inner_v4 = IP(src=A, dst="192.0.2.53") / UDP(sport=33333, dport=53) / dns_query(name)
    if kind == "radiotap":
        pkt = (RadioTap() / Dot11(type=2, subtype=8, FCfield=1, addr1="02:00:00:00:ff:01",
                                  addr2="02:00:00:00:0e:07", addr3="02:00:00:00:ff:02")
               / Dot11QoS() / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(code=0x0800) / inner_v4)
    elif kind == "ppp":
        pkt = PPP(proto=0x0021) / inner_v4
    elif kind == "sll":
        pkt = CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=bytes.fromhex("02000000e008") + b"\0\0",
                          proto=0x0800) / inner_v4
    elif kind == "loopback6":   # macOS loopback: AF_INET6 is 30 (the DESIGN.md trap)
        pkt = Loopback(type=30) / IPv6(src="::1", dst="::1") / UDP(sport=33333, dport=53) / dns_query(name)
    else:
        pkt = inner_v4
    path = write_all(tmp_path / f"{kind}.pcap", [pkt])
    expected = tshark_names(path)
    events, _ = run_sensor(path)
    got = {e["name"] for e in events}
    assert expected <= got and name in got, (expected, got)
    if kind == "radiotap":
        assert events[0]["src_mac"] == "02:00:00:00:0e:07"
    if kind == "sll":
        assert events[0]["src_mac"] == "02:00:00:00:e0:08"
