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
PPP, PPP_HDLC, IEEE802_11, RADIOTAP = 9, 50, 105, 127
RAW_ALIASES = (12, 14)   # DLT_RAW on some BSDs
SUPPORTED = frozenset({NULL, EN10MB, RAW, LOOP, LINUX_SLL, LINUX_SLL2, IPV4, IPV6, PPP, PPP_HDLC, IEEE802_11,
                       RADIOTAP, *RAW_ALIASES})
MAX_TUNNEL_DEPTH = 3
VXLAN_PORT, GTPU_PORT = 4789, 2152

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
        return _decode(linktype, data, 0)
    except (IndexError, ValueError):
        return None


def _ethertype_version(etype: int) -> int:
    return 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0


def _decode(linktype: int, data: bytes, depth: int):
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
        elif etype in (0x8847, 0x8848):   # MPLS: labels until bottom of stack, then IP by its version
            while not data[off + 2] & 1:
                off += 4
            off += 4
            etype = {4: 0x0800, 6: 0x86DD}.get(data[off] >> 4, 0)
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
    elif linktype in (PPP, PPP_HDLC):
        off = 2 if data[:2] == b"\xff\x03" else 0
        proto = (data[off] << 8) | data[off + 1]
        off += 2
        ver = 4 if proto == 0x0021 else 6 if proto == 0x0057 else 0
    elif linktype in (IEEE802_11, RADIOTAP):
        off = int.from_bytes(data[2:4], "little") if linktype == RADIOTAP else 0
        fc, flags = data[off], data[off + 1]
        if (fc >> 2) & 3 != 2 or flags & 0x40:   # data frames only; protected ones are opaque
            return None
        to_ds, from_ds = flags & 1, flags & 2
        mac = (data[off + 24:off + 30] if to_ds and from_ds else data[off + 16:off + 22] if from_ds
               else data[off + 10:off + 16])
        hdr = 30 if to_ds and from_ds else 24
        if fc & 0x80:                            # QoS data: 2 more bytes, 4 more with HT control
            hdr += 6 if flags & 0x80 else 2
        off += hdr
        if data[off:off + 6] != b"\xaa\xaa\x03\x00\x00\x00":
            return None
        ver = _ethertype_version((data[off + 6] << 8) | data[off + 7])
        off += 8
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
        proto = data[off + 9]
        if ((data[off + 6] & 0x1F) << 8) | data[off + 7]:   # a later fragment: no transport header
            return None
        if data[off + 6] & 0x20 and proto != UDP:
            # A first fragment of UDP still carries the start of a DNS message (its questions);
            # other first fragments are skipped (no IP reassembly: see the module doc).
            return None
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
            if proto == 44:   # fragment header: the first fragment (offset 0) of UDP, or an atomic one
                frag = (data[l4 + 2] << 8) | data[l4 + 3]
                if frag & 0xFFF8 or (frag & 1 and data[l4] != UDP):
                    return None
                proto, l4 = data[l4], l4 + 8
            elif proto == 51:
                proto, l4 = data[l4], l4 + (data[l4 + 1] + 2) * 4
            else:
                proto, l4 = data[l4], l4 + (data[l4 + 1] + 1) * 8
    else:
        return None

    if proto in (4, 41, 47) and depth < MAX_TUNNEL_DEPTH:
        return _tunnel(proto, data[l4:end], depth)
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
        dport = (data[l4 + 2] << 8) | data[l4 + 3]
        if (dport == VXLAN_PORT or dport == GTPU_PORT) and depth < MAX_TUNNEL_DEPTH:
            inner = _udp_tunnel(dport, data[l4 + 8:end], depth)
            if inner is not None:
                return inner
        return (mac, src, dst, UDP, (data[l4] << 8) | data[l4 + 1], (data[l4 + 2] << 8) | data[l4 + 3],
                0, 0, data[l4 + 8:end], 0)
    return None


def _tunnel(proto: int, inner: bytes, depth: int):
    """IP in IP (4), IPv6 in IPv4 (41), GRE (47): decode the carried packet. Its devices have
    no MAC we can see (the outer one belongs to a tunnel endpoint)."""
    if proto != 47:
        return _decode(RAW, inner, depth + 1)
    flags = (inner[0] << 8) | inner[1]
    if flags & 0x0007 > 1:                       # GRE version 0 or 1 (PPTP) only
        return None
    ptype = (inner[2] << 8) | inner[3]
    off = 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
    if flags & 0x0007 == 1:                      # enhanced GRE (PPTP): key always, seq/ack flags
        off = 8 + 4 * bool(flags & 0x1000) + 4 * bool(flags & 0x0080)
        if ptype != 0x880B:
            return None
        ppp = inner[off:]
        if ppp[:2] == b"\xff\x03":
            ppp = ppp[2:]
        return _decode(PPP, ppp, depth + 1)
    if ptype == 0x6558:                          # transparent Ethernet bridging
        r = _decode(EN10MB, inner[off:], depth + 1)
        return r
    if ptype in (0x0800, 0x86DD):
        r = _decode(RAW, inner[off:], depth + 1)
        return None if r is None else (None, *r[1:])
    return None


def _udp_tunnel(port: int, inner: bytes, depth: int):
    if port == VXLAN_PORT:
        if len(inner) < 8 + 14 or not inner[0] & 0x08:   # the I flag: a valid VXLAN network id
            return None
        return _decode(EN10MB, inner[8:], depth + 1)
    # GTP-U (mobile networks): version 1, message type 255 (G-PDU) carries a user IP packet
    if len(inner) < 8 or inner[0] >> 5 != 1 or inner[1] != 255:
        return None
    off = 8
    if inner[0] & 0x07:                                  # E, S or PN: 4 more bytes
        off = 12
        next_ext = inner[11] if inner[0] & 0x04 else 0
        while next_ext:
            ln = inner[off] * 4
            if ln == 0:
                return None
            next_ext = inner[off + ln - 1]
            off += ln
    r = _decode(RAW, inner[off:], depth + 1)
    return None if r is None else (None, *r[1:])


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
