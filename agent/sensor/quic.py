"""QUIC Initial packets: header protection removed and payload decrypted with the keys every
observer can derive from the Destination Connection ID (RFC 9001 section 5; RFC 9369 for v2),
then the CRYPTO frames, which carry the ClientHello.

Only the `cryptography` package's primitives are used (HMAC-SHA256 for HKDF-Extract,
HKDF-Expand, AES-ECB for the header-protection mask, AES-128-GCM). Nothing here raises on
malformed input: a packet that does not parse or authenticate is simply not a client Initial.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

V1, V2, DRAFT29 = 0x00000001, 0x6B3343CF, 0xFF00001D
_SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")        # RFC 9001 section 5.2
_SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")        # RFC 9369 section 3.3.1
_SALT_D29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")       # drafts 29 to 32
_SALT_D23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")       # drafts 23 to 28
SALTS = {V1: _SALT_V1, V2: _SALT_V2}
SALTS.update({0xFF000000 + d: _SALT_D23 for d in range(23, 29)})
SALTS.update({0xFF000000 + d: _SALT_D29 for d in range(29, 33)})
SALTS.update({0xFF000000 + d: _SALT_V1 for d in (33, 34)})
_V1_LABELS = (b"quic key", b"quic iv", b"quic hp")
_LABELS = {v: _V1_LABELS for v in SALTS}
_LABELS[V2] = (b"quicv2 key", b"quicv2 iv", b"quicv2 hp")
# Long-header packet type of an Initial: 0 in v1 and drafts, 1 in v2 (RFC 9369 section 3.2).
_INITIAL_TYPE = {v: 0 for v in SALTS}
_INITIAL_TYPE[V2] = 1
VERSIONS = frozenset(SALTS)


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


class InitialKeys:
    """Client Initial protection keys for one (version, DCID)."""
    __slots__ = ("aead", "iv", "hp")

    def __init__(self, key: bytes, iv: bytes, hp: bytes):
        self.aead = AESGCM(key)
        self.iv = iv
        self.hp = Cipher(algorithms.AES(hp), modes.ECB())

    @classmethod
    def derive(cls, version: int, dcid: bytes) -> "InitialKeys":
        initial = hmac.new(SALTS[version], dcid, hashlib.sha256).digest()   # HKDF-Extract
        client = _expand_label(initial, b"client in", 32)
        lk, liv, lhp = _LABELS[version]
        return cls(_expand_label(client, lk, 16), _expand_label(client, liv, 12), _expand_label(client, lhp, 16))

    def mask(self, sample: bytes) -> bytes:
        enc = self.hp.encryptor()
        return enc.update(sample) + enc.finalize()


_KEY_CACHE: OrderedDict = OrderedDict()


def keys_for(version: int, dcid: bytes) -> InitialKeys:
    k = (version, dcid)
    keys = _KEY_CACHE.get(k)
    if keys is None:
        keys = InitialKeys.derive(version, dcid)
        _KEY_CACHE[k] = keys
        if len(_KEY_CACHE) > 4096:
            _KEY_CACHE.popitem(last=False)
    return keys


def varint(b: bytes, pos: int) -> tuple[int, int]:
    first = b[pos]
    ln = 1 << (first >> 6)
    if pos + ln > len(b):
        raise ValueError("truncated varint")
    v = first & 0x3F
    for i in range(1, ln):
        v = (v << 8) | b[pos + i]
    return v, pos + ln


def looks_like_initial(payload: bytes) -> bool:
    """Cheap pre-filter: long header with the fixed bit, a version we can decrypt, and the
    1200-byte minimum every datagram carrying a client Initial has (RFC 9000 section 14.1)."""
    return (len(payload) >= 1200 and payload[0] & 0xC0 == 0xC0
            and int.from_bytes(payload[1:5], "big") in VERSIONS)


def initial_packets(datagram: bytes):
    """Yield (version, dcid, header_start, pn_offset, end) for each Initial in a datagram.

    A datagram may coalesce several long-header packets; others (0-RTT, Handshake) are skipped
    by their Length field. Stops at the first short-header or unparsable packet.
    """
    try:
        yield from _initial_packets(datagram)
    except (IndexError, ValueError):
        return


def _initial_packets(datagram: bytes):
    pos, n = 0, len(datagram)
    while pos + 7 <= n:
        first = datagram[pos]
        if first & 0xC0 != 0xC0:
            return
        version = int.from_bytes(datagram[pos + 1:pos + 5], "big")
        if version not in VERSIONS:
            return
        p = pos + 5
        dcil = datagram[p]
        if dcil > 20:
            return
        dcid = datagram[p + 1:p + 1 + dcil]
        p += 1 + dcil
        scil = datagram[p]
        if scil > 20:
            return
        p += 1 + scil
        ptype = (first >> 4) & 3
        if ptype == _INITIAL_TYPE[version]:
            tlen, p = varint(datagram, p)
            p += tlen
        elif ptype == 3 - 3 * (version == V2):   # Retry (3 in v1, 0 in v2): no Length field
            return
        length, p = varint(datagram, p)
        end = p + length
        if end > n or length < 20:
            return
        if ptype == _INITIAL_TYPE[version]:
            yield version, bytes(dcid), pos, p, end
        pos = end


def decrypt_initial(datagram: bytes, start: int, pn_offset: int, end: int, keys: InitialKeys) -> bytes | None:
    """The plaintext payload of one client Initial, or None if it does not authenticate."""
    sample = datagram[pn_offset + 4:pn_offset + 20]
    if len(sample) < 16:
        return None
    mask = keys.mask(sample)
    first = datagram[start] ^ (mask[0] & 0x0F)
    pn_len = (first & 3) + 1
    header = bytearray(datagram[start:pn_offset + pn_len])
    header[0] = first
    pn = 0
    for i in range(pn_len):
        header[pn_offset - start + i] ^= mask[1 + i]
        pn = (pn << 8) | header[pn_offset - start + i]
    nonce = (int.from_bytes(keys.iv, "big") ^ pn).to_bytes(12, "big")
    try:
        return keys.aead.decrypt(nonce, datagram[pn_offset + pn_len:end], bytes(header))
    except InvalidTag:
        return None


def crypto_frames(plain: bytes):
    """(offset, data) of each CRYPTO frame in an Initial's plaintext; stops at an unknown frame."""
    out, pos, n = [], 0, len(plain)
    try:
        while pos < n:
            ftype = plain[pos]
            if ftype == 0x00:                 # PADDING
                pos += 1
            elif ftype == 0x01:               # PING
                pos += 1
            elif ftype in (0x02, 0x03):       # ACK
                _, pos = varint(plain, pos + 1)
                _, pos = varint(plain, pos)
                count, pos = varint(plain, pos)
                _, pos = varint(plain, pos)
                for _ in range(min(count, 256) * 2):
                    _, pos = varint(plain, pos)
                if ftype == 0x03:
                    for _ in range(3):
                        _, pos = varint(plain, pos)
            elif ftype == 0x06:               # CRYPTO
                off, pos = varint(plain, pos + 1)
                ln, pos = varint(plain, pos)
                if pos + ln > n:
                    break
                out.append((off, plain[pos:pos + ln]))
                pos += ln
            elif ftype == 0x1C:               # CONNECTION_CLOSE (transport)
                _, pos = varint(plain, pos + 1)
                _, pos = varint(plain, pos)
                ln, pos = varint(plain, pos)
                pos += ln
            else:
                break
    except (IndexError, ValueError):
        pass
    return out
