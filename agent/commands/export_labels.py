"""`crossingguard export-labels [--out FILE] [--since ISO8601]`: counselors' decisions as training
data. Closed incidents are confirmed (label 1), dismissed ones false positives (label 0); one row
per incident and category it was flagged for, CSV `text,category,label` with a header, the same
`text,label` layout as ../shared/data plus the category (`crossingguard train --extra FILE`).

The file holds student post text: it is written 0600, and the export is in the audit trail.
"""
from __future__ import annotations

import csv
import io
import os
import sys


def register(sub, common) -> None:
    p = sub.add_parser("export-labels", parents=[common], help="closed/dismissed incidents as labelled CSV")
    p.add_argument("--out", metavar="FILE", default=None, help="write here (0600) instead of stdout")
    p.add_argument("--since", metavar="ISO8601", default=None, help="only incidents created at or after")
    p.add_argument("--category", action="append", default=[], metavar="CATEGORY",
                   help="only this category (repeatable; default all)")
    p.set_defaults(func=run)


def run(args) -> int:
    from agent.commands.session import parse_instant
    from agent.context import AppContext
    from agent.errors import UsageError
    from agent.review.present import CATEGORIES, label_rows

    bad = [c for c in args.category if c not in CATEGORIES]
    if bad:
        raise UsageError(f"--category {bad[0]!r}: expected one of {', '.join(CATEGORIES)}")
    ctx = AppContext.from_args(args)
    since = parse_instant(args.since, "--since", ctx.policy.timezone) if args.since else None
    store = ctx.store
    incidents = [i for s in ("closed", "dismissed") for i in store.incidents(since=since, status=s)]
    rows = label_rows(incidents, args.category or CATEGORIES)
    store.audit("cli", "incidents.export_labels", args.out or "stdout",
                {"rows": len(rows), "incidents": len(incidents), "since": args.since,
                 "categories": args.category or list(CATEGORIES)})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("text", "category", "label"))
    w.writerows(rows)
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
        print(f"{len(rows)} rows from {len(incidents)} incidents written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(buf.getvalue())
    return 0
