"""The platform catalog: which hosts belong to which social platform.

`Catalog.match(host)` is on the proxy's hot path (every CONNECT, every request), so it
is a hash walk over the host's label suffixes: `a.b.fbcdn.net` tries `a.b.fbcdn.net`,
`b.fbcdn.net`, `fbcdn.net`, `net` in one dict, at most as many lookups as the host has
labels. Matching is on label boundaries only: `notinstagram.com` is not Instagram,
`cdninstagram.com` (its own entry) and `scontent.xx.fbcdn.net` (a subdomain) are.

Hosts are normalised before the walk: lower-cased, trailing dot and port stripped,
internationalised names converted to their ASCII (IDNA) form. IP literals never
match: a platform cannot be recognised from an address, and guessing would block
unrelated sites sharing a CDN address.

The shipped catalog is `agent/policies/catalog.yaml`; a policy file may add platforms
or domains (its `catalog:` section, see agent/policy/loader.py).
"""
from __future__ import annotations

import ipaddress
import re
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
                h = h.encode("idna").decode("ascii")
            except (UnicodeError, ValueError):
                return None
        h = h.lower()
    last = h.rpartition(".")[2]
    if last.isdigit():
        return None                       # IPv4 literal (no top-level domain is all digits)
    return h


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
    """Platforms by id, and a dict from every domain to its platform."""

    def __init__(self, platforms: list[Platform]):
        self._platforms: dict[str, Platform] = {}
        self._domains: dict[str, Platform] = {}
        self._hosts: dict[str, Platform] = {}
        for p in platforms:
            self._platforms[p.id] = p
            for d in p.domains:
                self._domains[d] = p
            for h in p.hosts:
                self._hosts[h] = p

    def match(self, host: str) -> Platform | None:
        h = normalize_host(host)
        if h is None:
            return None
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

    def matched_domain(self, host: str) -> str | None:
        """The catalog entry that `host` matched (itself or its nearest listed parent)."""
        h = normalize_host(host)
        if h is None:
            return None
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
        """The platform that lists exactly this domain or host."""
        return self._domains.get(domain) or self._hosts.get(domain)

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._platforms.values())

    def __len__(self) -> int:
        return len(self._platforms)

    def __contains__(self, platform_id: object) -> bool:
        return platform_id in self._platforms


# --------------------------------------------------------------------------- loading

DOMAIN = Str(what="a domain name like example.com", validate=valid_domain)
PLATFORM_SCHEMA = Record({
    "name": Field(Str(what="the platform's display name"), required=True),
    "category": Field(Enum(*CATEGORIES), required=True),
    "domains": Field(ListOf(DOMAIN, unique=True, what="a list of domain names"), default=list),
    "hosts": Field(ListOf(DOMAIN, unique=True, what="a list of exact host names"), default=list),
    "note": Field(Str(what="a note")),
}, what="a platform: name, category, domains")
PLATFORM_ID = Str(what="a platform id (lower-case letters, digits, _)", pattern=PLATFORM_ID_RE.pattern)
CATALOG_SCHEMA = Record({
    "platforms": Field(MapOf(PLATFORM_SCHEMA, key=PLATFORM_ID, what="a mapping of platform id to platform",
                             min_items=1), required=True),
})


def build_platforms(raw: YMap, file: str, path: str, base: dict[str, Platform] | None = None,
                    owners: dict[str, tuple[str, str, int | None]] | None = None) -> dict[str, Platform]:
    """Validated platform mappings -> Platform objects, refusing a domain listed twice.

    `owners` maps domain -> (platform id, file, line) for the error message.
    """
    platforms = dict(base or {})
    owners = dict(owners or {})
    for pid, spec in raw.items():
        if not spec["domains"] and not spec["hosts"]:
            raise ConfigError(file, line_of(raw, pid), f"{path}.{pid}.domains",
                              "expected at least one domain or host for the platform")
        if pid in platforms:   # a policy replacing a shipped platform frees its domains
            for d in platforms[pid].domains + platforms[pid].hosts:
                owners.pop(d, None)
        for key in ("domains", "hosts"):
            for i, d in enumerate(spec[key]):
                prev = owners.get(d)
                if prev and prev[0] != pid:
                    where = f"{prev[1]}:{prev[2]}" if prev[2] else prev[1]
                    raise ConfigError(file, line_of(spec[key], i), f"{path}.{pid}.{key}[{i}]",
                                      f"domain {d!r} already belongs to platform '{prev[0]}' ({where})")
                owners[d] = (pid, file, line_of(spec[key], i))
        platforms[pid] = Platform(pid, spec["name"], spec["category"], tuple(spec["domains"]), tuple(spec["hosts"]))
    return platforms


def domain_owners(platforms: dict[str, Platform], file: str) -> dict[str, tuple[str, str, int | None]]:
    return {d: (p.id, file, None) for p in platforms.values() for d in p.domains + p.hosts}


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


__all__ = ["Platform", "Catalog", "CATEGORIES", "normalize_host", "valid_domain", "load_catalog",
           "default_catalog", "CATALOG_PATH", "PLATFORM_ID_RE"]
