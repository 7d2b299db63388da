"""Byte signatures of traffic that goes around the filter: VPN handshakes, BitTorrent, Tor.

Each function looks at one payload (first segment of a TCP stream, or one UDP datagram) and
returns a bypass reason or None. They are deliberately narrow (exact lengths, fixed bytes):
a false "VPN" on a student's record is worse than a missed one, which the flow's other
packets or the next connection will show again.
"""
from __future__ import annotations

import re

# WireGuard handshake initiation: type 1, three reserved zero bytes, fixed size 148 bytes.
_WG_INIT = b"\x01\x00\x00\x00"
# OpenVPN P_CONTROL_HARD_RESET_CLIENT_V2 (opcode 7, key id 0): opcode, 8-byte session id,
# [tls-auth HMAC (20 or 32 bytes), packet id, time], an empty ACK array and message packet id 0.
# Only these exact sizes count (14 plain, 42/54 with tls-auth): a QUIC short header or random
# data on UDP 443 must not look like a VPN.
_OPENVPN_RESET = 7 << 3
_OPENVPN_SIZES = (14, 42, 54)
OPENVPN_UDP_PORTS = frozenset({1194, 443, 53, 80})
IKE_PORTS = (500, 4500)
BT_HANDSHAKE = b"\x13BitTorrent protocol"
_TOR_SNI = re.compile(r"www\.([a-z2-7]{8,24})\.(?:com|net)\Z")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{4}")


def udp_signature(payload: bytes, sport: int, dport: int) -> str | None:
    n = len(payload)
    if n == 148 and payload[:4] == _WG_INIT:
        return "vpn_wireguard"
    if dport in IKE_PORTS:
        ike = payload[4:] if dport == 4500 and payload[:4] == b"\0\0\0\0" else payload
        # IKE header: SPIi(8) SPIr(8, zero in the first message) next-payload version exchange
        if len(ike) >= 28 and ike[8:16] == b"\0" * 8 and any(ike[:8]) and (
                (ike[17] == 0x20 and ike[18] == 34) or (ike[17] == 0x10 and ike[18] in (2, 4))):
            return "vpn_ipsec"
    if dport in OPENVPN_UDP_PORTS and _openvpn_reset(payload):
        return "vpn_openvpn"
    if n >= 20 and payload[:3] == b"d1:" and payload[3:4] in (b"a", b"r") and b"2:id20:" in payload[:48]:
        return "bittorrent_dht"
    return None


def tcp_signature(payload: bytes) -> str | None:
    """On the first data segment of a TCP stream."""
    if payload.startswith(BT_HANDSHAKE):
        return "bittorrent"
    # OpenVPN over TCP: a 2-byte length that matches the segment exactly, then a hard reset.
    if len(payload) > 2 and int.from_bytes(payload[:2], "big") == len(payload) - 2 and _openvpn_reset(payload[2:]):
        return "vpn_openvpn"
    return None


def _openvpn_reset(p: bytes) -> bool:
    return len(p) in _OPENVPN_SIZES and p[0] == _OPENVPN_RESET and any(p[1:9]) and p[-5:] == b"\0\0\0\0\0"


def tor_like(sni: str | None, alpn: tuple, resolved: bool) -> bool:
    """Tor's ClientHello: a random `www.<base32>.com|net` name nobody resolved, and no ALPN.

    A heuristic (stated in docs/sensor.md): the random label must also look random (a digit
    2-7 or four consonants in a row), so ordinary `www.<word>.com` names do not match.
    """
    if sni is None or alpn or resolved:
        return False
    m = _TOR_SNI.match(sni)
    if m is None:
        return False
    label = m.group(1)
    return any(c in "234567" for c in label) or _CONSONANT_RUN.search(label) is not None
