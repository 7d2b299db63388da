"""DNS messages: question names, and the addresses an answer gives for them.

Compression pointers are followed with a bound on jumps (a pointer loop in a hostile packet
must not spin). Malformed messages give None, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass

from agent.sensor.names import clean_name

MAX_JUMPS = 32


@dataclass(frozen=True)
class DnsMessage:
    response: bool
    questions: tuple[str, ...]
    addresses: tuple[bytes, ...]      # raw A/AAAA addresses from the answer section


def dns_name(raw: bytes) -> str | None:
    """A question name as text. Host names are printable ASCII (clean_name); mDNS service
    instance names may hold spaces and UTF-8 ("Kitchen Printer._ipp._tcp.local"), kept as sent,
    with undecodable bytes escaped."""
    if not raw:
        return "<Root>"      # the root zone (e.g. a priming NS query), shown as tshark shows it
    name = clean_name(raw)
    if name is not None:
        return name
    text = raw.decode("utf-8", "backslashreplace")
    if not text or len(text) > 1024:
        return None
    return "".join(c if c.isprintable() else f"\\{ord(c):03o}" for c in text)   # tshark's escape


def read_name(msg: bytes, pos: int):
    """(name, position after the name in the original sequence)."""
    labels, jumps, after, n = [], 0, None, len(msg)
    while True:
        ln = msg[pos]
        if ln == 0:
            pos += 1
            break
        if ln & 0xC0 == 0xC0:
            if after is None:
                after = pos + 2
            pos = ((ln & 0x3F) << 8) | msg[pos + 1]
            jumps += 1
            if jumps > MAX_JUMPS:
                raise ValueError("pointer loop")
            continue
        if ln & 0xC0:
            raise ValueError("bad label type")
        if pos + 1 + ln > n:
            raise ValueError("label past the end")
        labels.append(msg[pos + 1:pos + 1 + ln])
        pos += 1 + ln
        if len(labels) > 127:
            raise ValueError("too many labels")
    return b".".join(labels), (after if after is not None else pos)


def parse_dns(msg: bytes) -> DnsMessage | None:
    try:
        return _parse(msg)
    except (IndexError, ValueError):
        return None


def _parse(msg: bytes) -> DnsMessage | None:
    if len(msg) < 12:
        return None
    flags = (msg[2] << 8) | msg[3]
    if (flags >> 11) & 0xF > 6:          # QUERY, IQUERY, STATUS, NOTIFY, UPDATE (its zone), DSO
        return None
    qd = (msg[4] << 8) | msg[5]
    an = (msg[6] << 8) | msg[7]
    if qd == 0 or qd > 32:
        return None
    pos, questions = 12, []
    for _ in range(qd):
        raw, pos = read_name(msg, pos)
        if pos + 4 > len(msg):
            return None
        pos += 4
        name = dns_name(raw)
        if name is not None:      # an unprintable name is skipped, not the whole message
            questions.append(name)
    if not questions:
        return None
    addresses = []
    if flags & 0x8000:
        for _ in range(min(an, 256)):
            _, pos = read_name(msg, pos)
            if pos + 10 > len(msg):
                break
            rtype = (msg[pos] << 8) | msg[pos + 1]
            rdlen = (msg[pos + 8] << 8) | msg[pos + 9]
            rdata = msg[pos + 10:pos + 10 + rdlen]
            pos += 10 + rdlen
            if len(rdata) != rdlen:
                break
            if (rtype == 1 and rdlen == 4) or (rtype == 28 and rdlen == 16):
                addresses.append(bytes(rdata))
    return DnsMessage(bool(flags & 0x8000), tuple(questions), tuple(addresses))
