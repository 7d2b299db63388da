"""What a page says to the person reading it: one case per reason a request did not go through.

Pure (no mitmproxy): `proxy_addons/blockpage.py` turns a `PageText` into an HTML or JSON response.
The cases and who reads them:

  under13     a student 12 and under (or a device the school cannot identify) on a site not made
              for kids. A class session cannot change this, so the page never suggests one.
  read_only   a student who may look at a site but tried to post, comment or message: posting
              needs a class session opened by a teacher.
  category    a site blocked for this student (piracy and file lockers, private DNS, social media
              outside class); a class session is suggested only when one could allow the site.
  held        a post the classifiers held back: "your post was not sent", why, and the clause of
              the category that held it (a threat cites the mandated-reporter clause, student
              guideline 6, never the bullying one).
  upstream    an allowed site that could not be reached (refused, timed out, no such name...).
  filter_error the filter itself failed and stopped the request (fail closed).

The wording here is ours. Clause ids (student.6) and our short summaries of them come from the
policy file; the procedures' own sentences are never pasted into a page. Rule and clause ids are
small print; the time is shown in the district's local format (the policy's time zone).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

# The student report page the proxy answers itself (DESIGN.md "Student reports"). Every block
# page and held-post page links to it.
REPORT_URL = "http://crossingguard.internal/report"

CASES = ("under13", "read_only", "category", "held", "upstream", "filter_error")

# Why a post was held, per category, in words for the student who wrote it.
HELD_BECAUSE = {
    "threat": "it looks like a threat of violence",
    "self_harm": "it suggests that someone may be in danger",
    "bullying": "it looks like it is aimed at hurting someone",
    "pii": "it shares personal information (such as a name, address, phone number, school or birthday)",
    "impersonation": "it looks like it pretends to be someone else or to speak for the district",
}
# What happens next, per held category (our words; the clause is cited in small print).
HELD_NEXT = {
    "threat": "Adults at school must pass on any post that suggests someone could be hurt, so a "
              "staff member will follow up with you.",
    "self_harm": "A trusted adult at school will check in with you. If you or someone you know is "
                 "in danger right now, tell an adult you trust straight away.",
    "bullying": "A staff member may talk with you about it.",
    "pii": "You can change the post to leave the personal details out and try again.",
    "impersonation": "A staff member may talk with you about it.",
}
# Plain words for what went wrong reaching a site (upstream failures), by kind.
UPSTREAM_WORDS = {
    "refused": "The site did not accept the connection. It may be down or not running right now.",
    "timeout": "The site did not answer in time.",
    "dns": "The site's name could not be found. Check the address for typing mistakes.",
    "tls": "The site's secure connection could not be checked, so the filter did not connect to it.",
    "closed": "The site closed the connection without sending a page.",
    "unreachable": "The site could not be reached from the school network.",
}


@dataclass(frozen=True)
class PageText:
    """Everything a page says; blockpage.py renders it (HTML-escaped) or sends it as JSON."""
    case: str
    status: int
    title: str                       # the <title>
    heading: str                     # the <h1>
    lead: str                        # what happened, in plain words
    details: tuple[str, ...] = ()    # further paragraphs
    next_steps: tuple[str, ...] = ()   # "What you can do"
    report_link: bool = False        # show the student report link
    small_print: tuple[tuple[str, str], ...] = ()   # (label, value): rule, guideline, request id, time
    extra: dict = field(default_factory=dict)       # case-specific JSON fields (held categories...)


def local_time(at: datetime, tz: tzinfo) -> str:
    """The district's local format: "Sunday, December 6, 2026, 8:45 PM EST"."""
    local = at.astimezone(tz)
    hour = local.hour % 12 or 12
    ampm = "AM" if local.hour < 12 else "PM"
    return (f"{local:%A}, {local:%B} {local.day}, {local.year}, "
            f"{hour}:{local.minute:02d} {ampm} {local.tzname() or ''}").rstrip()


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def platform_name(policy, platform_id: str | None, fallback: str = "This site") -> str:
    platform = policy.catalog.get(platform_id) if (policy is not None and platform_id) else None
    return platform.name if platform else (platform_id or fallback)


def is_under13_cohort(policy, cohort: str | None) -> bool:
    """A cohort whose age band lies entirely under 13 (the COPPA group)."""
    c = policy.cohorts.get(cohort) if cohort else None
    return c is not None and c.age_max is not None and c.age_max <= 12


def _rule_matches_platform(rule, platform) -> bool:
    if not rule.platforms and not rule.categories:
        return True
    return platform.id in rule.platforms or platform.category in rule.categories


def session_could_allow(policy, decision) -> bool:
    """Whether a teacher's class session could let this cohort use this platform: a
    `teacher_session: true` rule that allows it comes before the rule that decided (first match
    wins). Under-13 cohorts, piracy and private DNS rules come first in the shipped policy: no."""
    platform = policy.catalog.get(decision.platform) if decision.platform else None
    if platform is None:
        return False
    for rule in policy.rules:
        if rule.id == decision.rule:
            return False
        if rule.teacher_session is not True or rule.action not in ("allow", "monitor"):
            continue
        if rule.cohorts is not None and decision.cohort not in rule.cohorts:
            continue
        if _rule_matches_platform(rule, platform):
            return True
    return False


def kids_alternatives(policy, cohort: str | None, limit: int = 4) -> list[str]:
    """Names of platforms a rule written for this cohort allows outright (e.g. YouTube Kids)."""
    if not cohort:
        return []
    names: list[str] = []
    for rule in policy.rules:
        if rule.action != "allow" or rule.cohorts is None or cohort not in rule.cohorts:
            continue
        if rule.teacher_session or rule.schedule or rule.hosts:
            continue
        for platform in policy.catalog:
            if (rule.platforms or rule.categories) and _rule_matches_platform(rule, platform) \
                    and platform.name not in names:
                names.append(platform.name)
    return names[:limit]


def rule_of(policy, rule_id: str):
    return next((r for r in policy.rules if r.id == rule_id), None)


def is_age_rule(policy, decision) -> bool:
    """Whether the deciding rule exists because of age: it is written for under-13 cohorts only
    (a piracy rule written for every student is not, even when the student is 11)."""
    rule = rule_of(policy, decision.rule)
    if rule is None or not rule.cohorts:
        return False
    return all(is_under13_cohort(policy, c) for c in rule.cohorts)


def block_case(policy, decision, held: tuple[str, ...] = ()) -> str:
    if held or decision.action == "hold":
        return "held"
    if is_age_rule(policy, decision):
        return "under13"
    if decision.action == "read_only":
        return "read_only"
    return "category"


def _clause(policy, clause_id: str) -> str:
    summary = policy.guidelines.get(clause_id, "") if clause_id else ""
    label = _clause_label(clause_id)
    return f"{label} ({clause_id}): {summary}" if summary else (f"{label} ({clause_id})" if clause_id else "")


def _clause_label(clause_id: str) -> str:
    """"student.6" -> "Student guideline 6"; other ids as they are."""
    group, _, number = clause_id.partition(".")
    if group == "student" and number:
        return "Student guideline " + ("preamble" if number == "preamble" else number)
    return clause_id


def _small_print(policy, rule: str, clauses: list[str], request_id: str, at: datetime) -> tuple:
    rows = []
    for clause in clauses:
        if clause:
            rows.append(("Guideline", _clause(policy, clause)))
    if rule:
        rows.append(("Rule", rule))
    rows.append(("Request id", request_id))
    rows.append(("Time", local_time(at, policy.timezone)))
    return tuple(rows)


HELP_DESK = "If you think this is a mistake, give the request id below to the help desk."


def block_page(policy, decision, request_id: str, at: datetime | None = None,
               held: tuple[str, ...] = (), status: int = 403) -> PageText:
    """The page for a policy block or a held post (`held`: the categories that held it)."""
    at = at or now_utc()
    case = block_case(policy, decision, held)
    name = platform_name(policy, decision.platform)
    short = policy.district_short
    if case == "held":
        return _held_page(policy, decision, name, request_id, at, held, status)
    small = _small_print(policy, decision.rule, [decision.guideline], request_id, at)
    if case == "under13":
        kids = kids_alternatives(policy, decision.cohort)
        steps = []
        if kids:
            steps.append("Sites made for kids your age work at school, for example " + ", ".join(kids) + ".")
        steps.append("If you are 13 or older, the school's records may be wrong or this device may not "
                     "know who you are: ask the help desk, and give them the request id below.")
        return PageText(
            case, status, f"Blocked by {short}: {name}", f"{name} is not for students under 13",
            f"At {short}, students 12 and under can use only sites made for kids their age. "
            f"{name} is not one of them. This keeps younger students' personal information safe, "
            f"as the law on children's privacy online (COPPA) requires.",
            details=(decision.reason,) if decision.reason else (),
            next_steps=tuple(steps), report_link=True, small_print=small)
    if case == "read_only":
        steps = []
        if session_could_allow(policy, decision):
            steps.append(f"If your class is working on {name}, your teacher can open a class session "
                         f"for it; you can post while the session is open.")
        steps.append(HELP_DESK)
        return PageText(
            case, status, f"Blocked by {short}: posting on {name}", f"You can look at {name}, but not post",
            f"Looking around {name} is fine at school. Posting, commenting and sending messages need a "
            f"class session that your teacher opens. What you just tried to send was not sent.",
            next_steps=tuple(steps), report_link=True, small_print=small)
    steps = []
    if session_could_allow(policy, decision):
        steps.append(f"If you need {name} for a class, your teacher can open a class session for it.")
    steps.append(HELP_DESK)
    return PageText(
        case, status, f"Blocked by {short}: {name}", f"{name} is blocked at school",
        decision.reason or f"{short}'s policy does not allow this site.",
        next_steps=tuple(steps), report_link=True, small_print=small)


def _held_page(policy, decision, name, request_id, at, held, status) -> PageText:
    held = tuple(held) or _held_from_rule(decision.rule)
    because = [HELD_BECAUSE.get(c, c.replace("_", " ")) for c in held]
    lead = f"Your post on {name} was held back and was not sent, because " + "; and ".join(because) + "."
    details = tuple(dict.fromkeys(HELD_NEXT[c] for c in held if c in HELD_NEXT))
    clauses = held_guidelines(policy, held) or [decision.guideline]
    steps = ("If someone is hurting you or others, or you are worried about someone, talk to a trusted "
             "adult at school or tell the school using the report page.",
             HELP_DESK)
    return PageText(
        "held", status, f"Post not sent: {policy.district_short}", "Your post was not sent", lead,
        details=details, next_steps=steps, report_link=True,
        small_print=_small_print(policy, decision.rule, clauses, request_id, at),
        extra={"held": list(held), "guidelines": clauses})


def _held_from_rule(rule: str) -> tuple[str, ...]:
    """The categories of a hold recorded as rule "incident-hold:threat+pii" (posts addon)."""
    _, _, tail = (rule or "").partition(":")
    return tuple(c for c in tail.split("+") if c)


def held_reason(held: tuple[str, ...]) -> str:
    """The Decision.reason of a held post (JSON `reason`, activity log): plain words."""
    because = "; and ".join(HELD_BECAUSE.get(c, c.replace("_", " ")) for c in held)
    return f"This post was not sent because {because}. A staff member may follow up."


def held_guidelines(policy, held: tuple[str, ...]) -> list[str]:
    """The clause that held the post, per held category, in order, without repeats: the FIRST
    clause the policy gives the category (`incidents:` in the policy file; a threat: student.6,
    staff are mandated reporters). Not the clauses of every label the post had: a threat also
    flagged as bullying is held as a threat and never cites the bullying clause."""
    found: list[str] = []
    for category in held:
        first = tuple(policy.incident_guidelines.get(category, ()))[:1]
        if first and first[0] not in found:
            found.append(first[0])
    return found


def upstream_kind(message: str) -> str:
    """One of UPSTREAM_WORDS from mitmproxy's error message for a failed upstream connection."""
    m = (message or "").lower()
    if "refused" in m or "errno 111" in m:
        return "refused"
    if "timed out" in m or "timeout" in m:
        return "timeout"
    if "name or service not known" in m or "getaddrinfo" in m or "nodename" in m or \
            "no address associated" in m or "temporary failure in name resolution" in m or "errno -2" in m:
        return "dns"
    if "tls" in m or "ssl" in m or "certificate" in m:
        return "tls"
    if "disconnect" in m or "closed" in m or "reset" in m or "eof" in m:
        return "closed"
    return "unreachable"


def upstream_page(policy, host: str, message: str, request_id: str, at: datetime | None = None,
                  status: int = 502) -> PageText:
    """The page for an allowed site that could not be reached. No software names or versions."""
    at = at or now_utc()
    short = policy.district_short if policy is not None else "School"
    tz = policy.timezone if policy is not None else timezone.utc
    kind = upstream_kind(message)
    site = host or "this site"
    return PageText(
        "upstream", status, f"Site not reachable: {site}", f"{site} cannot be reached right now",
        UPSTREAM_WORDS[kind],
        details=(f"{short}'s filter allowed this page; the problem is between the school network and "
                 f"the site, not something you did.",),
        next_steps=("Try again in a few minutes.",
                    "If it keeps happening with a site you need for school, tell the help desk and give "
                    "them the request id below."),
        small_print=(("Site", site), ("Problem", kind), ("Request id", request_id),
                     ("Time", local_time(at, tz))),
        extra={"problem": kind})


def fail_page(policy, host: str, request_id: str, at: datetime | None = None, status: int = 503) -> PageText:
    """The page for the fail-closed mode: the filter itself had a problem (not a policy block)."""
    at = at or now_utc()
    tz = policy.timezone if policy is not None else timezone.utc
    return PageText(
        "filter_error", status, "Filter problem", "The filter had a problem with this request",
        "The school's web filter could not check this request, so it stopped it to keep you safe.",
        next_steps=("Please try again in a minute.",
                    "If it keeps happening, tell the help desk and give them the request id below."),
        small_print=(("Site", host or ""), ("Request id", request_id), ("Time", local_time(at, tz))))
