"""`crossingguard extract`: offline post extraction (DESIGN.md contract).

One request per input line, one result per output line, always: a bad line is reported on
stderr with its line number and still produces `{"platform": null, "posts": []}`, so line N of
the output always belongs to line N of the input.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import sys

from agent.commands.jsonlines import LineError, json_object
from agent.errors import CrossingGuardError

HELP = """\
Reads requests from stdin (or FILE), one JSON object per line:
  {"method": "POST", "url": "https://...", "headers": {...}, "body": "<text>"}
or "body_b64": "<base64>" for bytes (a content-encoding header such as gzip, br,
zstd or deflate is honoured). Writes one JSON line per input line:
  {"platform": <id or null>, "posts": [{"kind", "text", "account", "target", "attachments"}]}
A malformed input line is reported on stderr with its line number and still
produces an output line {"platform": null, "posts": []}: output lines stay
aligned with input lines. Blank input lines are echoed the same way.
Exit status: 0, or 1 when any line was malformed (all lines are still processed).
"""


def register(sub, common) -> None:
    p = sub.add_parser("extract", parents=[common], help="extract user-written posts from requests (JSON lines)",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", default="-", metavar="FILE",
                   help="input JSON lines (default: stdin)")
    p.add_argument("--max-bytes", type=int, default=1_000_000, metavar="N",
                   help="largest body, before and after decompression, that is parsed (default 1000000)")
    p.add_argument("--errors", action="store_true",
                   help="add \"error\" and \"skipped\" keys to each output line (diagnostics)")
    p.set_defaults(func=run)


def parse_line(line: str) -> tuple[str, str, dict, bytes]:
    obj = json_object(line)
    for key in ("method", "url"):
        if not isinstance(obj.get(key), str) or not obj.get(key):
            raise LineError(f"{key}: missing or not a string")
    headers = obj.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, (str, int)) for v in headers.values()):
        raise LineError("headers: not an object of strings")
    headers = {str(k): str(v) for k, v in headers.items()}
    if "body_b64" in obj and obj["body_b64"] is not None:
        if not isinstance(obj["body_b64"], str):
            raise LineError("body_b64: not a string")
        try:
            body = base64.b64decode(obj["body_b64"], validate=True)
        except (binascii.Error, ValueError):
            raise LineError("body_b64: not valid base64") from None
    else:
        text = obj.get("body")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise LineError("body: not a string")
        body = text.encode("utf-8", "surrogateescape" if _has_escapes(text) else "surrogatepass")
    return obj["method"], obj["url"], headers, body


def _has_escapes(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def run(args) -> int:
    from classifiers.extract import extract_request

    # Platforms come from the policy's catalog (a policy file may add its own platforms); without
    # --policy, the shipped catalog. Extraction itself keeps no domain list.
    if getattr(args, "policy", None):
        from agent.context import AppContext
        catalog = AppContext.from_args(args).policy.catalog
    else:
        from agent.policy.catalog import default_catalog
        catalog = default_catalog()
    name = "<stdin>" if args.file == "-" else args.file
    if args.file == "-":
        # bytes that are not UTF-8 must not end the run: they fail their own line, not the stream
        raw = getattr(sys.stdin, "buffer", None)
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape") if raw else sys.stdin
    else:
        try:
            stream = open(args.file, encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            raise CrossingGuardError(f"{args.file}: {exc.strerror}") from None
    bad = 0
    try:
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                result = {"platform": None, "posts": []}
                bad += 1
                print(f"crossingguard extract: {name}:{lineno}: empty line", file=sys.stderr)
            else:
                try:
                    method, url, headers, body = parse_line(line)
                except LineError as exc:
                    bad += 1
                    print(f"crossingguard extract: {name}:{lineno}: {exc}", file=sys.stderr)
                    result = {"platform": None, "posts": []}
                else:
                    ex = extract_request(method, url, headers, body, max_bytes=args.max_bytes, catalog=catalog)
                    result = ex.to_json()
                    if ex.error:
                        print(f"crossingguard extract: {name}:{lineno}: body not read: {ex.error}", file=sys.stderr)
                    if args.errors:
                        result["error"], result["skipped"] = ex.error, ex.skipped
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    finally:
        if args.file != "-":
            stream.close()
    return 1 if bad else 0
