"""Load and validate a policy file: `load_policy(path) -> Policy`.

The policy file format
======================

A policy is one YAML file (the shipped one is `agent/policies/ensatsd.yaml`, which is
also the commented reference). Top-level keys, all but `district`, `guidelines`,
`cohorts` and `rules` optional:

``version: 1``
    Format version.

``district:``
    ``name`` (shown on block pages), ``short_name``, ``timezone`` (IANA name, default
    ``America/New_York``: ages and schedules are computed in it), ``logo_phash``
    (optional perceptual hash of the district logo, hex, for impersonation checks).

``guidelines:``
    Clause id (``student.preamble``, ``student.10``, ``staff.personal.9``) -> our own short
    summary of the clause. Every rule cites one of these ids.

``unknown_subject: under13 | teen``
    How an unidentified device is treated. ``under13`` (default): a student of unknown
    age, which is treated as under 13. ``teen``: a student aged 13 or over.

``cohorts:``
    Name -> conditions, all of which must hold: ``roles`` (OneRoster roles, or
    ``unknown`` for an unidentified device), ``age_min`` / ``age_max`` (inclusive, on
    the request's local date), ``grades``, ``schools`` (org sourcedIds). A subject whose
    age is unknown (no birth date, or the unknown subject) is treated as under 13: it
    falls in an age band only when the band admits ages under 13.

``schedules:``
    Name -> ``days`` (mon..sun, or weekdays / weekend / every_day) and ``windows``
    (``"07:30-14:30"``, local time in the district time zone; a window never crosses
    midnight). Quote times: ``"07:30"``.

``rules:``
    An ordered list; the first rule that matches decides. Each rule: ``id`` (unique),
    ``cohorts`` (one or a list; omitted = everyone), what it matches: ``platforms``
    (catalog ids) and/or ``categories`` (either matching is enough; both omitted = every
    catalog platform), optionally narrowed by ``hosts`` (domains inside those
    platforms), ``schedule`` (only inside its windows), ``teacher_session`` (true: only
    while a teacher session for the subject's class and this platform is open; false:
    only while none is), ``action`` (allow, block, read_only = GET/HEAD/OPTIONS pass and
    every other method is blocked, monitor = allowed and flagged), ``guideline`` (a
    clause id from ``guidelines``) and ``reason`` (plain words a student understands,
    shown on the block page). A host that no rule matches is allowed (rule "default").

``safesearch:``
    ``cohorts`` that get ``youtube_restrict`` (strict | moderate | off) and forced Google
    (``google: true``) and Bing (``bing: true``) SafeSearch.

``ignore_hosts:``
    Certificate-pinned hosts passed through untouched (never intercepted). A domain
    (matches its subdomains) or ``regex:<pattern>`` matched against the whole host.

``fail_mode:``
    Role -> ``block`` | ``allow``: what a flow gets when a filter fails. Default: staff
    roles allow, everyone else (students, unknown) block.

``activity:``
    ``retention_days`` (at least 1) and ``categories`` (catalog categories whose
    requests are written to the activity log). ``durability``: ``sync`` (default: a
    response is released only once its activity line is fsynced, group commit) or
    ``async`` (lines are written behind the traffic; a crash can lose the last ~100 ms
    of lines; `verify-log` says which mode the policy uses).

``security:``
    ``staff_requires_proxy_auth`` (default false; true in the shipped policy): roles with
    more rights than students (teacher, administrator, aide) must be proven by proxy
    authentication; a device address alone then gets student rights at most.

``incidents:``
    Per classifier category (bullying, threat, self_harm, pii, impersonation): either just
    ``flag`` (an incident for review) or ``hold`` (the post is held and an incident opened),
    or a mapping ``{action: flag|hold, guidelines: [clause ids]}``: the clauses an incident
    of that category concerns (cited on the held-post page and in the incident). A category
    not listed is flagged with no clause. Also: ``evidence`` (evidence kind, e.g.
    ``district`` or ``logo`` from the impersonation detector -> more clause ids) and
    ``help_seeking: checkin | ignore`` (default ``checkin``: a student asking for help
    whose post still carries a self-harm or threat label becomes a supportive check-in
    incident; ``ignore``: no incident for bullying, threat or self-harm on such a post).
    Every clause id must be one of ``guidelines``.

``store:``
    ``url``: omitted or null = SQLite under ``--home``; ``sqlite:///path`` or
    ``postgresql://...``.

``alerts:``
    Urgent alerts for critical incidents (docs/alerts.md): ``review_url`` (links in alerts,
    default ``http://127.0.0.1:8181``), ``email`` (``smtp_host``, ``smtp_port``, ``sender``,
    ``starttls`` auto | required | off, optional ``username`` + ``password_file``, ``ca_file``)
    and ``oncall`` (school org sourcedId, or ``default``, -> e-mail addresses).

``catalog:``
    Extends the shipped platform catalog: ``platforms`` (id -> name, category, domains,
    hosts; an existing id is replaced) and ``add_domains`` (platform id -> more domains).

Every mistake is a ConfigError naming the file, the line, the dotted key path
(``rules[3].action``) and what was expected. One run reports every mistake it can find
(ConfigErrors, one line each): a part with a mistake is left out and the checks go on with
the rest; a reference to a name whose own definition had a mistake is not reported again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.config import (Bool, Enum, Field, Int, ListOf, MapOf, OneOrList, Record, Schema, Str, YMap,
                          collecting, line_of, load_yaml, raise_collected, report, suggest)
from agent.errors import ConfigError
from agent.policy.catalog import (CATEGORIES, PLATFORM_ID, PLATFORM_SCHEMA, DOMAIN, Catalog,
                                  build_platforms, domain_owners, shipped_platforms, CATALOG_PATH)
from agent.policy.model import (ACTIONS, INCIDENT_CATEGORIES, ROLES, Cohort, Policy, Rule, SafeSearchSettings,
                                default_fail_mode)
from agent.policy.schedules import DAY_GROUPS, DAYS, Schedule, parse_window

DEFAULT_TIMEZONE = "America/New_York"
NAME = Str(what="a name (letters, digits, _ or -)", pattern=r"[A-Za-z][A-Za-z0-9_-]{0,63}")
CLAUSE_ID = Str(what="a clause id like student.10 or staff.personal.9",
                pattern=r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")


def _valid_timezone(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"expected an IANA time zone like America/New_York; got {name!r}{suggest(name, _zone_names())}"
    return None


def _zone_names() -> list[str]:
    try:
        from zoneinfo import available_timezones
        return sorted(available_timezones())
    except Exception:  # pragma: no cover - tzdata missing
        return []


def _valid_window(text: str) -> str | None:
    r = parse_window(text)
    return r if isinstance(r, str) else None


def _valid_ignore(entry: str) -> str | None:
    if entry.startswith("regex:"):
        try:
            re.compile(entry[6:])
        except re.error as exc:
            return f"expected a valid regular expression after 'regex:'; got {entry[6:]!r} ({exc})"
        return None
    from agent.policy.catalog import valid_domain
    return valid_domain(entry)


def _valid_http_url(url: str) -> str | None:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        return f"expected an http:// or https:// URL; got {url!r}"
    return None


STORE_URL_ENV = "CROSSINGGUARD_STORE_URL"


def _store_url_from_environment() -> str | None:
    """`CROSSINGGUARD_STORE_URL` overrides `store.url`: the database password then lives in a
    secret (Kubernetes Secret, systemd credential, compose .env), not in the policy file, which
    is shared and reviewed (deploy/kubernetes, deploy/compose)."""
    import os
    url = os.environ.get(STORE_URL_ENV, "").strip()
    if not url:
        return None
    problem = _valid_store_url(url)
    if problem:
        raise ConfigError(f"environment {STORE_URL_ENV}", None, "store.url",
                          "expected sqlite:///PATH or postgresql://... (value not shown: it may hold a password)")
    return url


def _valid_store_url(url: str) -> str | None:
    if not re.match(r"(sqlite|postgresql|postgres)://", url):
        return f"expected sqlite:///PATH or postgresql://...; got {url!r}"
    return None


class _ActionOrRecord(Schema):
    """`flag` / `hold`, or {action, guidelines}: the short form stays valid (no clauses)."""

    def __init__(self, record: Record):
        self.action = Enum("flag", "hold")
        self.record = record

    def check(self, value, file, path, line):
        if isinstance(value, dict):
            return self.record.check(value, file, path, line)
        out = YMap(line=line)
        out["action"], out["guidelines"] = self.action.check(value, file, path, line), []
        return out


CLAUSES = OneOrList(CLAUSE_ID, min_items=1, unique=True, what="a clause id or a list of them")
INCIDENT_CATEGORY = _ActionOrRecord(Record({
    "action": Field(Enum("flag", "hold"), required=True),
    "guidelines": Field(CLAUSES, default=list),
}, what="flag, hold, or a mapping: action, guidelines"))
INCIDENTS = Record({
    **{cat: Field(INCIDENT_CATEGORY) for cat in INCIDENT_CATEGORIES},
    "evidence": Field(MapOf(CLAUSES, key=Str(what="an evidence kind like district or logo",
                                             pattern=r"[a-z][a-z_]{0,31}"),
                            what="a mapping of evidence kind to clause ids"), default=dict),
    "help_seeking": Field(Enum("checkin", "ignore"), default="checkin"),
}, what="a mapping of category to flag|hold (or action, guidelines), evidence, help_seeking")

DISTRICT = Record({
    "name": Field(Str(what="the district's full name"), required=True),
    "short_name": Field(Str(what="a short name like ENSATSD"), required=True),
    "timezone": Field(Str(what="an IANA time zone", validate=_valid_timezone), default=DEFAULT_TIMEZONE),
    "logo_phash": Field(Str(what="a perceptual hash in hex (16 hex digits per 64 bits)",
                            pattern=r"(?:[0-9a-f]{16})+", lower=True)),
})
COHORT = Record({
    "roles": Field(OneOrList(Enum(*ROLES), min_items=1, unique=True, what="a list of roles")),
    "age_min": Field(Int(min=0, max=120)),
    "age_max": Field(Int(min=0, max=120)),
    "grades": Field(OneOrList(Str(what="a grade like 09 or KG"), min_items=1, unique=True, what="a list of grades")),
    "schools": Field(OneOrList(Str(what="a school org sourcedId"), min_items=1, unique=True,
                               what="a list of school ids")),
    "description": Field(Str(what="a description")),
}, what="a cohort: roles, age_min, age_max, grades, schools")
DAY = Enum(*DAYS, *DAY_GROUPS)
SCHEDULE = Record({
    "days": Field(OneOrList(DAY, min_items=1, unique=True, what="a list of days"), required=True),
    "windows": Field(OneOrList(Str(what="a time window like 07:30-14:30", validate=_valid_window), min_items=1,
                               what="a list of time windows"), required=True),
    "description": Field(Str(what="a description")),
}, what="a schedule: days, windows")
RULE = Record({
    "id": Field(NAME, required=True),
    "cohorts": Field(OneOrList(NAME, min_items=1, unique=True, what="a cohort name or a list of them")),
    "platforms": Field(OneOrList(PLATFORM_ID, min_items=1, unique=True, what="a platform id or a list of them")),
    "categories": Field(OneOrList(Enum(*CATEGORIES), min_items=1, unique=True, what="a category or a list of them")),
    "hosts": Field(OneOrList(DOMAIN, min_items=1, unique=True, what="a domain or a list of them")),
    "schedule": Field(NAME),
    "teacher_session": Field(Bool()),
    "action": Field(Enum(*ACTIONS), required=True),
    "guideline": Field(CLAUSE_ID, required=True),
    "reason": Field(Str(what="a reason in plain words"), required=True),
}, what="a rule: id, cohorts, platforms/categories, action, guideline, reason")
SAFESEARCH = Record({
    "cohorts": Field(OneOrList(NAME, unique=True, what="a list of cohort names"), default=list),
    "youtube_restrict": Field(Enum("strict", "moderate", "off"), default="strict"),
    "google": Field(Bool(), default=True),
    "bing": Field(Bool(), default=True),
})
ACTIVITY = Record({
    "retention_days": Field(Int(min=1, max=36500, what="a whole number of days, at least 1"), default=365),
    "categories": Field(OneOrList(Enum(*CATEGORIES), unique=True, what="a list of categories"),
                        default=lambda: list(CATEGORIES)),
    "durability": Field(Enum("sync", "async"), default="sync"),
})
CATALOG_EXT = Record({
    "platforms": Field(MapOf(PLATFORM_SCHEMA, key=PLATFORM_ID, what="a mapping of platform id to platform"),
                       default=dict),
    "add_domains": Field(MapOf(OneOrList(DOMAIN, min_items=1, unique=True, what="a list of domains"),
                               key=PLATFORM_ID, what="a mapping of platform id to domains"), default=dict),
})
EMAIL_ADDRESS = Str(what="an e-mail address like counselor@example.org",
                    pattern=r"[^@\s,<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
ALERT_EMAIL = Record({
    "smtp_host": Field(Str(what="a mail server host name", pattern=r"[A-Za-z0-9.:\[\]-]+"), required=True),
    "smtp_port": Field(Int(min=1, max=65535, what="a TCP port"), default=25),
    "sender": Field(EMAIL_ADDRESS, required=True),
    "starttls": Field(Enum("auto", "required", "off"), default="auto"),
    "username": Field(Str(what="an SMTP user name")),
    "password_file": Field(Str(what="a file holding the SMTP password")),
    "ca_file": Field(Str(what="a CA certificate file (PEM)")),
}, what="e-mail settings: smtp_host, smtp_port, sender, starttls")
ALERTS = Record({
    "review_url": Field(Str(what="the review app's URL", validate=_valid_http_url), default=None),
    "email": Field(ALERT_EMAIL, default=None),
    "oncall": Field(MapOf(OneOrList(EMAIL_ADDRESS, min_items=1, unique=True, what="a list of e-mail addresses"),
                          key=Str(what="a school org sourcedId or default"),
                          what="a mapping of school id to on-call addresses"), default=dict),
}, what="alert settings: review_url, email, oncall")
POLICY = Record({
    "version": Field(Int(min=1, max=1, what="1 (the only format version)"), default=1),
    "district": Field(DISTRICT, required=True),
    "guidelines": Field(MapOf(Str(what="a short summary of the clause"), key=CLAUSE_ID, min_items=1,
                              what="a mapping of clause id to summary"), required=True),
    "unknown_subject": Field(Enum("under13", "teen"), default="under13"),
    "cohorts": Field(MapOf(COHORT, key=NAME, min_items=1, what="a mapping of cohort name to cohort"), required=True),
    "schedules": Field(MapOf(SCHEDULE, key=NAME, what="a mapping of schedule name to schedule"), default=dict),
    "rules": Field(ListOf(RULE, min_items=1, what="a list of rules", keep_going=True), required=True),
    "safesearch": Field(SAFESEARCH, default=None),
    "ignore_hosts": Field(ListOf(Str(what="a domain or regex:<pattern>", validate=_valid_ignore), unique=True,
                                 what="a list of hosts"), default=list),
    "fail_mode": Field(MapOf(Enum("block", "allow"), key=Enum(*ROLES), what="a mapping of role to block|allow"),
                       default=dict),
    "activity": Field(ACTIVITY, default=None),
    "security": Field(Record({
        "staff_requires_proxy_auth": Field(Bool(), default=False),
    }), default=None),
    "incidents": Field(INCIDENTS, default=None),
    "store": Field(Record({"url": Field(Str(what="a database URL", validate=_valid_store_url))}), default=None),
    "alerts": Field(ALERTS, default=None),
    "catalog": Field(CATALOG_EXT, default=None),
}, what="a policy mapping (district, guidelines, cohorts, rules, ...)", partial=True)


def _unknown_ref(file, line, key, kind, name, known) -> ConfigError:
    listed = ", ".join(sorted(known)) or "none defined"
    return ConfigError(file, line, key, f"unknown {kind} {name!r}{suggest(name, known)}; expected one of {listed}")


def load_policy(path: str | Path) -> Policy:
    """The validated Policy; ConfigError (one mistake) or ConfigErrors (several) otherwise."""
    path = Path(path)
    file = str(path)
    raw = load_yaml(path)      # unreadable or not YAML: nothing else can be checked
    with collecting() as errors:
        try:
            policy = _load(path, file, raw)
        except (ConfigError, KeyError, TypeError, AttributeError, ValueError):
            # A later check tripping over a part that already had a mistake: the recorded
            # mistakes are what the user must fix; with none recorded it is a bug, raised.
            if not errors:
                raise
            policy = None
    raise_collected(errors)
    return policy


def _failed(mapping) -> set:
    return set(getattr(mapping, "failed", ()))


def _load(path: Path, file: str, raw) -> Policy | None:
    data = POLICY.check(raw, file, "", 1)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    district = data["district"] or {"name": "", "short_name": "", "timezone": DEFAULT_TIMEZONE, "logo_phash": None}
    tz = ZoneInfo(district["timezone"])
    catalog = _build_catalog(data["catalog"], file)

    raw_guidelines = data["guidelines"] if data["guidelines"] is not None else YMap()
    guidelines = dict(raw_guidelines)
    # Names whose own definition had a mistake: a reference to them is not a second mistake.
    known_bad = {"guideline clause": _failed(raw_guidelines) | ({"*"} if "guidelines" in data.failed else set()),
                 "platform": {"*"} if "catalog" in data.failed else set()}

    cohorts: dict[str, Cohort] = {}
    raw_cohorts = data["cohorts"] if data["cohorts"] is not None else YMap()
    known_bad["cohort"] = _failed(raw_cohorts) | ({"*"} if "cohorts" in data.failed else set())
    for name, c in raw_cohorts.items():
        if c["age_min"] is not None and c["age_max"] is not None and c["age_min"] > c["age_max"]:
            report(ConfigError(file, c.line_of("age_max"), f"cohorts.{name}.age_max",
                               f"expected age_max ({c['age_max']}) to be at least age_min ({c['age_min']})"))
        cohorts[name] = Cohort(
            name=name,
            roles=frozenset(c["roles"]) if c["roles"] is not None else None,
            age_min=c["age_min"], age_max=c["age_max"],
            grades=frozenset(c["grades"]) if c["grades"] is not None else None,
            schools=frozenset(c["schools"]) if c["schools"] is not None else None,
            description=c["description"] or "",
        )

    schedules: dict[str, Schedule] = {}
    raw_schedules = data["schedules"] if data["schedules"] is not None else YMap()
    known_bad["schedule"] = _failed(raw_schedules) | ({"*"} if "schedules" in data.failed else set())
    for name, s in raw_schedules.items():
        days: set[int] = set()
        for d in s["days"]:
            for day in DAY_GROUPS.get(d, (d,)):
                days.add(DAYS.index(day))
        windows = tuple(sorted(parse_window(w) for w in s["windows"]))  # validated above
        for (a_start, a_end), (b_start, _b_end) in zip(windows, windows[1:]):
            if b_start < a_end:
                report(ConfigError(file, s.line_of("windows"), f"schedules.{name}.windows",
                                   "expected windows that do not overlap"))
                break
        schedules[name] = Schedule(name, frozenset(days), windows, tz)

    rules = _build_rules(data["rules"] or (), file, catalog, cohorts, schedules, guidelines, known_bad)

    ss = data["safesearch"]
    if ss is not None:
        for i, name in enumerate(ss["cohorts"]):
            if name not in cohorts and not _excused(known_bad, "cohort", name):
                report(_unknown_ref(file, line_of(ss["cohorts"], i), f"safesearch.cohorts[{i}]", "cohort", name,
                                    cohorts))
        safesearch = SafeSearchSettings(
            cohorts=frozenset(ss["cohorts"]),
            youtube=None if ss["youtube_restrict"] == "off" else ss["youtube_restrict"],
            google=ss["google"], bing=ss["bing"])
    else:
        safesearch = SafeSearchSettings(cohorts=frozenset())

    activity = data["activity"] or {"retention_days": 365, "categories": list(CATEGORIES), "durability": "sync"}
    security = data["security"] or {"staff_requires_proxy_auth": False}
    ignore_hosts = data["ignore_hosts"] or ()
    ignore = tuple(h for h in ignore_hosts if not h.startswith("regex:"))
    ignore_re = tuple(h[6:] for h in ignore_hosts if h.startswith("regex:"))
    incidents, incident_guidelines, evidence_guidelines, help_seeking = _incidents(data["incidents"], file,
                                                                                  guidelines, known_bad)
    store = data["store"] or {"url": None}
    alerts = _alert_settings(data["alerts"], file)
    store_url = _store_url_from_environment() or store["url"]

    return Policy(
        path=path, digest=digest,
        district_name=district["name"], district_short=district["short_name"], timezone=tz,
        logo_phash=district["logo_phash"], catalog=catalog, unknown_as=data["unknown_subject"] or "under13",
        fail_mode=_fail_modes(data["fail_mode"] or {}), retention_days=activity["retention_days"],
        activity_categories=frozenset(activity["categories"]), activity_durability=activity["durability"],
        staff_requires_proxy_auth=security["staff_requires_proxy_auth"], ignore_hosts=ignore, ignore_patterns=ignore_re,
        safesearch=safesearch, store_url=store_url, incidents=incidents, guidelines=guidelines,
        incident_guidelines=incident_guidelines, evidence_guidelines=evidence_guidelines, help_seeking=help_seeking,
        cohorts=cohorts, schedules=schedules, rules=rules, version=data["version"] or 1, alerts=alerts,
    )


def _alert_settings(a: YMap | None, file: str):
    from agent.alerts.settings import DEFAULT_REVIEW_URL, AlertSettings, EmailSettings
    if a is None:
        return AlertSettings()
    if a["oncall"] and a["email"] is None:
        raise ConfigError(file, a.line_of("oncall"), "alerts.oncall",
                          "on-call addresses need alerts.email (smtp_host, sender) to be sent")
    email = None
    if a["email"] is not None:
        e = a["email"]
        if (e["username"] is None) != (e["password_file"] is None):
            raise ConfigError(file, e.line_of("username") or e.line_of("password_file"), "alerts.email",
                              "expected username and password_file together (or neither)")
        email = EmailSettings(smtp_host=e["smtp_host"], smtp_port=e["smtp_port"], sender=e["sender"],
                              starttls=e["starttls"], username=e["username"], password_file=e["password_file"],
                              ca_file=e["ca_file"])
    return AlertSettings(review_url=a["review_url"] or DEFAULT_REVIEW_URL, email=email,
                         oncall={k: tuple(v) for k, v in a["oncall"].items()})


def _excused(known_bad: dict, kind: str, name: str) -> bool:
    """Whether a reference to `name` must not be reported: its definition already was."""
    bad = known_bad.get(kind, ())
    return "*" in bad or name in bad


def _fail_modes(written) -> dict[str, str]:
    """Every role gets a fail mode: the policy's, else the model's default (default_fail_mode:
    staff allow, everyone not proven staff blocks)."""
    return {role: written.get(role) or default_fail_mode(role) for role in ROLES}


def _incidents(data: YMap | None, file: str, guidelines: dict[str, str], known_bad: dict | None = None):
    """(category -> flag|hold, category -> clauses, evidence kind -> clauses, help_seeking)."""
    actions = {cat: "flag" for cat in INCIDENT_CATEGORIES}
    by_category: dict[str, tuple[str, ...]] = {cat: () for cat in INCIDENT_CATEGORIES}
    if data is None:
        return actions, by_category, {}, "checkin"

    def clauses(values, at: str) -> tuple[str, ...]:
        for i, clause in enumerate(values):
            if clause not in guidelines and not _excused(known_bad or {}, "guideline clause", clause):
                report(_unknown_ref(file, line_of(values, i), f"{at}[{i}]", "guideline clause", clause, guidelines))
        return tuple(values)

    for cat in INCIDENT_CATEGORIES:
        entry = data.get(cat)
        if entry is None:
            continue
        actions[cat] = entry["action"]
        by_category[cat] = clauses(entry["guidelines"], f"incidents.{cat}.guidelines")
    by_kind = {kind: clauses(values, f"incidents.evidence.{kind}")
               for kind, values in (data["evidence"] or {}).items()}
    return actions, by_category, by_kind, data["help_seeking"] or "checkin"


def _build_catalog(ext: YMap | None, file: str) -> Catalog:
    from agent.policy.catalog import default_catalog
    if ext is None or (not ext.get("platforms") and not ext.get("add_domains")):
        return default_catalog()
    base = shipped_platforms()
    owners = domain_owners(base, str(CATALOG_PATH))
    try:
        platforms = build_platforms(ext["platforms"] or {}, file, "catalog.platforms", base, owners)
    except ConfigError as exc:
        report(exc)   # later checks go on against the shipped catalog
        return default_catalog()
    owners = domain_owners(platforms, file)
    for pid, domains in (ext["add_domains"] or {}).items():
        p = platforms.get(pid)
        if p is None:
            report(_unknown_ref(file, line_of(ext["add_domains"], pid), f"catalog.add_domains.{pid}", "platform",
                                pid, platforms))
            continue
        for i, d in enumerate(domains):
            prev = owners.get(d)
            if prev and prev[0] != pid:
                report(ConfigError(file, line_of(domains, i), f"catalog.add_domains.{pid}[{i}]",
                                   f"domain {d!r} already belongs to platform '{prev[0]}'"))
                continue
            owners[d] = (pid, file, line_of(domains, i))
        extra = tuple(d for d in domains if d not in p.domains)
        platforms[pid] = dataclasses.replace(p, domains=p.domains + extra)   # keeps hosts and addresses
    return Catalog(list(platforms.values()))


def _build_rules(raw_rules, file, catalog: Catalog, cohorts, schedules, guidelines,
                 known_bad: dict | None = None) -> tuple[Rule, ...]:
    known_bad = known_bad or {}
    rules: list[Rule] = []
    seen: dict[str, int | None] = {}
    for i, r in enumerate(raw_rules):
        at = f"rules[{raw_rules.index_in_file(i) if hasattr(raw_rules, 'index_in_file') else i}]"
        rid = r["id"]
        if rid in seen or rid == "default":
            first = f" (first used on line {seen[rid]})" if rid in seen else " (reserved for hosts no rule matches)"
            report(ConfigError(file, r.line_of("id"), f"{at}.id", f"duplicate rule id {rid!r}{first}"))
        seen.setdefault(rid, r.line_of("id"))
        for key, kind, known in (("cohorts", "cohort", cohorts),):
            for j, name in enumerate(r[key] or ()):
                if name not in known and not _excused(known_bad, kind, name):
                    report(_unknown_ref(file, line_of(r[key], j), f"{at}.{key}[{j}]", kind, name, known))
        for j, pid in enumerate(r["platforms"] or ()):
            if pid not in catalog and not _excused(known_bad, "platform", pid):
                report(_unknown_ref(file, line_of(r["platforms"], j), f"{at}.platforms[{j}]", "platform", pid,
                                    catalog.ids()))
        if r["schedule"] is not None and r["schedule"] not in schedules \
                and not _excused(known_bad, "schedule", r["schedule"]):
            report(_unknown_ref(file, r.line_of("schedule"), f"{at}.schedule", "schedule", r["schedule"], schedules))
        if r["guideline"] not in guidelines and not _excused(known_bad, "guideline clause", r["guideline"]):
            report(_unknown_ref(file, r.line_of("guideline"), f"{at}.guideline", "guideline clause", r["guideline"],
                                guidelines))
        platforms = tuple(r["platforms"] or ())
        categories = tuple(r["categories"] or ())
        for j, host in enumerate(r["hosts"] or ()):
            owner = catalog.match(host)
            if owner is None:
                report(ConfigError(file, line_of(r["hosts"], j), f"{at}.hosts[{j}]",
                                   f"host {host!r} is not in the platform catalog; expected a domain of a catalog "
                                   f"platform (add one under catalog.platforms)"))
            elif (platforms or categories) and owner.id not in platforms and owner.category not in categories:
                report(ConfigError(file, line_of(r["hosts"], j), f"{at}.hosts[{j}]",
                                   f"host {host!r} belongs to platform '{owner.id}', which this rule's platforms/"
                                   f"categories do not include"))
        rules.append(Rule(
            id=rid, line=raw_rules.line_of(i), action=r["action"], guideline=r["guideline"], reason=r["reason"].strip(),
            cohorts=tuple(r["cohorts"]) if r["cohorts"] is not None else None,
            platforms=platforms, categories=categories, hosts=tuple(r["hosts"] or ()),
            schedule=r["schedule"], teacher_session=r["teacher_session"],
        ))
    return tuple(rules)


__all__ = ["load_policy", "POLICY", "DEFAULT_TIMEZONE"]
