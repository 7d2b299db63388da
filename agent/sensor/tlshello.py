"""TLS ClientHello: reassembled from TLS records, then the SNI and the extensions we report.

Works on bytes already put in order by the TCP reassembler (agent/sensor/flows.py) or by the
QUIC CRYPTO-frame reassembler; a ClientHello may span several records. Parsing never raises:
anything malformed is "not a ClientHello" (None).
"""
from __future__ import annotations

from dataclasses import dataclass

from agent.sensor.names import clean_name

NEED_MORE, FAILED = "more", "failed"
MAX_HELLO = 65536         # a ClientHello is a few hundred bytes to a few KB (post-quantum key shares)

EXT_SNI, EXT_ALPN, EXT_VERSIONS, EXT_ECH = 0, 16, 43, 0xFE0D


@dataclass(frozen=True)
class ClientHello:
    sni: str | None
    ech: bool                   # an encrypted_client_hello extension of type "outer" is present
    alpn: tuple[str, ...]
    tls13: bool                 # supported_versions offers TLS 1.3
    legacy_version: int


def looks_like_tls(payload: bytes) -> bool:
    """A handshake record header: content type 22, record version 3.x."""
    return len(payload) >= 3 and payload[0] == 0x16 and payload[1] == 3 and payload[2] <= 4


def hello_from_records(buf: bytes):
    """The ClientHello body from the start of a TLS stream: bytes, NEED_MORE or FAILED."""
    hs = bytearray()
    pos, n = 0, len(buf)
    while pos + 5 <= n:
        if buf[pos] != 0x16 or buf[pos + 1] != 3:
            return FAILED
        rlen = (buf[pos + 3] << 8) | buf[pos + 4]
        if rlen == 0 or rlen > 18432:
            return FAILED
        hs += buf[pos + 5:pos + 5 + rlen]
        pos += 5 + rlen
        got = _complete(hs)
        if got is not None:
            return got
    if pos < n and (buf[pos] != 0x16 or (pos + 1 < n and buf[pos + 1] != 3)):
        return FAILED
    return NEED_MORE


def hello_from_handshake(hs: bytes):
    """The ClientHello body from handshake-layer bytes (QUIC CRYPTO data): bytes, NEED_MORE or FAILED."""
    got = _complete(hs)
    return NEED_MORE if got is None else got


def _complete(hs):
    if not hs:
        return None
    if hs[0] != 1:
        return FAILED
    if len(hs) < 4:
        return None
    need = 4 + ((hs[1] << 16) | (hs[2] << 8) | hs[3])
    if need > MAX_HELLO:
        return FAILED
    return bytes(hs[4:need]) if len(hs) >= need else None


def parse_client_hello(body: bytes) -> ClientHello | None:
    try:
        return _parse(body)
    except (IndexError, ValueError):
        return None


def _parse(b: bytes) -> ClientHello | None:
    n = len(b)
    if n < 38:
        return None
    legacy = (b[0] << 8) | b[1]
    pos = 34
    pos += 1 + b[pos]                                    # session id
    pos += 2 + ((b[pos] << 8) | b[pos + 1])              # cipher suites
    pos += 1 + b[pos]                                    # compression methods
    if pos > n:
        return None
    sni, ech, alpn, tls13 = None, False, (), False
    if pos + 2 <= n:
        end = min(n, pos + 2 + ((b[pos] << 8) | b[pos + 1]))
        pos += 2
        while pos + 4 <= end:
            etype = (b[pos] << 8) | b[pos + 1]
            elen = (b[pos + 2] << 8) | b[pos + 3]
            data = b[pos + 4:pos + 4 + elen]
            pos += 4 + elen
            if etype == EXT_SNI and len(data) >= 5 and data[2] == 0:
                nlen = (data[3] << 8) | data[4]
                sni = clean_name(data[5:5 + nlen]) if 5 + nlen <= len(data) else None
            elif etype == EXT_ECH:
                ech = bool(data) and data[0] == 0
            elif etype == EXT_ALPN and len(data) >= 2:
                items, i = [], 2
                while i < len(data):
                    ln = data[i]
                    items.append(data[i + 1:i + 1 + ln].decode("ascii", "replace"))
                    i += 1 + ln
                alpn = tuple(items)
            elif etype == EXT_VERSIONS and data:
                offered = data[1:1 + data[0]]
                tls13 = any(offered[i] == 3 and offered[i + 1] == 4 for i in range(0, len(offered) - 1, 2))
    return ClientHello(sni, ech, alpn, tls13, legacy)
