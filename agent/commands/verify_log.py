"""`crossingguard verify-log`: check the activity log's hash chain.

Prints one JSON line per problem (`{"file", "line", "problem"}`) and exits 1, or one summary
line (`{"ok": true, "files", "lines", "last_hash"}`) and exits 0 when the log is intact.
"""
from __future__ import annotations

import json


def register(sub, common) -> None:
    p = sub.add_parser("verify-log", parents=[common],
                       help="find edited, removed, inserted or reordered lines in the activity log")
    p.set_defaults(func=run)


def run(args) -> int:
    from agent.activity import check
    from agent.context import AppContext

    directory = AppContext.from_args(args).activity_dir
    problems, summary = check(directory)
    for p in problems:
        print(json.dumps(p.to_json(), ensure_ascii=False))
    if problems:
        return 1
    print(json.dumps({"ok": True, "directory": str(directory), "files": summary.files,
                      "lines": summary.lines, "last_hash": summary.last_hash}))
    return 0
