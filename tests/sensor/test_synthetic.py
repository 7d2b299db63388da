"""The hard cases, on pcaps written by scapy: split and reordered ClientHellos, several records,
QUIC Initials (the RFC test vectors, v1, v2 and draft-29), DHCP, VPN handshakes, DoT, ECH,
BitTorrent, a spoofed MAC, pcapng and gzip files."""
from __future__ import annotations

import gzip
import json
import shutil
import time

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcapng

from agent.identity.leases import LeaseMap, read_leases
from agent.sensor import quic as q
from agent.sensor.tlshello import hello_from_handshake, parse_client_hello
from tests.sensor import build, rfc_vectors as rfc
from tests.sensor.conftest import run_sensor


def only(events, kind):
    found = [e for e in events if e["kind"] == kind]
    assert len(found) == 1, events
    return found[0]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (2, 1, 0)])
def test_clienthello_split_over_three_segments_in_any_order(tmp_path, order):
    payload = build.records(build.client_hello("www.instagram.com"))
    cut = len(payload) // 3
    pkts = build.tcp_session(payload, cuts=(cut, 2 * cut), order=order, dport=8443)
    events, _ = run_sensor(build.write(tmp_path / "split.pcap", pkts))
    ev = only(events, "tls")
    assert (ev["name"], ev["platform"], ev["dport"], ev["src"], ev["src_mac"]) == \
        ("www.instagram.com", "instagram", 8443, build.CLIENT, build.CLIENT_MAC)


def test_split_without_the_syn_in_order(tmp_path):
    payload = build.records(build.client_hello("discord.com"))
    pkts = build.tcp_session(payload, cuts=(10, 100), syn=False)
    events, _ = run_sensor(build.write(tmp_path / "nosyn.pcap", pkts))
    assert only(events, "tls")["name"] == "discord.com"


def test_clienthello_over_two_records_and_a_retransmission(tmp_path):
    hello = build.client_hello("www.tiktok.com", padding=300)
    payload = build.records(hello, sizes=(120,))
    assert payload.count(b"\x16\x03\x01") >= 2
    pkts = build.tcp_session(payload, cuts=(50, 200), order=(0, 1, 1, 2))   # segment 1 retransmitted
    events, _ = run_sensor(build.write(tmp_path / "records.pcap", pkts))
    assert only(events, "tls")["name"] == "www.tiktok.com"


@pytest.mark.parametrize("tls13", [True, False])
def test_tls_versions_and_ech(tmp_path, tls13):
    hello = build.client_hello("cloudflare-ech.com", ech=tls13, tls13=tls13, alpn=())
    pkts = build.tcp_session(build.records(hello, version=b"\x03\x03"))
    ev = only(run_sensor(build.write(tmp_path / "t.pcap", pkts))[0], "tls")
    assert ev["name"] == "cloudflare-ech.com" and ev["tls13"] is tls13
    assert ev.get("ech", False) is tls13


def test_http_host_on_any_port_and_connect_and_absolute_form(tmp_path):
    pkts = build.tcp_session(b"GET /feed HTTP/1.1\r\nHost: www.reddit.com:8081\r\nAccept: */*\r\n\r\n",
                             cuts=(12,), dport=8081)
    pkts += build.tcp_session(b"CONNECT www.twitch.tv:443 HTTP/1.1\r\nHost: www.twitch.tv:443\r\n\r\n",
                              sport=40001, dport=3128, t0=1_700_000_001.0)
    pkts += build.tcp_session(b"GET http://old.reddit.com/r/x HTTP/1.0\r\n\r\n", sport=40002, dport=3128,
                              t0=1_700_000_002.0)
    events, _ = run_sensor(build.write(tmp_path / "http.pcap", pkts))
    assert [(e["kind"], e["name"], e["method"]) for e in events] == [("http", "www.reddit.com", "GET"), ("http", "www.twitch.tv", "CONNECT"),
                                 ("http", "old.reddit.com", "GET")]


def test_direct_connection_is_a_bypass_only_when_it_avoids_the_proxy(tmp_path, catalog):
    from agent.sensor.wire import ip_raw
    pkts = build.tcp_session(build.records(build.client_hello("www.instagram.com")))
    pkts += build.tcp_session(b"CONNECT www.instagram.com:443 HTTP/1.1\r\nHost: x\r\n\r\n",
                              dst="192.0.2.1", dport=3128, sport=40001)
    # the proxy's own upstream connection to the platform is not a bypass
    pkts += build.tcp_session(build.records(build.client_hello("www.instagram.com")), src="192.0.2.1",
                              sport=40002, src_mac="02:00:00:00:00:01")
    path = build.write(tmp_path / "direct.pcap", pkts)
    with_proxy, _ = run_sensor(path, catalog, proxy=(ip_raw("192.0.2.1"), 3128))
    assert [(e["kind"], e["src"], e["bypass"]) for e in with_proxy] == \
        [("tls", build.CLIENT, "direct"), ("http", build.CLIENT, None), ("tls", "192.0.2.1", None)]
    without, _ = run_sensor(path, catalog)
    assert [e["bypass"] for e in without] == [None, None, None]


def test_dns_over_udp_and_tcp_names_and_answers_name_later_connections(tmp_path):
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    q1 = DNS(id=1, rd=1, qd=DNSQR(qname="www.snapchat.com", qtype="A"))
    r1 = DNS(id=1, qr=1, qd=DNSQR(qname="www.snapchat.com"), an=DNSRR(rrname="www.snapchat.com", rdata="203.0.113.7"))
    pkts = [build.udp_packet(bytes(q1), dst="192.0.2.53", dport=53),
            build.udp_packet(bytes(r1), src="192.0.2.53", dst=build.CLIENT, sport=53, dport=50000,
                             src_mac=build.SERVER_MAC, dst_mac=build.CLIENT_MAC, t=1_700_000_000.01)]
    tcpq = bytes(DNS(id=2, rd=1, qd=DNSQR(qname="discord.gg", qtype="AAAA")))
    pkts += build.tcp_session(len(tcpq).to_bytes(2, "big") + tcpq, cuts=(1,), dport=53, dst="192.0.2.53",
                              t0=1_700_000_000.1)
    # a ClientHello without SNI to the address the DNS answer gave: named from DNS
    pkts += build.tcp_session(build.records(build.client_hello(None)), dst="203.0.113.7", t0=1_700_000_001.0)
    events, _ = run_sensor(build.write(tmp_path / "dns.pcap", pkts))
    assert [(e["kind"], e["name"], e.get("response", False), e.get("transport")) for e in events[:3]] == [
        ("dns", "www.snapchat.com", False, "udp"), ("dns", "www.snapchat.com", True, "udp"),
        ("dns", "discord.gg", False, "tcp")]
    assert events[1]["answers"] == ["203.0.113.7"] and events[1]["src"] == build.CLIENT
    assert events[1]["src_mac"] == build.CLIENT_MAC   # the response frame's destination: the device
    tls = only(events, "tls")
    assert (tls["name"], tls["name_from"], tls["platform"]) == ("www.snapchat.com", "dns", "snapchat")


# -- QUIC -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("version, packet, keys", [(q.V1, rfc.V1_PROTECTED, rfc.V1_CLIENT_KEYS),
                                                   (q.V2, rfc.V2_PROTECTED, rfc.V2_CLIENT_KEYS)])
def test_rfc_client_initial_decrypts_to_the_rfc_clienthello(version, packet, keys):
    derived = q.InitialKeys.derive(version, rfc.DCID)
    assert derived.iv == keys[1]
    assert derived.mask(packet[22:38])[:5] == q.InitialKeys(*keys).mask(packet[22:38])[:5]
    [(v, dcid, start, pn_off, end)] = list(q.initial_packets(packet))
    assert (v, dcid, start, pn_off, end) == (version, rfc.DCID, 0, 18, 1200)
    plain = q.decrypt_initial(packet, start, pn_off, end, derived)
    assert plain == rfc.CLIENT_PLAIN_PAYLOAD
    [(offset, data)] = q.crypto_frames(plain)
    assert offset == 0 and data == rfc.CLIENT_HELLO
    hello = parse_client_hello(hello_from_handshake(data))
    assert hello.sni == "example.com" and hello.tls13


@pytest.mark.parametrize("version, packet, label", [(q.V1, rfc.V1_PROTECTED, "v1"), (q.V2, rfc.V2_PROTECTED, "v2")])
def test_rfc_initials_in_a_pcap(tmp_path, version, packet, label):
    events, _ = run_sensor(build.write(tmp_path / "q.pcap", [build.udp_packet(packet)]))
    ev = only(events, "quic")
    assert (ev["name"], ev["quic_version"], ev["platform"], ev["bypass"]) == ("example.com", label, None, None)


def test_a_tampered_initial_is_not_decrypted(tmp_path):
    bad = bytearray(rfc.V1_PROTECTED)
    bad[600] ^= 1
    events, sensor = run_sensor(build.write(tmp_path / "bad.pcap", [build.udp_packet(bytes(bad))]))
    assert events == [] and sensor.errors == 0


@pytest.mark.parametrize("version, label", [(q.DRAFT29, "draft-29"), (q.V1, "v1"), (q.V2, "v2")])
def test_quic_clienthello_split_over_two_initials_out_of_order_and_a_new_dcid(tmp_path, version, label):
    hello = build.client_hello("www.youtube.com", alpn=("h3",), padding=1200)
    half = len(hello) // 2
    dcid = bytes.fromhex("0011223344556677")
    first = build.protect_initial(version, dcid, build.crypto_frame(half, hello[half:]), pn=0, size=1400)
    # the second Initial goes to the server's chosen connection id, still under the first DCID's keys
    second = build.protect_initial(version, bytes.fromhex("aabbccdd"), build.crypto_frame(0, hello[:half]),
                                   pn=1, size=1400, key_dcid=dcid)
    pkts = [build.udp_packet(first, t=1_700_000_000.0), build.udp_packet(second, t=1_700_000_000.01)]
    events, _ = run_sensor(build.write(tmp_path / "q.pcap", pkts))
    ev = only(events, "quic")
    assert (ev["name"], ev["platform"], ev["bypass"], ev["quic_version"]) == \
        ("www.youtube.com", "youtube", "quic", label)


def test_doh_over_quic_to_a_known_resolver(tmp_path):
    pkt = build.protect_initial(q.V1, b"\x01" * 8, build.crypto_frame(0, build.client_hello("dns.google", alpn=("h3",))))
    events, _ = run_sensor(build.write(tmp_path / "doh.pcap", [build.udp_packet(pkt, dst="8.8.8.8")]))
    assert only(events, "quic")["bypass"] == "doh"


# -- DHCP and identity -----------------------------------------------------------------------------
def test_dhcp_exchange_builds_the_device_map(tmp_path):
    now = time.time()
    pkts = build.dhcp_exchange("02:00:00:00:10:01", "10.20.0.77", "mila-chromebook", t0=now)
    leases = LeaseMap(tmp_path / "sensor" / "dhcp-leases.json")
    events, _ = run_sensor(build.write(tmp_path / "dhcp.pcap", pkts), leases=leases)
    assert [e["dhcp"]["msg_type"] for e in events] == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    ack = events[-1]
    assert (ack["src"], ack["src_mac"], ack["name"], ack["dhcp"]["assigned_ip"], ack["dhcp"]["lease_seconds"]) == \
        ("10.20.0.77", "02:00:00:00:10:01", "mila-chromebook", "10.20.0.77", 3600)
    assert events[2]["dhcp"]["requested_ip"] == "10.20.0.77"
    leases.save(now)
    saved = read_leases(tmp_path / "sensor" / "dhcp-leases.json")
    assert saved["10.20.0.77"].mac == "02:00:00:00:10:01"
    assert saved["10.20.0.77"].hostname == "mila-chromebook"
    assert abs(saved["10.20.0.77"].expires - (now + 0.03 + 3600)) < 1
    assert not list((tmp_path / "sensor").glob(".dhcp-leases.*")), "temporary file left behind"


def test_a_known_address_with_a_new_mac_is_reported_once(tmp_path, catalog):
    from scapy.layers.dns import DNS, DNSQR
    query = bytes(DNS(id=7, rd=1, qd=DNSQR(qname="example.org")))
    pkts = [build.udp_packet(query, src="10.20.0.77", dst="192.0.2.53", dport=53, src_mac="02:00:00:00:10:01"),
            build.udp_packet(query, src="10.20.0.77", dst="192.0.2.53", dport=53, src_mac="02:66:66:66:66:66",
                             t=1_700_000_001.0),
            build.udp_packet(query, src="10.20.0.77", dst="192.0.2.53", dport=53, src_mac="02:66:66:66:66:66",
                             t=1_700_000_002.0)]
    expected = {"10.20.0.77": frozenset({"02:00:00:00:10:01"})}
    events, _ = run_sensor(build.write(tmp_path / "spoof.pcap", pkts), catalog, expected_macs=expected.get)
    assert [e["bypass"] for e in events] == [None, "mac_change", None]
    assert events[1]["expected_mac"] == "02:00:00:00:10:01"


# -- VPN, DoT, file sharing -------------------------------------------------------------------------
def wireguard_initiation() -> bytes:
    return b"\x01\x00\x00\x00" + bytes.fromhex("0badc0de") + bytes(range(140))


def test_wireguard_openvpn_ike_bittorrent_dht(tmp_path):
    pkts = [build.udp_packet(wireguard_initiation(), dport=51820),
            build.udp_packet(wireguard_initiation(), dport=51820, t=1_700_000_000.5),   # repeat: once per window
            build.udp_packet(b"\x38" + bytes.fromhex("1122334455667788") + b"\x00" + bytes(4), dport=1194,
                             sport=50001, t=1_700_000_001.0),
            build.udp_packet(bytes.fromhex("1122334455667788") + bytes(8) + b"\x21\x20\x22\x08" + bytes(4)
                             + (28).to_bytes(4, "big"), dport=500, sport=500, t=1_700_000_002.0),
            build.udp_packet(b"d1:ad2:id20:" + bytes(20) + b"e1:q4:ping1:t2:aa1:y1:qe", dport=6881,
                             sport=6881, t=1_700_000_003.0)]
    pkts += build.tcp_session(b"\x13BitTorrent protocol" + bytes(8) + bytes(40), dport=51413, sport=40005,
                              t0=1_700_000_004.0)
    events, _ = run_sensor(build.write(tmp_path / "vpn.pcap", pkts))
    assert [(e["kind"], e["bypass"]) for e in events] == [
        ("vpn", "vpn_wireguard"), ("vpn", "vpn_openvpn"), ("vpn", "vpn_ipsec"),
        ("p2p", "bittorrent_dht"), ("p2p", "bittorrent")]
    assert all(e["src"] == build.CLIENT and e["src_mac"] == build.CLIENT_MAC for e in events)


def test_dot_to_a_known_resolver(tmp_path):
    pkts = build.tcp_session(build.records(build.client_hello("dns.google", alpn=("dot",))), dst="8.8.8.8", dport=853)
    events, _ = run_sensor(build.write(tmp_path / "dot.pcap", pkts))
    assert [(e["kind"], e["bypass"], e["platform"]) for e in events] == \
        [("tls", "dot", "doh_google"), ("tls", "dot", "doh_google")]
    assert events[0]["stage"] == "syn" and events[1]["name"] == "dns.google"


def test_tor_looking_clienthello(tmp_path):
    pkts = build.tcp_session(build.records(build.client_hello("www.q4cyamnc6mtokuvm.com", alpn=(), tls13=False)),
                             dport=9001)
    pkts += build.tcp_session(build.records(build.client_hello("www.wikipedia.com", alpn=(), tls13=False)),
                              dport=443, sport=40001, t0=1_700_000_001.0)
    events, _ = run_sensor(build.write(tmp_path / "tor.pcap", pkts))
    assert [(e["name"], e["bypass"]) for e in events] == \
        [("www.q4cyamnc6mtokuvm.com", "tor"), ("www.wikipedia.com", None)]


# -- file formats --------------------------------------------------------------------------------
def test_pcapng_gzip_and_ipv6_and_vlan(tmp_path):
    hello = build.records(build.client_hello("www.pinterest.com"))
    pkts = build.tcp_session(hello, src="2001:db8::10", dst="2001:db8::20", cuts=(30,))
    vlan = [Ether(src=build.CLIENT_MAC, dst=build.SERVER_MAC, type=0x8100) / bytes.fromhex("0064 0800")
            / IP(src=build.CLIENT, dst=build.SERVER) / TCP(sport=41000, dport=443, flags="PA", seq=1) / hello]
    vlan[0].time = 1_700_000_010.0
    ng = tmp_path / "x.pcapng"
    wrpcapng(str(ng), pkts + vlan)
    gz = tmp_path / "x.pcapng.gz"
    with open(ng, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    for path in (ng, gz):
        events, _ = run_sensor(path)
        assert [(e["src"], e["name"]) for e in events] == \
            [("2001:db8::10", "www.pinterest.com"), (build.CLIENT, "www.pinterest.com")]
        assert events[0]["ts"].startswith("2023-11-14T22:13:20")


def test_cli_rejects_what_it_cannot_read(tmp_path):
    import subprocess
    from tests.support.proxy import crossingguard_argv
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture file")
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(tmp_path), "--pcap", str(junk)),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "not a pcap or pcapng file" in out.stderr and str(junk) in out.stderr
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(tmp_path), "--pcap", str(junk),
                                            "--proxy", "not-an-ip"), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--proxy" in out.stderr
    # a truncated capture: events up to the cut, a warning, exit 0
    good = build.write(tmp_path / "good.pcap", build.tcp_session(build.records(build.client_hello("x.com"))))
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(open(good, "rb").read()[:-7])
    out = subprocess.run(crossingguard_argv("sensor", "--home", str(tmp_path), "--pcap", str(cut)),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "truncated" in out.stderr
    assert out.stdout == ""   # the ClientHello was in the cut record


@pytest.mark.parametrize("first", [1, 2, 5])
def test_a_tiny_first_segment_does_not_hide_the_name(tmp_path, first):
    """Splitting the first bytes off (an evasion trick) still gives the SNI / Host."""
    tls = build.records(build.client_hello("www.instagram.com"))
    http = b"GET / HTTP/1.1\r\nHost: www.reddit.com\r\n\r\n"
    pkts = build.tcp_session(tls, cuts=(first,), dport=8443)
    pkts += build.tcp_session(http, cuts=(first,), order=(1, 0), dport=8080, sport=40001, t0=1_700_000_001.0)
    events, _ = run_sensor(build.write(tmp_path / "tiny.pcap", pkts))
    assert [(e["kind"], e["name"]) for e in events] == [("tls", "www.instagram.com"), ("http", "www.reddit.com")]


def test_sni_behind_connect_and_socks5_matches_tshark(tmp_path):
    from tests.sensor.test_real_captures import tshark_names
    connect = b"CONNECT www.tiktok.com:443 HTTP/1.1\r\nHost: www.tiktok.com:443\r\n\r\n"
    hello = build.records(build.client_hello("www.tiktok.com"))
    pkts = build.tcp_session(connect + hello, cuts=(len(connect),), dport=3128)
    socks = b"\x05\x01\x00" + b"\x05\x01\x00\x03\x0bdiscord.com\x01\xbb"
    pkts += build.tcp_session(socks + build.records(build.client_hello("discord.com")), cuts=(3, len(socks)),
                              dport=1080, sport=40001, t0=1_700_000_001.0)
    path = build.write(tmp_path / "proxied.pcap", pkts)
    events, _ = run_sensor(path)
    got = {e["name"] for e in events}
    assert tshark_names(path) <= got
    assert [(e["kind"], e["name"], e["dport"] if "dport" in e else None) for e in events] == [
        ("http", "www.tiktok.com", None), ("tls", "www.tiktok.com", 3128), ("tls", "discord.com", 1080)]


def test_names_are_reported_as_sent_and_matched_without_case(tmp_path):
    from scapy.layers.dns import DNS, DNSQR
    from tests.sensor.test_real_captures import tshark_names
    pkts = [build.udp_packet(bytes(DNS(id=5, rd=1, qd=DNSQR(qname="WwW.InStAgRaM.CoM"))), dst="192.0.2.53", dport=53)]
    pkts += build.tcp_session(build.records(build.client_hello("Discord.COM")), t0=1_700_000_001.0)
    path = build.write(tmp_path / "case.pcap", pkts)
    events, _ = run_sensor(path)
    assert [(e["name"], e["platform"]) for e in events] == [("WwW.InStAgRaM.CoM", "instagram"), ("Discord.COM", "discord")]
    assert tshark_names(path) == {"WwW.InStAgRaM.CoM", "Discord.COM"}


def test_quic_seen_mid_flow_is_named_from_dns(tmp_path):
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    answer = DNS(id=1, qr=1, qd=DNSQR(qname="www.tiktok.com"), an=DNSRR(rrname="www.tiktok.com", rdata="203.0.113.9"))
    pkts = [build.udp_packet(bytes(answer), src="192.0.2.53", dst=build.CLIENT, sport=53, dport=50000,
                             src_mac=build.SERVER_MAC, dst_mac=build.CLIENT_MAC)]
    short = b"\x41" + bytes(8) + bytes(range(200))
    pkts += [build.udp_packet(short, dst="203.0.113.9", t=1_700_000_001.0 + i) for i in range(3)]
    pkts += [build.udp_packet(short, dst="198.51.100.99", t=1_700_000_005.0)]   # an address nobody resolved
    events, _ = run_sensor(build.write(tmp_path / "midflow.pcap", pkts))
    quic = [e for e in events if e["kind"] == "quic"]
    assert [(e["name"], e["platform"], e["bypass"], e["name_from"]) for e in quic] == \
        [("www.tiktok.com", "tiktok", "quic", "dns")]


def test_a_router_mac_behind_many_addresses_is_not_spoofing(tmp_path, catalog):
    from scapy.layers.dns import DNS, DNSQR
    query = bytes(DNS(id=7, rd=1, qd=DNSQR(qname="example.org")))
    router = "02:00:00:00:0f:01"
    addresses = [f"10.30.0.{i}" for i in range(1, 9)]
    expected = {ip: frozenset({f"02:00:00:00:30:{i:02x}"}) for i, ip in enumerate(addresses, 1)}
    pkts = [build.udp_packet(query, src=ip, dst="192.0.2.53", dport=53, src_mac=router, t=1_700_000_000.0 + i)
            for i, ip in enumerate(addresses)]
    events, _ = run_sensor(build.write(tmp_path / "routed.pcap", pkts), catalog, expected_macs=expected.get)
    flagged = [e["src"] for e in events if e["bypass"] == "mac_change"]
    # the first ROUTER_ADDRESSES look like spoofing until the MAC shows itself a router; then no more
    from agent.sensor.engine import ROUTER_ADDRESSES
    assert flagged == addresses[:ROUTER_ADDRESSES]


def test_tcp_fast_open_data_in_the_syn(tmp_path):
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    hello = build.records(build.client_hello("www.snapchat.com"))
    base = Ether(src=build.CLIENT_MAC, dst=build.SERVER_MAC) / IP(src=build.CLIENT, dst=build.SERVER)
    pkts = [base / TCP(sport=40000, dport=443, flags="S", seq=1000) / hello[:100],           # data in the SYN
            base / TCP(sport=40000, dport=443, flags="PA", seq=1101, ack=1) / hello[100:]]
    for i, p in enumerate(pkts):
        p.time = 1_700_000_000 + i * 0.01
    events, _ = run_sensor(build.write(tmp_path / "tfo.pcap", pkts))
    assert [e["name"] for e in events] == ["www.snapchat.com"]


def test_root_and_unprintable_question_names(tmp_path):
    from scapy.layers.dns import DNS, DNSQR
    from tests.sensor.test_real_captures import tshark_names
    pkts = [build.udp_packet(bytes(DNS(id=1, rd=1, qd=DNSQR(qname=".", qtype="NS"))), dst="192.0.2.53", dport=53),
            build.udp_packet(bytes(DNS(id=3, opcode=5, qd=DNSQR(qname="corp.example", qtype="SOA"))),   # UPDATE's zone
                             dst="192.0.2.53", dport=53, t=1_700_000_000.5),
            build.udp_packet(bytes(DNS(id=2, rd=1, qd=[DNSQR(qname=b"bad\x01name.example"), DNSQR(qname="ok.example")])),
                             dst="192.0.2.53", dport=53, t=1_700_000_001.0)]
    path = build.write(tmp_path / "root.pcap", pkts)
    events, _ = run_sensor(path)
    names = [e["name"] for e in events]
    assert names[0] == "<Root>" and "ok.example" in names and "bad\\001name.example" in names
    assert "corp.example" in names
    assert tshark_names(path) <= set(names)
