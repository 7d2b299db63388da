"""`crossingguard users`: list the roster as the policy sees it, or check it.

    crossingguard users [--role ROLE] [--at ISO8601]   one JSON line per person
    crossingguard users --check [--devices FILE]       one JSON line per problem, exit 1 if any

Ages are computed on the date of `--at` (default: now) in the policy's time zone.
"""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from agent.errors import ConfigError, UsageError
from agent.roster.importer import USER_ROLES

FALLBACK_TZ = "America/New_York"


def register(sub, common) -> None:
    p = sub.add_parser("users", parents=[common],
                       help="list roster users with their age, schools and classes, or --check the roster")
    p.add_argument("--role", metavar="ROLE", help="only this roster role (student, teacher, administrator, ...)")
    p.add_argument("--at", metavar="ISO8601",
                   help="compute ages on this date/time (default now; a bare date means that local day)")
    p.add_argument("--check", action="store_true",
                   help="validate the roster (and --devices) and print each problem; exit 1 if any")
    p.set_defaults(func=run)


def _timezone(ctx) -> ZoneInfo:
    """The policy's zone; the documented fallback when the policy cannot be loaded."""
    try:
        return ctx.policy.timezone
    except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say so on stderr
        print(f"crossingguard users: policy not loaded ({exc}); ages use {FALLBACK_TZ}", file=sys.stderr)
        return ZoneInfo(FALLBACK_TZ)


def parse_at(text: str | None, tz: ZoneInfo) -> datetime:
    """--at: any ISO 8601 offset; naive = UTC (as everywhere); a bare date = noon local that day."""
    if text is None:
        return datetime.now(timezone.utc)
    text = text.strip()
    try:
        day = date.fromisoformat(text)      # only accepts a bare date
    except ValueError:
        pass
    else:
        return datetime.combine(day, time(12), tz)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 date or date-time") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def person_json(roster, person, at: datetime, tz: ZoneInfo) -> dict:
    return {
        "id": person.user_id,
        "username": person.username,
        "role": person.role,
        "name": person.name,
        "age": roster.age_on(person, at, tz),
        "schools": list(person.schools),
        "grades": list(person.grades),
        "classes": sorted(person.classes),
    }


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _check(ctx) -> int:
    problems = 0
    try:
        roster = ctx.roster
    except ConfigError as exc:
        _emit({"file": exc.file, "line": exc.line, "key": exc.key, "message": exc.message})
        return 1
    for issue in roster.issues:
        _emit({"file": issue.file, "line": issue.line, "message": issue.message})
        problems += 1
    if ctx.devices_path is not None:
        from agent.identity import DeviceRegistry
        try:
            registry, errors = DeviceRegistry.check(ctx.devices_path)
        except ConfigError as exc:
            registry, errors = DeviceRegistry.empty(), [exc]
        for exc in errors:
            _emit({"file": exc.file, "line": exc.line, "key": exc.key, "message": exc.message})
            problems += 1
        # A device whose user is not in the roster resolves to `unknown`: worth knowing.
        seen: set[str] = set()
        for device_id, user_id, _ip, _mac in registry.entries():
            if (device_id, user_id) in seen:
                continue
            seen.add((device_id, user_id))
            if roster.get(user_id) is None:
                _emit({"file": str(ctx.devices_path), "line": None, "key": "user_id",
                       "message": f"device {device_id!r}: user {user_id!r} is not in the roster"})
                problems += 1
    return 1 if problems else 0


def run(args) -> int:
    from agent.context import AppContext

    ctx = AppContext.from_args(args)
    if args.check:
        return _check(ctx)
    roster = ctx.roster
    tz = _timezone(ctx)
    at = parse_at(args.at, tz)
    role = args.role.lower() if args.role else None
    if role is not None and role not in USER_ROLES:
        raise UsageError(f"--role {args.role!r} is not one of {', '.join(sorted(USER_ROLES))}")
    for person in roster.people():
        if role is None or person.role == role:
            _emit(person_json(roster, person, at, tz))
    if roster.issues:
        print(f"crossingguard users: {len(roster.issues)} roster row(s) skipped; "
              "see `crossingguard users --check`", file=sys.stderr)
    return 0
