"""`crossingguard session open|list|close`: teacher-directed sessions (DESIGN.md).

    session open --teacher USER_ID --class CLASS_ID --platform PLATFORM --minutes N [--at ISO8601]
    session list [--at ISO8601] [--all]
    session close ID [--at ISO8601]

A session lets one class's students use one platform fully until it ends (student guidelines
preamble: social media on district devices only under a teacher's direction). It expires by
itself; `close` ends it early. Every open and close is written to the audit trail.

A session cannot lift a rule that comes before the session rule in the policy: students 12 and
under stay on sites made for kids (COPPA), whatever a teacher opens. `session open` asks the
policy engine, for each student of the class, whether a post on the platform would be allowed
with the new session; the students it would not be allowed for are named in a warning on stderr
and listed in the JSON output as `not_applied_to` (present only when someone is left out):
`[{"user": ID, "username": ..., "age": N|null, "rule": RULE, "guideline": CLAUSE}]`.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from agent.errors import CrossingGuardError, UsageError

MAX_MINUTES = 480   # a school day; longer is almost certainly a typo (minutes vs hours)
MAY_OPEN_ANY_CLASS = ("administrator",)   # school leaders may direct any class (student preamble)


def parse_instant(text: str | None, option: str, tz: ZoneInfo | None = None) -> datetime:
    """ISO 8601 with any offset; naive = UTC (as everywhere in CrossingGuard); a bare date is
    local midnight that day in the district's zone. None -> now."""
    if text is None:
        return datetime.now(timezone.utc)
    s = text.strip()
    try:
        if len(s) == 10:
            day = datetime.fromisoformat(s).date()
            return datetime.combine(day, time(0), tz or timezone.utc)
        at = datetime.fromisoformat(s)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 date or date-time") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def register(sub, common) -> None:
    p = sub.add_parser("session", parents=[common], help="open, list or close teacher-directed sessions")
    from agent.cli import nested_common
    leaf = nested_common(common)
    ss = p.add_subparsers(dest="session_command", metavar="ACTION")
    ss.required = True

    o = ss.add_parser("open", parents=[leaf], help="let a class use a platform fully for N minutes")
    o.add_argument("--teacher", required=True, metavar="USER_ID", help="the teacher's roster id or username")
    o.add_argument("--class", dest="class_id", required=True, metavar="CLASS_ID", help="roster class sourcedId")
    o.add_argument("--platform", required=True, metavar="PLATFORM", help="catalog platform id (e.g. youtube)")
    o.add_argument("--minutes", required=True, type=int, metavar="N", help=f"1 to {MAX_MINUTES}")
    o.add_argument("--at", metavar="ISO8601", help="when it starts (default now; naive = UTC)")
    o.set_defaults(func=run_open)

    ls = ss.add_parser("list", parents=[leaf], help="sessions active now (or --at), or --all")
    ls.add_argument("--at", metavar="ISO8601", help="active at this instant (default now)")
    ls.add_argument("--all", action="store_true", help="every session, past and future")
    ls.set_defaults(func=run_list)

    c = ss.add_parser("close", parents=[leaf], help="end a session early")
    c.add_argument("id", metavar="ID")
    c.add_argument("--at", metavar="ISO8601", help="when it closes (default now)")
    c.set_defaults(func=run_close)


def _ctx(args):
    from agent.context import AppContext
    return AppContext.from_args(args)


def _tz(ctx) -> ZoneInfo:
    return ctx.policy.timezone


def session_json(s, at: datetime | None = None) -> dict:
    out = {"id": s.id, "teacher": s.teacher, "class": s.class_id, "platform": s.platform,
           "starts": s.starts.isoformat(), "ends": s.ends.isoformat()}
    if at is not None:
        out["closed"] = s.closed.isoformat() if s.closed else None
        out["active"] = s.active_at(at)
    return out


def run_open(args) -> int:
    ctx = _ctx(args)
    if not 1 <= args.minutes <= MAX_MINUTES:
        raise UsageError(f"--minutes {args.minutes}: expected 1 to {MAX_MINUTES}")
    roster = ctx.roster
    teacher = roster.get(args.teacher)
    if teacher is None:
        raise UsageError(f"--teacher {args.teacher!r}: no such user in the roster ({ctx.roster_path})")
    info = roster.class_info(args.class_id)
    if info is None:
        raise UsageError(f"--class {args.class_id!r}: no such class in the roster ({ctx.roster_path})")
    if teacher.user_id not in info.teachers and teacher.role not in MAY_OPEN_ANY_CLASS:
        raise UsageError(f"--teacher {args.teacher!r} ({teacher.role}) does not teach class "
                         f"{args.class_id!r}; only its teachers or an administrator may open a session")
    platform = ctx.policy.catalog.get(args.platform)
    if platform is None:
        raise UsageError(f"--platform {args.platform!r}: not in the platform catalog")
    starts = parse_instant(args.at, "--at", _tz(ctx))
    session = ctx.store.open_session(teacher.user_id, info.class_id, platform.id, starts, args.minutes)
    out = session_json(session)
    left_out = students_not_covered(ctx.engine, roster, info, platform, session, starts)
    if left_out:
        out["not_applied_to"] = left_out
        print(not_covered_warning(platform.name, left_out, len(info.students)), file=sys.stderr)
    print(json.dumps(out, ensure_ascii=False))
    return 0


def platform_host(platform) -> str:
    """A host name of the platform, to ask the engine about it."""
    return (platform.hosts or platform.domains or (platform.id,))[0]


def students_not_covered(engine, roster, info, platform, session, at: datetime) -> list[dict]:
    """The class's students for whom a post on the platform stays blocked while `session` is open
    (e.g. under 13 on a platform not made for kids), in roster order of user id."""
    host = platform_host(platform)
    left_out = []
    for user_id in sorted(info.students):
        person = roster.get(user_id)
        if person is None or person.role != "student":
            continue
        subject = engine.subject_for_user(user_id, at)
        decision = engine.decide(subject, host, "POST", at, (session,))
        if decision.verdict == "allow":
            continue
        left_out.append({"user": person.user_id, "username": person.username, "age": subject.age,
                         "rule": decision.rule, "guideline": decision.guideline})
    return left_out


def not_covered_warning(platform_name: str, left_out: list[dict], class_size: int) -> str:
    def who(x):
        age = f"{x['age']}" if x["age"] is not None else "age unknown"
        return f"{x['user']} ({x['username']}, {age}; rule {x['rule']})"
    why = ("Students 12 and under (or without a birth date) may use only sites made for kids; "
           "a session cannot change that." if any(x["age"] is None or x["age"] < 13 for x in left_out)
           else "A policy rule before the session rule applies to them.")
    return (f"warning: this session does not let {len(left_out)} of the class's {class_size} students post "
            f"on {platform_name}: " + ", ".join(who(x) for x in left_out) + ". " + why)


def run_list(args) -> int:
    ctx = _ctx(args)
    at = parse_instant(args.at, "--at", _tz(ctx))
    sessions = ctx.store.sessions(None if args.all else at)
    for s in sessions:
        print(json.dumps(session_json(s, at), ensure_ascii=False))
    return 0


def run_close(args) -> int:
    ctx = _ctx(args)
    at = parse_instant(args.at, "--at", _tz(ctx))
    session = ctx.store.close_session(args.id, at, actor="cli")
    if session is None:
        raise CrossingGuardError(f"no session {args.id!r}")
    print(json.dumps(session_json(session, at), ensure_ascii=False))
    return 0
