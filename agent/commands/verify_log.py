"""`crossingguard verify-log`: check the activity log's hash chain.

Prints one JSON line per problem (`{"file", "line", "problem"}`) and exits 1, or one summary
line (`{"ok": true, "files", "lines", "last_hash", "chains", "durability"}`) and exits 0 when the
log is intact. With `run --workers N` each worker writes its own chain (agent/activity/chains.py):
all are checked together; `files` and `lines` are totals, `last_hash` is the top-level chain's, and
`chains` lists each (`{"chain", "files", "lines", "last_hash"}`; "" is the top-level one).
`durability` is the policy's `activity.durability`: "sync" (every answered request's line was
fsynced before its response) or "async" (lines written behind the traffic: a crash can lose the
last ~100 ms of lines without the chain showing it); "unknown" when the policy cannot be read.
"""
from __future__ import annotations

import json
import sys


def register(sub, common) -> None:
    p = sub.add_parser("verify-log", parents=[common],
                       help="find edited, removed, inserted or reordered lines in the activity log")
    p.set_defaults(func=run)


def run(args) -> int:
    from agent.activity.chains import check_all
    from agent.context import AppContext

    context = AppContext.from_args(args)
    directory = context.activity_dir
    try:
        durability = context.policy.activity_durability
    except Exception:   # noqa: BLE001 - the chain is checked whatever the policy says
        durability = "unknown"
    problems, summaries = check_all(directory)
    for p in problems:
        print(json.dumps(p.to_json(), ensure_ascii=False))
    if problems:
        return 1
    top = summaries[0][1]
    print(json.dumps({"ok": True, "directory": str(directory),
                      "files": sum(s.files for _, s in summaries), "lines": sum(s.lines for _, s in summaries),
                      "last_hash": top.last_hash,
                      "chains": [{"chain": label, "files": s.files, "lines": s.lines, "last_hash": s.last_hash}
                                 for label, s in summaries],
                      "durability": durability}))
    if durability == "async":
        print("note: the policy writes the activity log asynchronously (activity.durability: async); "
              "a crash may have lost the last lines without a gap in the chain", file=sys.stderr)
    return 0
