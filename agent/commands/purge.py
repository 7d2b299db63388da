"""`crossingguard purge [--today DATE] [--dry-run]`: remove activity log days past retention.

Retention (days) comes from the policy file. A day file goes when it is more than that many
days older than today (the district's local date). The purge keeps the chain verifiable (see
agent/activity/purge.py) and is written to the audit trail. Prints one JSON line.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from agent.errors import UsageError


def register(sub, common) -> None:
    p = sub.add_parser("purge", parents=[common], help="remove activity log days past the policy's retention")
    p.add_argument("--today", metavar="DATE", help="the local date to count from (default: today in the district)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    p.set_defaults(func=run)


def run(args) -> int:
    from agent.activity import purge
    from agent.context import AppContext

    ctx = AppContext.from_args(args)
    policy = ctx.policy
    if args.today:
        try:
            today = date.fromisoformat(args.today.strip())
        except ValueError:
            raise UsageError(f"--today {args.today!r}: expected a date YYYY-MM-DD") from None
    local_today = datetime.now(policy.timezone).date()
    if not args.today:
        today = local_today
    elif today > local_today:
        # A date in the future would purge records that are still inside retention.
        raise UsageError(f"--today {today.isoformat()} is later than today ({local_today.isoformat()} "
                         f"in {policy.timezone}); purging counts back from a past or present date")
    from agent.activity.chains import all_chains
    names = []
    for label, directory in all_chains(ctx.activity_dir):   # each worker's chain too (run --workers)
        removed = purge(directory, policy.retention_days, today, dry_run=args.dry_run)
        names += [f"{label}/{p.name}" if label else p.name for p in removed]
    if names and not args.dry_run:
        ctx.store.audit("cli", "activity.purge", str(ctx.activity_dir),
                        {"removed": names, "retention_days": policy.retention_days, "today": today.isoformat()})
    print(json.dumps({"purged": names, "retention_days": policy.retention_days, "today": today.isoformat(),
                      "dry_run": bool(args.dry_run)}))
    return 0
