"""`crossingguard decide --user USER_ID --url URL [--method GET] [--at ISO8601]`

Policy simulation for IT: what would the proxy do with this request? Prints exactly
{"verdict", "action", "platform", "category", "rule", "guideline", "reason"} (DESIGN.md).
Open teacher sessions are read from the store, as the proxy does.
"""
from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timezone
from urllib.parse import urlsplit

from agent.errors import UsageError


def register(sub, common):
    p = sub.add_parser("decide", parents=[common], help="show the policy decision for one request (simulation)")
    p.add_argument("--user", required=True, metavar="USER_ID",
                   help="roster sourcedId or username, or 'unknown' for an unidentified device")
    p.add_argument("--url", required=True, metavar="URL", help="the request URL (a bare host is taken as https)")
    p.add_argument("--method", default="GET", metavar="METHOD", help="HTTP method (default GET)")
    p.add_argument("--at", default=None, metavar="ISO8601",
                   help="when the request happens (default now; without an offset, UTC)")
    p.set_defaults(func=run)


def parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--at: expected an ISO 8601 date-time like 2025-03-04T10:15:00-05:00; got {text!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def host_of(url: str) -> str:
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError as exc:
        raise UsageError(f"--url: not a usable URL ({exc}): {url!r}") from None
    if not host:
        raise UsageError(f"--url: expected a URL with a host like https://www.instagram.com/; got {url!r}")
    return host


def open_sessions(ctx, at: datetime) -> list:
    """Teacher sessions open at `at`, from the store.

    A missing database means no session was ever opened: decide does not create one
    (a simulation should not leave state behind). Until the store package exists,
    there are no sessions either.
    """
    if importlib.util.find_spec("agent.store") is None:
        return []
    if ctx.policy.store_url is None and not (ctx.home / "crossingguard.db").exists():
        return []
    store = ctx.store
    try:
        return list(store.sessions(active_at=at))
    finally:
        close = getattr(store, "close", None)
        if close:
            close()


def run(args) -> int:
    from agent.context import AppContext

    at = parse_at(args.at)
    host = host_of(args.url)
    method = args.method.strip().upper()
    if not method or not method.isascii() or not method.replace("-", "").isalpha():
        raise UsageError(f"--method: expected an HTTP method like GET or POST; got {args.method!r}")
    ctx = AppContext.from_args(args)
    engine = ctx.engine
    subject = engine.subject_for_user(args.user, at)
    sessions = open_sessions(ctx, at)
    decision = engine.decide(subject, host, method, at, sessions)
    print(json.dumps(decision.to_json(), ensure_ascii=False))
    return 0
