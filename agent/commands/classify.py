"""`crossingguard classify`: score posts offline (DESIGN.md contract).

Reads JSON lines {"id", "text"} (optional "author", "platform", "kind", "account") from stdin or
FILE and writes one line per post:
  {"id", "scores": {bullying, threat, self_harm, pii, impersonation}, "labels": [...], "evidence": [...]}
plus "help_seeking": true when the post asks for or offers help (classifiers/helpseeking.py).
A bad input line is reported on stderr as `<file>:<line>: <problem>` and skipped; the rest are
still scored. Exit status 0, or 1 when any line was bad.
"""
from __future__ import annotations

import argparse
import json
import sys

from agent.commands.jsonlines import LineError, json_object

HELP = __doc__.split("\n", 2)[2]
BATCH = 64


def register(sub, common) -> None:
    p = sub.add_parser("classify", parents=[common], help="score posts for bullying, threat, self-harm, PII, impersonation",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="input JSON lines (default: stdin)")
    p.add_argument("--author", metavar="USER_ID", default=None,
                   help="roster user id (or username) of the author, for lines without \"author\"")
    p.add_argument("--models", metavar="DIR", default=None, help="model folder (default: the shipped models)")
    p.set_defaults(func=run)


def parse_line(line: str, default_author: str | None):
    from classifiers.types import PostInput

    obj = json_object(line)
    if "id" not in obj or obj["id"] is None or isinstance(obj["id"], (dict, list)):
        raise LineError("id: missing or not a string/number")
    if not isinstance(obj.get("text"), str):
        raise LineError("text: missing or not a string")
    for key in ("author", "platform", "kind", "account"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise LineError(f"{key}: not a string")
    post = PostInput(text=obj["text"], author=obj.get("author") or default_author,
                     platform=obj.get("platform"), kind=obj.get("kind"), account=obj.get("account"))
    return obj["id"], post


def result_json(post_id, c) -> dict:
    out = {"id": post_id, "scores": c.scores, "labels": c.labels, "evidence": [e.to_json() for e in c.evidence]}
    if c.help_seeking:
        out["help_seeking"] = True
    return out


def run(args) -> int:
    from agent.context import AppContext
    from agent.errors import UsageError
    from classifiers.district import as_district
    from classifiers.pipeline import Classifier
    from classifiers.textmodels import ModelFileError

    ctx = AppContext.from_args(args)
    roster, policy = ctx.roster, ctx.policy
    author = args.author
    if author is not None:
        person = roster.get(author)
        if person is None:
            raise UsageError(f"--author: {author!r} is not in the roster")
        author = person.user_id
    try:
        classifier = Classifier.load(roster=roster, district=as_district(policy), model_dir=args.models)
    except ModelFileError as exc:
        raise UsageError(str(exc)) from exc

    name = "<stdin>" if args.file == "-" else args.file
    try:
        stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"{name}: {exc.strerror}") from exc
    interactive = stream.isatty()
    bad = 0
    batch: list = []

    def flush() -> None:
        if not batch:
            return
        results = classifier.classify([p for _, p in batch])
        for (post_id, _), c in zip(batch, results):
            sys.stdout.write(json.dumps(result_json(post_id, c), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        batch.clear()

    with stream:
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                batch.append(parse_line(line, author))
            except LineError as exc:
                bad += 1
                print(f"crossingguard classify: {name}:{lineno}: {exc}", file=sys.stderr)
                continue
            if len(batch) >= BATCH or interactive:
                flush()
        flush()
    return 1 if bad else 0
