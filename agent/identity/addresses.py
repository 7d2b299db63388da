"""Normalizing IP and MAC addresses so one device has one key.

The proxy sees `::ffff:127.0.0.5` when it listens on a dual-stack socket and
`127.0.0.5` otherwise; switches print MACs as `AA-BB-CC-DD-EE-FF` or
`aabb.ccdd.eeff`. The registry stores one canonical form and lookups convert to it.
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

_HEX12 = re.compile(r"[0-9a-f]{12}\Z")


def normalize_ip(value: str) -> str:
    """Canonical text of an IPv4/IPv6 address; IPv4-mapped IPv6 becomes IPv4.

    Raises ValueError for anything that is not a single address (ranges included).
    """
    addr = ipaddress.ip_address(value.strip())
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def normalize_mac(value: str) -> str:
    """`aa:bb:cc:dd:ee:ff` from colon, dash, dot (Cisco) or bare-hex forms; ValueError otherwise."""
    raw = value.strip().lower()
    groups = re.split(r"[:\-]", raw) if (":" in raw or "-" in raw) else None
    if groups is not None:
        if len(groups) != 6 or any(len(g) not in (1, 2) for g in groups):
            raise ValueError(f"{value!r} is not a MAC address")
        hexdigits = "".join(g.zfill(2) for g in groups)
    else:
        hexdigits = raw.replace(".", "")
        if "." in raw and [len(p) for p in raw.split(".")] != [4, 4, 4]:
            raise ValueError(f"{value!r} is not a MAC address")
    if not _HEX12.match(hexdigits):
        raise ValueError(f"{value!r} is not a MAC address")
    return ":".join(hexdigits[i:i + 2] for i in range(0, 12, 2))


def lookup_ip(value: str) -> str | None:
    """A lookup key for registry/DHCP dicts (whose keys are normalized): None when unparsable.

    Not a validator: a malformed mapped address yields a key that simply matches nothing.

    A dual-stack listener reports every IPv4 client as `::ffff:a.b.c.d`; stripping the
    prefix is a string slice, not an ipaddress parse (about 8 us). Other forms are cached.
    """
    if value[:7].lower() == "::ffff:" and "." in value:
        return value[7:]
    return _lookup_ip(value)


@lru_cache(maxsize=65536)
def _lookup_ip(value: str) -> str | None:
    try:
        return normalize_ip(value)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def lookup_mac(value: str) -> str | None:
    try:
        return normalize_mac(value)
    except ValueError:
        return None
