"""DHCP (BOOTP) messages: who asked for or was given which address, under which host name."""
from __future__ import annotations

from dataclasses import dataclass

from agent.sensor.wire import ip_text

MAGIC = b"\x63\x82\x53\x63"
TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM"}


@dataclass(frozen=True)
class DhcpMessage:
    msg_type: str
    mac: str
    client_ip: str | None        # ciaddr, when set
    assigned: str | None         # yiaddr (OFFER/ACK)
    requested: str | None        # option 50
    hostname: str | None         # option 12
    lease: int | None            # option 51, seconds
    server: str | None           # option 54
    domain: str | None           # option 15


def _ip(raw: bytes) -> str | None:
    return ip_text(raw) if len(raw) == 4 and raw != b"\0\0\0\0" else None


def _text(raw: bytes) -> str | None:
    text = raw.rstrip(b"\0").decode("utf-8", "replace").strip()
    return text if text and text.isprintable() else None


def parse_dhcp(p: bytes) -> DhcpMessage | None:
    try:
        return _parse(p)
    except (IndexError, ValueError):
        return None


def _parse(p: bytes) -> DhcpMessage | None:
    if len(p) < 240 or p[1] != 1 or p[2] != 6 or p[236:240] != MAGIC:   # Ethernet hardware only
        return None
    opts: dict[int, bytes] = {}
    pos = 240
    while pos < len(p):
        code = p[pos]
        if code == 0:
            pos += 1
            continue
        if code == 255 or pos + 1 >= len(p):
            break
        ln = p[pos + 1]
        opts.setdefault(code, p[pos + 2:pos + 2 + ln])
        pos += 2 + ln
    kind = opts.get(53)
    if not kind or kind[0] not in TYPES:
        return None
    lease = opts.get(51)
    return DhcpMessage(
        msg_type=TYPES[kind[0]],
        mac=p[28:34].hex(":"),
        client_ip=_ip(p[12:16]),
        assigned=_ip(p[16:20]),
        requested=_ip(opts.get(50, b"")),
        hostname=_text(opts[12]) if 12 in opts else None,
        lease=int.from_bytes(lease, "big") if lease and len(lease) == 4 else None,
        server=_ip(opts.get(54, b"")),
        domain=_text(opts[15]) if 15 in opts else None,
    )
