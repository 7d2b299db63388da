"""The platform catalog: which hosts belong to which social platform.

`Catalog.match(host)` is on the proxy's hot path (every CONNECT, every request), so it
is a hash walk over the host's label suffixes: `a.b.fbcdn.net` tries `a.b.fbcdn.net`,
`b.fbcdn.net`, `fbcdn.net`, `net` in one dict, at most as many lookups as the host has
labels. Matching is on label boundaries only: `notinstagram.com` is not Instagram,
`cdninstagram.com` (its own entry) and `scontent.xx.fbcdn.net` (a subdomain) are.

Hosts are normalised before the walk: lower-cased, trailing dot and port stripped,
internationalised names converted to their ASCII (IDNA) form.

IP literals match only addresses a platform lists exactly (`addresses:`), looked up in a
second dict after the host is recognised as an address (`normalize_address`). This exists
for DNS-over-HTTPS resolvers reached by address (`https://1.1.1.1/dns-query`, where a
browser sends no SNI): their operators publish fixed anycast addresses that serve nothing
else. It is deliberately not used for social platforms: their addresses are shared CDN
space that changes, and guessing would block unrelated sites on the same address. Only
exact addresses, no ranges: a range would need a scan or a trie, and the resolvers' own
lists are short.

Published address RANGES (`ranges:`, CIDR blocks) are the exception for platforms whose operators
publish the blocks their services run on (Meta's AS32934 route objects, Google's goog.json, X's
AS13414): a tunnel to such an address that carries no name (an app connecting to an address, no
SNI) is judged as that platform, and intercepted so the Host inside is judged too. Looked up only
for IP literals, by binary search over sorted (start, end) pairs (`bisect`), so names cost
nothing more. Addresses inside NAT64 (`64:ff9b::/96`) are their embedded IPv4 address.

The shipped catalog is `agent/policies/catalog.yaml`; a policy file may add platforms
or domains (its `catalog:` section, see agent/policy/loader.py).
"""
from __future__ import annotations

import bisect
import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from agent.config import Enum, Field, ListOf, MapOf, Record, Str, YMap, line_of, load_yaml
from agent.errors import ConfigError

CATALOG_PATH = Path(__file__).resolve().parent.parent / "policies" / "catalog.yaml"

# Categories are a closed set: rules and reports group by them.
CATEGORIES = (
    "social",        # general social networks
    "kids",          # designed for 12 and under, COPPA-compliant
    "messaging",     # chat and direct messages
    "video",         # video sharing and streaming with comments
    "forum",         # discussion boards
    "file_sharing",  # piracy, torrent indexes, file lockers (student guideline 10)
    "doh",           # DNS-over-HTTPS resolvers (would bypass DNS filtering)
    "search",        # web search, intercepted only to enforce SafeSearch
)

PLATFORM_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    category: str     # one of CATEGORIES
    domains: tuple[str, ...]   # each matches itself and its subdomains on label boundaries
    hosts: tuple[str, ...] = ()  # exact hosts only (e.g. www.google.com for search, not all of google.com)
    addresses: tuple[str, ...] = ()  # exact IP addresses, canonical text (normalize_address)
    ranges: tuple[str, ...] = ()     # published CIDR blocks (module doc), canonical text


def normalize_host(host: str) -> str | None:
    """The host as the catalog stores it, or None for IP literals and garbage.

    Accepts what arrives from the wire: `Host` headers with ports, SNI, CONNECT
    targets, URLs' netlocs. Never raises.
    """
    if not host:
        return None
    h = host
    if not (h.isascii() and h.islower() and ":" not in h and not h.endswith(".")
            and not h.startswith(" ") and not h.endswith(" ")):
        h = h.strip()
        if h.startswith("["):            # [v6]:port
            return None
        if h.count(":") == 1:             # host:port
            h = h.partition(":")[0]
        elif ":" in h:                    # a bare IPv6 address
            return None
        h = h.rstrip(".")
        if not h:
            return None
        if not h.isascii():
            try:
                # Full-width and ideographic dots become "." here: strip a trailing one again.
                h = h.encode("idna").decode("ascii").rstrip(".")
            except (UnicodeError, ValueError):
                return None
            if not h:
                return None
        h = h.lower()
    # The last label is never empty here: h is non-empty and a trailing dot was refused or stripped.
    if h.rpartition(".")[2][0] <= "9":
        # An IPv4 literal: no top-level domain starts with a digit. This also catches the forms
        # URL parsers and inet_aton read as addresses (16843009, 0x01010101, 1.1.1.0x1), which
        # must go to the address lookup (normalize_address), not the domain walk. One character
        # compare, cheaper than isdigit(): this line runs for every host.
        return None
    return h


_INET_ATON_RE = re.compile(r"[0-9a-fx.]{1,64}")


def normalize_address(host: str) -> str | None:
    """The canonical text of an IP literal host, or None for names and garbage.

    Accepts what arrives from the wire: `1.1.1.1`, `1.1.1.1:443`, `[2606:4700:4700::1111]:443`,
    a bare `2606:4700:4700::1111`, a zone id (`fe80::1%eth0`). IPv4-mapped IPv6
    (`::ffff:1.1.1.1`) is its IPv4 address, and the shorthand forms the C resolver accepts
    (`16843009`, `0x01010101`, `1.1.1.01`) are read as inet_aton reads them, because that is
    the address a client naming them reaches. Never raises.
    """
    if not host or not isinstance(host, str):
        return None
    h = host.strip()
    if h.startswith("["):                 # [v6] or [v6]:port
        end = h.find("]")
        if end < 0:
            return None
        h = h[1:end]
    elif h.count(":") == 1:               # v4:port
        h = h.partition(":")[0]
    h = h.partition("%")[0]
    if not h.isascii():                   # full-width digits and dots: what a resolver would read
        try:
            h = h.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    h = h.rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        if not _INET_ATON_RE.fullmatch(h):
            return None                   # inet_aton would accept trailing junk: refuse it first
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    elif ip.version == 6 and ip in _NAT64:
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)   # 64:ff9b::a.b.c.d reaches a.b.c.d
    return str(ip)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")   # RFC 6052 well-known prefix


def valid_range(text: str) -> str | None:
    """None when `text` is a CIDR block (v4 or v6), else what is wrong with it."""
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        return f"expected an address block like 157.240.0.0/16 or 2a03:2880::/32 ({exc}); got {text!r}"
    return None


# Parsing an address costs 3-9 us (ipaddress); transparent mode asks about the same few
# thousand server addresses over and over. Bounded, so hostile input cannot grow it.
_address_key = lru_cache(maxsize=4096)(normalize_address)


def valid_address(text: str) -> str | None:
    """None when `text` is a single IP address (v4 or v6), else what is wrong with it."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if "/" in text:
            return f"expected a single IP address like 1.1.1.1 or 2606:4700:4700::1111 (no ranges); got {text!r}"
        return f"expected an IP address like 1.1.1.1 or 2606:4700:4700::1111; got {text!r}"
    return None


def catalog_domain(name: str) -> str | None:
    """valid_domain, pointing a catalog author at `addresses:` when they wrote an IP address."""
    problem = valid_domain(name)
    if problem and valid_address(name) is None:
        return f"expected a domain name; got the IP address {name!r} (list IP addresses under 'addresses')"
    return problem


def valid_domain(name: str) -> str | None:
    """None when `name` is a usable domain name, else what is wrong with it."""
    if not name or len(name) > 253:
        return "expected a domain name like example.com"
    if "*" in name:
        return f"expected a domain name like example.com (no wildcards: a domain already matches its subdomains); got {name!r}"
    if name != name.lower() or name.endswith(".") or "/" in name or ":" in name:
        return f"expected a lower-case domain name without scheme, port, path or trailing dot; got {name!r}"
    try:
        ipaddress.ip_address(name)
        return f"expected a domain name; got the IP address {name!r} (IP literals never match)"
    except ValueError:
        pass
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(lbl) for lbl in labels):
        return f"expected a domain name like example.com; got {name!r}"
    return None


class Catalog:
    """Platforms by id, and dicts from every domain, exact host and IP address to its platform."""

    def __init__(self, platforms: list[Platform]):
        self._platforms: dict[str, Platform] = {}
        self._domains: dict[str, Platform] = {}
        self._hosts: dict[str, Platform] = {}
        self._addresses: dict[str, Platform] = {}
        spans: list[tuple[int, int, int, Platform]] = []   # (version, start, end, platform)
        for p in platforms:
            for r in p.ranges:
                net = ipaddress.ip_network(r)
                spans.append((net.version, int(net.network_address), int(net.broadcast_address), p))
            self._platforms[p.id] = p
            for d in p.domains:
                self._domains[d] = p
            for h in p.hosts:
                self._hosts[h] = p
            for a in p.addresses:
                self._addresses[normalize_address(a) or a] = p
        spans.sort(key=lambda x: (x[0], x[1], x[2]))
        self._spans = {v: ([x[1] for x in spans if x[0] == v], [(x[2], x[3]) for x in spans if x[0] == v])
                       for v in (4, 6)}
        self._reach = {}
        for v, (_, ends) in self._spans.items():
            reach, top = [], -1
            for end, _p in ends:
                top = max(top, end)
                reach.append(top)
            self._reach[v] = reach
        self._has_addresses = bool(self._addresses) or bool(spans)

    def match(self, host: str) -> Platform | None:
        h = normalize_host(host)
        if h is None:
            # Not a name: an IP literal (or garbage). Off the domain path, so names cost nothing more.
            return self._match_address(host) if self._has_addresses else None
        p = self._hosts.get(h)
        if p is not None:
            return p
        domains = self._domains
        while True:
            p = domains.get(h)
            if p is not None:
                return p
            i = h.find(".")
            if i < 0:
                return None
            h = h[i + 1:]

    def _match_address(self, host: str) -> Platform | None:
        p = self._addresses.get(host)      # already canonical (the usual "1.1.1.1"): no parsing
        if p is not None:
            return p
        a = _address_key(host)
        if a is None:
            return None
        p = self._addresses.get(a)
        return p if p is not None else self.match_range(a)

    def match_range(self, address: str) -> Platform | None:
        """The platform whose published range holds this canonical address (module doc)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        starts, ends = self._spans[ip.version]
        if not starts:
            return None
        n = int(ip)
        reach = self._reach[ip.version]
        i = bisect.bisect_right(starts, n) - 1
        # Ranges may nest (a /24 inside a /16): walk back only while an earlier range still
        # reaches n (reach[i] = the largest end among ranges 0..i), so a miss stops at once.
        while i >= 0 and reach[i] >= n:
            end, platform = ends[i]
            if n <= end:
                return platform
            i -= 1
        return None

    def matched_domain(self, host: str) -> str | None:
        """The catalog entry that `host` matched (itself or its nearest listed parent; for an
        IP literal, the listed address)."""
        h = normalize_host(host)
        if h is None:
            a = normalize_address(host) if self._has_addresses else None
            if a is not None and a in self._addresses:
                return a
            p = self.match_range(a) if a is not None else None
            return next((r for r in p.ranges if ipaddress.ip_address(a) in ipaddress.ip_network(r)), None) \
                if p is not None else None
        if h in self._hosts:
            return h
        while True:
            if h in self._domains:
                return h
            i = h.find(".")
            if i < 0:
                return None
            h = h[i + 1:]

    def get(self, platform_id: str) -> Platform | None:
        return self._platforms.get(platform_id)

    def ids(self) -> list[str]:
        return list(self._platforms)

    def owner_of(self, domain: str) -> Platform | None:
        """The platform that lists exactly this domain, host or address."""
        return self._domains.get(domain) or self._hosts.get(domain) or self._addresses.get(domain)

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._platforms.values())

    def __len__(self) -> int:
        return len(self._platforms)

    def __contains__(self, platform_id: object) -> bool:
        return platform_id in self._platforms


# --------------------------------------------------------------------------- loading

DOMAIN = Str(what="a domain name like example.com", validate=valid_domain)
CATALOG_DOMAIN = Str(what="a domain name like example.com", validate=catalog_domain)
ADDRESS = Str(what="an IP address like 1.1.1.1", validate=valid_address)
RANGE = Str(what="an address block like 157.240.0.0/16", validate=valid_range)
PLATFORM_SCHEMA = Record({
    "name": Field(Str(what="the platform's display name"), required=True),
    "category": Field(Enum(*CATEGORIES), required=True),
    "domains": Field(ListOf(CATALOG_DOMAIN, unique=True, what="a list of domain names"), default=list),
    "hosts": Field(ListOf(CATALOG_DOMAIN, unique=True, what="a list of exact host names"), default=list),
    "addresses": Field(ListOf(ADDRESS, unique=True, what="a list of IP addresses"), default=list),
    "ranges": Field(ListOf(RANGE, unique=True, what="a list of address blocks"), default=list),
    "source": Field(Str(what="where the ranges were published, and the date they were taken")),
    "note": Field(Str(what="a note")),
}, what="a platform: name, category, domains (and/or hosts, addresses)")
PLATFORM_ID = Str(what="a platform id (lower-case letters, digits, _)", pattern=PLATFORM_ID_RE.pattern)
CATALOG_SCHEMA = Record({
    "platforms": Field(MapOf(PLATFORM_SCHEMA, key=PLATFORM_ID, what="a mapping of platform id to platform",
                             min_items=1), required=True),
})


def build_platforms(raw: YMap, file: str, path: str, base: dict[str, Platform] | None = None,
                    owners: dict[str, tuple[str, str, int | None]] | None = None) -> dict[str, Platform]:
    """Validated platform mappings -> Platform objects, refusing a domain or address listed twice.

    `owners` maps domain or canonical address -> (platform id, file, line) for the error message.
    Addresses are compared canonically: `2620:00fe::fe` and `2620:fe::fe` are the same entry.
    """
    platforms = dict(base or {})
    owners = dict(owners or {})
    for pid, spec in raw.items():
        if not spec["domains"] and not spec["hosts"] and not spec["addresses"] and not spec["ranges"]:
            raise ConfigError(file, line_of(raw, pid), f"{path}.{pid}.domains",
                              "expected at least one domain, host or address for the platform")
        if pid in platforms:   # a policy replacing a shipped platform frees its domains and addresses
            old = platforms[pid]
            for d in old.domains + old.hosts + old.addresses:
                owners.pop(d, None)
        addresses: list[str] = []
        for key in ("domains", "hosts", "addresses"):
            for i, d in enumerate(spec[key]):
                if key == "addresses":
                    d = normalize_address(d)   # valid_address passed: never None
                    if d in addresses:
                        raise ConfigError(file, line_of(spec[key], i), f"{path}.{pid}.{key}[{i}]",
                                          f"address {spec[key][i]!r} is listed twice (as {d!r})")
                    addresses.append(d)
                prev = owners.get(d)
                if prev and prev[0] != pid:
                    where = f"{prev[1]}:{prev[2]}" if prev[2] else prev[1]
                    what = "address" if key == "addresses" else "domain"
                    raise ConfigError(file, line_of(spec[key], i), f"{path}.{pid}.{key}[{i}]",
                                      f"{what} {d!r} already belongs to platform '{prev[0]}' ({where})")
                owners[d] = (pid, file, line_of(spec[key], i))
        ranges = tuple(str(ipaddress.ip_network(r)) for r in spec["ranges"])
        platforms[pid] = Platform(pid, spec["name"], spec["category"], tuple(spec["domains"]), tuple(spec["hosts"]),
                                  tuple(addresses), ranges)
    return platforms


def domain_owners(platforms: dict[str, Platform], file: str) -> dict[str, tuple[str, str, int | None]]:
    return {d: (p.id, file, None) for p in platforms.values() for d in p.domains + p.hosts + p.addresses}


def load_catalog(path: str | Path = CATALOG_PATH) -> Catalog:
    file = str(path)
    raw = CATALOG_SCHEMA.check(load_yaml(path), file, "", 1)
    return Catalog(list(build_platforms(raw["platforms"], file, "platforms").values()))


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped catalog, parsed once per process."""
    return load_catalog(CATALOG_PATH)


def shipped_platforms() -> dict[str, Platform]:
    return {p.id: p for p in default_catalog()}


__all__ = ["Platform", "Catalog", "CATEGORIES", "normalize_host", "normalize_address", "valid_domain",
           "valid_address", "load_catalog",
           "default_catalog", "CATALOG_PATH", "PLATFORM_ID_RE"]
