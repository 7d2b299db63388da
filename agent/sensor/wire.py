"""Frames to (addresses, ports, payload) without scapy's dissectors.

Stock scapy dissects a few thousand packets a second; a SPAN port carries far more, and almost
all of it is bulk data the sensor ignores. So every frame is decoded here with slices and
`int.from_bytes`, and only payloads that may carry a name go on to the protocol parsers.

`decode()` never raises on bad input: a truncated header, a length field that lies, or an
unknown link type gives None (the frame is skipped). IP fragments other than a whole datagram
are skipped too (names travel in the first packets of a flow, which are not fragmented in
practice; reassembling IP fragments would be a memory sink for an attacker).
"""
from __future__ import annotations

import socket

# libpcap link-layer types (LINKTYPE_*)
NULL, EN10MB, RAW, LOOP, LINUX_SLL, LINUX_SLL2, IPV4, IPV6 = 0, 1, 101, 108, 113, 276, 228, 229
RAW_ALIASES = (12, 14)   # DLT_RAW on some BSDs
SUPPORTED = frozenset({NULL, EN10MB, RAW, LOOP, LINUX_SLL, LINUX_SLL2, IPV4, IPV6, *RAW_ALIASES})

TCP, UDP = 6, 17
SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04

_VLAN = (0x8100, 0x88A8, 0x9100)
_V6_EXT = (0, 43, 60)            # hop-by-hop, routing, destination options: skip over
# BSD/macOS loopback (DLT_NULL) stores the address family in host order; AF_INET6 is 24, 28 or 30.
_NULL_V6 = (24, 28, 30)


def decode(linktype: int, data: bytes):
    """(src_mac, src, dst, proto, sport, dport, tcp_flags, seq, payload, ack) or None.

    src/dst are the raw 4- or 16-byte addresses (text only when an event is written);
    src_mac is 6 raw bytes or None when the link layer has no MAC.
    """
    try:
        return _decode(linktype, data)
    except (IndexError, ValueError):
        return None


def _decode(linktype: int, data: bytes):
    mac = None
    if linktype == EN10MB:
        if len(data) < 14:
            return None
        mac = data[6:12]
        etype = (data[12] << 8) | data[13]
        off = 14
        while etype in _VLAN:
            etype = (data[off + 2] << 8) | data[off + 3]
            off += 4
        if etype == 0x8864:     # PPPoE session (DSL uplinks): 6-byte header, then the PPP protocol
            ppp = (data[off + 6] << 8) | data[off + 7]
            etype = 0x0800 if ppp == 0x0021 else 0x86DD if ppp == 0x0057 else 0
            off += 8
        if etype == 0x0800:
            ver = 4
        elif etype == 0x86DD:
            ver = 6
        else:
            return None
    elif linktype == LINUX_SLL:
        if len(data) < 16:
            return None
        alen = (data[4] << 8) | data[5]
        if alen == 6:
            mac = data[6:12]
        etype = (data[14] << 8) | data[15]
        off = 16
        ver = 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
    elif linktype == LINUX_SLL2:
        if len(data) < 20:
            return None
        etype = (data[0] << 8) | data[1]
        if data[11] == 6:
            mac = data[12:18]
        off = 20
        ver = 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
    elif linktype in (NULL, LOOP):
        if len(data) < 4:
            return None
        fam_le = int.from_bytes(data[:4], "little")
        fam_be = int.from_bytes(data[:4], "big")
        off = 4
        if fam_le == 2 or fam_be == 2:
            ver = 4
        elif fam_le in _NULL_V6 or fam_be in _NULL_V6:
            ver = 6
        else:
            return None
    elif linktype in (RAW, IPV4, IPV6) or linktype in RAW_ALIASES:
        off = 0
        ver = data[0] >> 4 if data else 0
    else:
        return None

    if ver == 4:
        b0 = data[off]
        if b0 >> 4 != 4:
            return None
        ihl = (b0 & 15) * 4
        total = (data[off + 2] << 8) | data[off + 3]
        if ihl < 20 or total < ihl:
            return None
        if ((data[off + 6] & 0x3F) << 8) | data[off + 7]:   # MF flag or a fragment offset
            return None
        proto = data[off + 9]
        src = data[off + 12:off + 16]
        dst = data[off + 16:off + 20]
        if len(dst) != 4:
            return None
        end = min(off + total, len(data))
        l4 = off + ihl
    elif ver == 6:
        if data[off] >> 4 != 6 or len(data) < off + 40:
            return None
        plen = (data[off + 4] << 8) | data[off + 5]
        proto = data[off + 6]
        src = data[off + 8:off + 24]
        dst = data[off + 24:off + 40]
        end = min(off + 40 + plen, len(data)) if plen else len(data)
        l4 = off + 40
        hops = 0
        while proto in _V6_EXT or proto == 44 or proto == 51:
            hops += 1
            if hops > 8:
                return None
            if proto == 44:   # fragment header: only an atomic fragment (offset 0, no M) is whole
                if ((data[l4 + 2] << 8) | data[l4 + 3]) & 0xFFF9:
                    return None
                proto, l4 = data[l4], l4 + 8
            elif proto == 51:
                proto, l4 = data[l4], l4 + (data[l4 + 1] + 2) * 4
            else:
                proto, l4 = data[l4], l4 + (data[l4 + 1] + 1) * 8
    else:
        return None

    if proto == TCP:
        if end - l4 < 20:
            return None
        doff = (data[l4 + 12] >> 4) * 4
        if doff < 20:
            return None
        return (mac, src, dst, TCP, (data[l4] << 8) | data[l4 + 1], (data[l4 + 2] << 8) | data[l4 + 3],
                data[l4 + 13], int.from_bytes(data[l4 + 4:l4 + 8], "big"), data[l4 + doff:end],
                int.from_bytes(data[l4 + 8:l4 + 12], "big"))
    if proto == UDP:
        if end - l4 < 8:
            return None
        ulen = (data[l4 + 4] << 8) | data[l4 + 5]
        if ulen >= 8:
            end = min(end, l4 + ulen)
        return (mac, src, dst, UDP, (data[l4] << 8) | data[l4 + 1], (data[l4 + 2] << 8) | data[l4 + 3],
                0, 0, data[l4 + 8:end], 0)
    return None


def ip_text(raw: bytes) -> str:
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    return socket.inet_ntop(socket.AF_INET6, raw)


def mac_text(raw: bytes | None) -> str | None:
    if raw is None or len(raw) != 6:
        return None
    return raw.hex(":")


def ip_raw(text: str) -> bytes:
    """Raw address bytes of an IPv4/IPv6 text (ValueError when it is neither)."""
    try:
        return socket.inet_pton(socket.AF_INET, text)
    except OSError:
        try:
            return socket.inet_pton(socket.AF_INET6, text)
        except OSError:
            raise ValueError(f"{text!r} is not an IP address") from None
