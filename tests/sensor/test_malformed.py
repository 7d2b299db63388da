"""Malformed traffic never raises out of the sensor: truncated headers, lying lengths, random
bytes on the ports whose parsers run (443, 53, 67, 853, ...), and a hypothesis fuzz over frames."""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from agent.policy.catalog import default_catalog
from agent.sensor import Limits, Sensor
from agent.sensor.dnsmsg import parse_dns
from agent.sensor.quic import crypto_frames, initial_packets
from agent.sensor.tlshello import hello_from_records, parse_client_hello
from agent.sensor.wire import EN10MB, LINUX_SLL, LINUX_SLL2, NULL, RAW, decode
from tests.sensor import build, rfc_vectors as rfc

LINKTYPES = (EN10MB, RAW, NULL, LINUX_SLL, LINUX_SLL2, 12345)


class Recorder:
    def __init__(self):
        self.events = []
        self.sensor = Sensor(default_catalog(), self.events.append, limits=Limits(streams=64, syns=64, quic=16))

    def feed(self, frame: bytes, linktype: int = EN10MB, ts: float = 1_700_000_000.0) -> None:
        self.sensor.feed(ts, linktype, frame)
        if self.sensor.errors:
            raise AssertionError(f"a parser raised on {frame.hex()}") from self.sensor.last_error


def frames_of(packets) -> list[bytes]:
    return [bytes(p) for p in packets]


def valid_frames() -> list[bytes]:
    hello = build.records(build.client_hello("www.instagram.com", padding=200), sizes=(100,))
    out = frames_of(build.tcp_session(hello, cuts=(40, 90)))
    out += frames_of(build.tcp_session(b"GET / HTTP/1.1\r\nHost: reddit.com\r\n\r\n", dport=80, sport=40001))
    out += frames_of(build.dhcp_exchange("02:00:00:00:10:01", "10.0.0.5", "host", t0=1.0))
    out.append(bytes(build.udp_packet(rfc.V1_PROTECTED)))
    out.append(bytes(build.udp_packet(rfc.V2_PROTECTED)))
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    out.append(bytes(build.udp_packet(bytes(DNS(id=1, qr=1, qd=DNSQR(qname="a.example"),
                                                an=DNSRR(rrname="a.example", rdata="192.0.2.1"))), sport=53, dport=5353)))
    from tests.sensor.test_encapsulation import ether_cases
    wanted = {"gre-ipv4", "gre-ether", "vxlan", "gtpu", "mpls", "fragment-0", "fragment-v6", "mdns", "quic-draft-27"}
    out += [bytes(p) for name, p in ether_cases() if name in wanted]
    return out


VALID = valid_frames()


@pytest.mark.parametrize("index", range(len(VALID)))
def test_every_truncation_of_valid_frames(index):
    rec = Recorder()
    frame = VALID[index]
    for cut in range(len(frame)):
        rec.feed(frame[:cut])
        for lt in (RAW, NULL, LINUX_SLL):
            rec.feed(frame[14:cut], lt)


def test_lying_length_fields():
    rec = Recorder()
    rng = random.Random(7)
    for frame in VALID:
        for _ in range(200):
            b = bytearray(frame)
            # IP total length / UDP length / TLS record and handshake lengths / DNS counts / QUIC Length
            pos = rng.choice([16, 17, 38, 39, 54, 55, 56, 57, 58, 59, 60, 62, 63, 64, 65, 66, 67, 70, 71,
                              rng.randrange(len(b))])
            if pos < len(b):
                b[pos] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
            rec.feed(bytes(b))


@pytest.mark.parametrize("dport", [443, 53, 67, 80, 853, 500, 4500, 1194, 6881, 8443])
def test_random_bytes_on_the_parsed_ports(dport):
    rec = Recorder()
    rng = random.Random(dport)
    for i in range(120):
        payload = rng.randbytes(rng.choice([0, 1, 2, 5, 13, 40, 148, 240, 300, 1200, 1350]))
        if i % 3 == 0 and payload:
            payload = bytes([0x16, 0x03, 0x01]) + payload        # looks like TLS, then garbage
        if i % 5 == 0 and len(payload) > 5:
            payload = bytes([0xC3, 0, 0, 0, 1]) + payload[5:]    # looks like a QUIC v1 Initial
        rec.feed(bytes(build.udp_packet(payload, dport=dport, sport=rng.randrange(1024, 65535))))
        for p in build.tcp_session(payload, cuts=(len(payload) // 2,) if len(payload) > 2 else (),
                                   dport=dport, sport=40000 + i, syn=i % 2 == 0):
            rec.feed(bytes(p))


@pytest.mark.parametrize("parser", [decode.__name__, "parse_dns", "hello_from_records", "parse_client_hello",
                                    "initial_packets", "crypto_frames"])
def test_parsers_on_random_bytes(parser):
    rng = random.Random(parser)
    for _ in range(3000):
        data = rng.randbytes(rng.randrange(0, 400))
        if parser == "decode":
            decode(rng.choice(LINKTYPES), data)
        elif parser == "parse_dns":
            parse_dns(data)
        elif parser == "hello_from_records":
            hello_from_records(b"\x16\x03\x01" + data)
        elif parser == "parse_client_hello":
            parse_client_hello(data)
        elif parser == "initial_packets":
            list(initial_packets(bytes([0xC0]) + (1).to_bytes(4, "big") + data))
        else:
            crypto_frames(data)


def test_dns_compression_loop_is_refused():
    msg = bytes.fromhex("abcd01000001000000000000") + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    assert parse_dns(msg) is None


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(range(len(VALID))), st.integers(0, 2000), st.binary(max_size=64),
                          st.sampled_from(LINKTYPES)), min_size=1, max_size=4))
def test_fuzz_mutated_frames_never_raise(mutations):
    rec = Recorder()
    for index, pos, patch, linktype in mutations:
        frame = bytearray(VALID[index])
        pos %= len(frame)
        frame[pos:pos + len(patch)] = patch
        rec.feed(bytes(frame), linktype if linktype != 12345 or pos % 2 else EN10MB)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=1500), st.sampled_from([443, 53, 67, 853, 80, 51820]), st.booleans())
def test_fuzz_random_payloads_never_raise(payload, port, tcp):
    rec = Recorder()
    if tcp:
        for p in build.tcp_session(payload, dport=port):
            rec.feed(bytes(p))
    else:
        rec.feed(bytes(build.udp_packet(payload, dport=port)))
