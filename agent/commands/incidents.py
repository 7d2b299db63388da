"""`crossingguard incidents list [--since ISO8601] [--status STATUS] [--with-text]` (DESIGN.md).

One JSON line per incident: id, created, user, platform, kind, labels, severity, guidelines,
status; the post text only with --with-text. Listing with text shows student data, so it is
written to the audit trail first (if that cannot be recorded, nothing is shown).
"""
from __future__ import annotations

import getpass
import json

from agent.errors import UsageError
from agent.store.incident import INCIDENT_STATUSES


def register(sub, common) -> None:
    p = sub.add_parser("incidents", parents=[common], help="list flagged posts")
    from agent.cli import nested_common
    leaf = nested_common(common)
    ss = p.add_subparsers(dest="incidents_command", metavar="ACTION")
    ss.required = True
    ls = ss.add_parser("list", parents=[leaf], help="one JSON line per incident, oldest first")
    ls.add_argument("--since", metavar="ISO8601",
                    help="created at or after this instant (naive = UTC; a bare date = local midnight)")
    ls.add_argument("--status", metavar="STATUS", help="only this status: " + ", ".join(INCIDENT_STATUSES))
    ls.add_argument("--with-text", action="store_true",
                    help="include the post text (student data: the listing is audited)")
    ls.set_defaults(func=run_list)


def run_list(args) -> int:
    from agent.commands.session import parse_instant
    from agent.context import AppContext

    ctx = AppContext.from_args(args)
    if args.status is not None and args.status not in INCIDENT_STATUSES:
        raise UsageError(f"--status {args.status!r}: expected one of {', '.join(INCIDENT_STATUSES)}")
    since = None
    if args.since is not None:
        since = parse_instant(args.since, "--since", ctx.policy.timezone)
    store = ctx.store
    incidents = store.incidents(since=since, status=args.status)
    if args.with_text and incidents:
        try:
            os_user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no passwd entry in some containers
            os_user = None
        store.audit("cli", "incidents.view_text", "incidents",
                    {"ids": [i.id for i in incidents], "count": len(incidents), "os_user": os_user,
                     "since": since.isoformat() if since else None, "status": args.status})
    for inc in incidents:
        print(json.dumps(inc.to_json(with_text=args.with_text), ensure_ascii=False))
    return 0
