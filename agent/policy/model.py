"""Records the policy package hands to the rest of CrossingGuard (docs/interfaces.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.policy.catalog import Catalog
from agent.policy.schedules import Schedule

ACTIONS = ("allow", "block", "read_only", "monitor")
# OneRoster 1.1 roles, plus `unknown` for an unidentified device.
ROLES = ("student", "teacher", "administrator", "aide", "proctor", "guardian", "parent", "relative", "unknown")
STAFF_ROLES = ("teacher", "administrator", "aide", "proctor")
INCIDENT_CATEGORIES = ("bullying", "threat", "self_harm", "pii", "impersonation")
# Methods that only read: read_only lets them through and blocks every other method.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNKNOWN_USER = "unknown"


def default_fail_mode(role: str | None) -> str:
    """The fail mode of a role the policy file does not name. The one place this default is kept
    (the loader fills the policy's table from it; the proxy's fail mode asks the policy).

    Staff roles allow: a broken filter must not stop a teacher's work, and staff are proven by the
    roster. Everyone else blocks: students, unidentified devices, and the roles that are not staff
    (guardian, parent, relative): whoever is not proven staff might be a student on a shared or
    borrowed login, so a broken filter fails closed for them.
    """
    return "allow" if role in STAFF_ROLES else "block"


@dataclass(frozen=True)
class Subject:
    """Who is behind a flow, as the policy sees it, on a given date."""
    user_id: str                     # "unknown" when unidentified
    role: str                        # roster role, or "unknown"
    age: int | None                  # None: no birth date (treated as under 13)
    grades: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    classes: frozenset[str] = frozenset()
    source: str = "unknown"          # identity source: auth | device | dhcp | unknown
    device: str | None = None


@dataclass(frozen=True)
class Decision:
    verdict: str          # "allow" | "block"
    action: str           # allow | block | read_only | monitor
    platform: str | None
    category: str | None
    rule: str             # rule id from the policy, or "default"
    guideline: str        # clause id, e.g. "student.10"; "" for the default rule
    reason: str           # plain words, for the block page
    cohort: str | None = None        # the cohort the rule matched on
    session: str | None = None       # teacher session id when one allowed it

    CONTRACT_KEYS = ("verdict", "action", "platform", "category", "rule", "guideline", "reason")

    @property
    def monitored(self) -> bool:
        return self.action == "monitor"

    def to_json(self, extended: bool = False) -> dict[str, Any]:
        """The `crossingguard decide` object: exactly the contract keys, in order.

        `extended=True` appends cohort and session (for logs and block pages).
        """
        out = {k: getattr(self, k) for k in self.CONTRACT_KEYS}
        if extended:
            out["cohort"] = self.cohort
            out["session"] = self.session
        return out


@dataclass(frozen=True)
class SafeSearchSettings:
    cohorts: frozenset[str] = frozenset()   # subjects in any of these get SafeSearch
    youtube: str | None = "strict"          # YouTube-Restrict header value: strict | moderate | None (off)
    google: bool = True                     # force Google SafeSearch
    bing: bool = True                       # force Bing strict SafeSearch

    @property
    def youtube_header(self) -> str | None:
        return {"strict": "Strict", "moderate": "Moderate"}.get(self.youtube or "")


@dataclass(frozen=True)
class Cohort:
    """A group of subjects: every condition given must hold (unset = any)."""
    name: str
    roles: frozenset[str] | None = None
    age_min: int | None = None      # inclusive
    age_max: int | None = None      # inclusive
    grades: frozenset[str] | None = None
    schools: frozenset[str] | None = None
    description: str = ""

    @property
    def admits_under13(self) -> bool:
        """Whether an unknown age (treated as under 13) can fall in this age band."""
        return self.age_min is None or self.age_min <= 12


@dataclass(frozen=True)
class Rule:
    id: str
    line: int | None
    action: str                         # one of ACTIONS
    guideline: str
    reason: str
    cohorts: tuple[str, ...] | None     # None: everyone
    platforms: tuple[str, ...] = ()     # matched when any of platforms/categories match;
    categories: tuple[str, ...] = ()    # both empty: every catalog platform
    hosts: tuple[str, ...] = ()         # optional narrowing: only these domains (and subdomains)
    schedule: str | None = None         # only inside this schedule's windows
    teacher_session: bool | None = None  # True: only in an open session; False: only outside one


@dataclass
class Policy:
    """The validated policy file (agent/policy/loader.py: load_policy(path))."""
    path: Path
    digest: str                                   # sha256 of the file
    district_name: str
    district_short: str
    timezone: ZoneInfo
    catalog: Catalog
    unknown_as: str = "under13"                   # how the `unknown` subject is treated
    fail_mode: dict[str, str] = field(default_factory=dict)   # role -> block | allow
    retention_days: int = 365
    activity_categories: frozenset[str] = frozenset()
    ignore_hosts: tuple[str, ...] = ()
    ignore_patterns: tuple[str, ...] = ()         # regex entries of ignore_hosts
    safesearch: SafeSearchSettings = field(default_factory=SafeSearchSettings)
    store_url: str | None = None
    incidents: dict[str, str] = field(default_factory=dict)   # category -> flag | hold
    incident_guidelines: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> clause ids
    evidence_guidelines: dict[str, tuple[str, ...]] = field(default_factory=dict)  # evidence kind -> clause ids
    help_seeking: str = "checkin"                 # checkin | ignore (agent/incidents.py)
    guidelines: dict[str, str] = field(default_factory=dict)  # clause id -> our short summary
    cohorts: dict[str, Cohort] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    logo_phash: str | None = None
    version: int = 1

    def fail_mode_for(self, role: str | None) -> str:
        """What a flow gets when an addon fails: written in the policy, else `default_fail_mode`."""
        role = role or "unknown"
        return self.fail_mode.get(role) or default_fail_mode(role)

    def summary(self) -> dict[str, Any]:
        return {
            "ok": True, "file": str(self.path), "sha256": self.digest, "district": self.district_short,
            "timezone": self.timezone.key, "platforms": len(self.catalog), "cohorts": len(self.cohorts),
            "schedules": len(self.schedules), "rules": len(self.rules), "guidelines": len(self.guidelines),
        }
