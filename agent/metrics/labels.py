"""Label values allowed into a scrape: bounded sets only, never a person, device, IP or URL.

The hot path counts whatever strings callers pass (a dict increment must stay cheap), so the
guard runs at scrape time, once per distinct series. Rules, per label name:

* closed sets (verdict, severity, identity source, ...): a value outside the set becomes "other";
* sets known from configuration (platform ids from the catalog, guideline ids and cohorts from
  the policy, school org ids from the roster): outside the set becomes "other" when the set was
  given, otherwise the open-set rules apply;
* open sets (addon, reason, kind, ...): a short lower-case slug is kept, anything else becomes
  "other"; an IP address, an e-mail, a URL or any roster user id / username is always "redacted";
* a cap of distinct values per label name, so a buggy caller cannot blow up cardinality.

Fail-safe choice: when in doubt the value is replaced, never passed through. The counts are
kept (merged into the replacement series), so totals stay right.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterable

OTHER = "other"
REDACTED = "redacted"
MAX_VALUE_LEN = 48
MAX_VALUES_PER_LABEL = 200

# Platform ids from DESIGN.md; the catalog (when importable) extends this.
KNOWN_PLATFORMS = frozenset({
    "x", "instagram", "facebook", "threads", "tiktok", "snapchat", "youtube", "pinterest", "linkedin",
    "reddit", "discord", "tumblr", "twitch", "bluesky", "mastodon", "bereal", "whatsapp", "telegram",
    "messenger", "youtube_kids", "messenger_kids", "pbs_kids",
})
NO_VALUE = frozenset({"none", "unknown", "unassigned", OTHER, REDACTED})

CLOSED: dict[str, frozenset[str]] = {
    "verdict": frozenset({"allow", "block"}),
    "severity": frozenset({"low", "medium", "high", "critical"}),
    "source": frozenset({"auth", "device", "dhcp", "unknown"}),
}

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_EMAILISH = re.compile(r"@")


def _looks_like_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value.split("%", 1)[0])
        return True
    except ValueError:
        pass
    # dotted quads with a port, or MAC addresses
    return bool(re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}(:\d+)?|([0-9a-f]{2}[:\-]){5}[0-9a-f]{2}", value))


@dataclass
class LabelGuard:
    """Normalizes label values to bounded sets (see module doc)."""
    platforms: frozenset[str] = KNOWN_PLATFORMS
    guidelines: frozenset[str] | None = None
    cohorts: frozenset[str] | None = None
    schools: frozenset[str] | None = None
    forbidden: frozenset[str] = frozenset()      # roster user ids, usernames, e-mails (lower-case)
    max_values: int = MAX_VALUES_PER_LABEL
    _seen: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_context(cls, ctx) -> "LabelGuard":
        """Sets from the policy and roster of an AppContext; any part that fails to load is left
        open (metrics must never stop the proxy) and the deny-list still applies."""
        platforms = set(KNOWN_PLATFORMS)
        guidelines = cohorts = schools = None
        forbidden: set[str] = set()
        try:
            policy = ctx.policy
            platforms.update(p.id for p in policy.catalog)
            guidelines = frozenset(policy.guidelines)
            cohort_names = getattr(policy, "cohorts", None)
            if cohort_names:
                cohorts = frozenset(c if isinstance(c, str) else getattr(c, "name", str(c))
                                    for c in cohort_names)
        except Exception:
            pass
        try:
            roster = ctx.roster
            school_ids: set[str] = set()
            for person in roster.people():
                forbidden.update(v.lower() for v in (person.user_id, person.username, person.email) if v)
                school_ids.update(person.schools)
            schools = frozenset(school_ids) or None
        except Exception:
            pass
        return cls(platforms=frozenset(platforms), guidelines=guidelines, cohorts=cohorts,
                   schools=schools, forbidden=frozenset(forbidden))

    def clean(self, label: str, value) -> str:
        value = "none" if value is None else str(value)
        key = (label, value)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = self._clean(label, value)
        if out not in NO_VALUE:
            seen = self._seen.setdefault(label, set())
            if out not in seen:
                if len(seen) >= self.max_values:
                    out = OTHER
                else:
                    seen.add(out)
        if len(self._cache) < 50_000:
            self._cache[key] = out
        return out

    def _clean(self, label: str, value: str) -> str:
        low = value.strip().lower()
        if low in NO_VALUE or low == "":
            return low or "none"
        if low in self.forbidden or _EMAILISH.search(low) or "/" in low or _looks_like_address(low):
            return REDACTED
        if label in CLOSED:
            return low if low in CLOSED[label] else OTHER
        known = {"platform": self.platforms, "guideline": self.guidelines, "cohort": self.cohorts,
                 "school": self.schools}.get(label)
        if known is not None:
            # Cohort names and school ids keep their case in config; compare both ways.
            if value in known:
                return value if _SLUG.match(low) and len(value) <= MAX_VALUE_LEN else OTHER
            return low if low in known else OTHER
        if len(low) > MAX_VALUE_LEN or not _SLUG.match(low):
            return OTHER
        return low

    def clean_all(self, names: Iterable[str], values: Iterable) -> tuple[str, ...]:
        return tuple(self.clean(n, v) for n, v in zip(names, values))
