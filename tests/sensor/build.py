"""Synthetic traffic for the sensor tests: ClientHellos, QUIC Initials, and pcaps written by scapy.

Everything here is built from the protocol specifications (TLS 1.3 RFC 8446 section 4.1.2,
QUIC RFC 9000/9001); addresses are documentation ranges or loopback.
"""
from __future__ import annotations

import os
import struct

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from agent.sensor import quic as q

CLIENT, SERVER = "192.0.2.10", "198.51.100.20"
CLIENT_MAC, SERVER_MAC = "02:00:00:00:aa:01", "02:00:00:00:bb:01"


def _vec(n: int, data: bytes) -> bytes:
    return len(data).to_bytes(n, "big") + data


def client_hello(sni: str | None = "www.instagram.com", *, alpn=("h2", "http/1.1"), ech: bool = False,
                 tls13: bool = True, padding: int = 0) -> bytes:
    """A ClientHello handshake message (type 1 + 3-byte length + body)."""
    exts = b""
    if sni is not None:
        name = sni.encode()
        exts += struct.pack("!H", 0) + _vec(2, _vec(2, b"\x00" + _vec(2, name)))
    if alpn:
        exts += struct.pack("!H", 16) + _vec(2, _vec(2, b"".join(_vec(1, a.encode()) for a in alpn)))
    if tls13:
        exts += struct.pack("!H", 43) + _vec(2, _vec(1, b"\x03\x04\x03\x03"))
        exts += struct.pack("!H", 51) + _vec(2, _vec(2, struct.pack("!H", 29) + _vec(2, os.urandom(32))))
    if ech:
        # outer ECH: type 0, cipher suite, config id, enc, payload
        exts += struct.pack("!H", 0xFE0D) + _vec(2, b"\x00" + b"\x00\x01\x00\x01" + b"\x2a"
                                                 + _vec(2, os.urandom(32)) + _vec(2, os.urandom(120)))
    if padding:
        exts += struct.pack("!H", 21) + _vec(2, bytes(padding))
    body = (b"\x03\x03" + os.urandom(32) + _vec(1, os.urandom(32)) + _vec(2, b"\x13\x01\x13\x02\xc0\x2f")
            + _vec(1, b"\x00") + _vec(2, exts))
    return b"\x01" + _vec(3, body)


def records(handshake: bytes, sizes=None, version: bytes = b"\x03\x01") -> bytes:
    """TLS handshake records carrying `handshake`, cut into fragments of the given sizes."""
    if not sizes:
        return b"\x16" + version + _vec(2, handshake)
    out, pos = b"", 0
    for size in list(sizes) + [len(handshake)]:
        chunk = handshake[pos:pos + size]
        if not chunk:
            break
        out += b"\x16" + version + _vec(2, chunk)
        pos += len(chunk)
    return out


def tcp_session(payload: bytes, cuts=(), order=None, *, src=CLIENT, dst=SERVER, sport=40000, dport=443,
                src_mac=CLIENT_MAC, syn=True, t0=1_700_000_000.0, isn=1000):
    """Ether/IP/TCP packets of a client sending `payload`, cut at `cuts`, segments sent in `order`."""
    ip = IPv6 if ":" in src else IP
    base = Ether(src=src_mac, dst=SERVER_MAC) / ip(src=src, dst=dst)
    pkts = []
    if syn:
        pkts.append(base / TCP(sport=sport, dport=dport, flags="S", seq=isn))
        pkts.append(Ether(src=SERVER_MAC, dst=src_mac) / ip(src=dst, dst=src)
                    / TCP(sport=dport, dport=sport, flags="SA", seq=5000, ack=isn + 1))
        pkts.append(base / TCP(sport=sport, dport=dport, flags="A", seq=isn + 1, ack=5001))
    bounds = [0, *cuts, len(payload)]
    segs = [(bounds[i], payload[bounds[i]:bounds[i + 1]]) for i in range(len(bounds) - 1)]
    for i in (order if order is not None else range(len(segs))):
        off, data = segs[i]
        pkts.append(base / TCP(sport=sport, dport=dport, flags="PA", seq=isn + 1 + off, ack=5001) / data)
    for i, p in enumerate(pkts):
        p.time = t0 + i * 0.001
    return pkts


def udp_packet(payload: bytes, *, src=CLIENT, dst=SERVER, sport=50000, dport=443, src_mac=CLIENT_MAC,
               t=1_700_000_000.0, dst_mac=SERVER_MAC):
    ip = IPv6 if ":" in src else IP
    p = Ether(src=src_mac, dst=dst_mac) / ip(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload
    p.time = t
    return p


def dhcp_exchange(mac: str, ip: str, hostname: str, *, server="192.0.2.1", lease=3600, t0=None):
    """DISCOVER, OFFER, REQUEST, ACK for `mac` getting `ip` (scapy's DHCP layer)."""
    import time
    t0 = time.time() if t0 is None else t0
    chaddr = bytes.fromhex(mac.replace(":", "")) + bytes(10)
    xid = 0x1234abcd

    def client(msg, opts):
        return (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
                / UDP(sport=68, dport=67) / BOOTP(op=1, chaddr=chaddr, xid=xid)
                / DHCP(options=[("message-type", msg), *opts, "end"]))

    def srv(msg):
        return (Ether(src="02:00:00:00:00:fe", dst=mac) / IP(src=server, dst=ip) / UDP(sport=67, dport=68)
                / BOOTP(op=2, chaddr=chaddr, xid=xid, yiaddr=ip, siaddr=server)
                / DHCP(options=[("message-type", msg), ("server_id", server), ("lease_time", lease),
                                ("subnet_mask", "255.255.255.0"), "end"]))
    pkts = [client("discover", [("hostname", hostname)]), srv("offer"),
            client("request", [("requested_addr", ip), ("server_id", server), ("hostname", hostname)]),
            srv("ack")]
    for i, p in enumerate(pkts):
        p.time = t0 + i * 0.01
    return pkts


def write(path, packets) -> str:
    wrpcap(str(path), packets)
    return str(path)


# -- QUIC: protecting an Initial the way a client does (RFC 9001 section 5) --------------------------
def _varint(v: int) -> bytes:
    if v < 0x40:
        return bytes([v])
    if v < 0x4000:
        return (v | 0x4000).to_bytes(2, "big")
    return (v | 0x80000000).to_bytes(4, "big")


def crypto_frame(offset: int, data: bytes) -> bytes:
    return b"\x06" + _varint(offset) + _varint(len(data)) + data


def protect_initial(version: int, dcid: bytes, payload: bytes, pn: int = 0, scid: bytes = b"",
                    size: int = 1200, key_dcid: bytes | None = None) -> bytes:
    """A client Initial packet carrying `payload` frames, padded to `size` bytes. Keys come from
    `key_dcid` (the client's first DCID) when the header carries a server-chosen `dcid`."""
    keys = q.InitialKeys.derive(version, key_dcid or dcid)
    ptype = 1 if version == q.V2 else 0
    first = 0xC0 | (ptype << 4) | 0x03             # 4-byte packet number
    head_wo_len = bytes([first]) + version.to_bytes(4, "big") + _vec(1, dcid) + _vec(1, scid) + b"\x00"
    overhead = len(head_wo_len) + 2 + 4 + 16
    if len(payload) < size - overhead:
        payload = payload + bytes(size - overhead - len(payload))
    length = 4 + len(payload) + 16
    header = head_wo_len + (length | 0x4000).to_bytes(2, "big") + pn.to_bytes(4, "big")
    nonce = (int.from_bytes(keys.iv, "big") ^ pn).to_bytes(12, "big")
    sealed = keys.aead.encrypt(nonce, payload, header)
    pn_off = len(header) - 4
    packet = bytearray(header + sealed)
    mask = keys.mask(bytes(packet[pn_off + 4:pn_off + 20]))
    packet[0] ^= mask[0] & 0x0F
    for i in range(4):
        packet[pn_off + i] ^= mask[1 + i]
    return bytes(packet)
