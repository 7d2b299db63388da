"""verify(directory): find any edited, removed, inserted or reordered line in the activity log.

Each line's `prev` must be the hash of the line before it (across day files); the first line
must chain to the genesis hash or, after a purge, to the anchor; the checkpoint written by the
writer must match the line it names (catches removing or editing the newest lines). When the
chain breaks, a second pass looks the stray `prev` up among all lines to say what happened:
lines removed or edited, lines inserted or moved, or lines reordered.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.activity import chain


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "problem": self.message}


@dataclass(frozen=True)
class Summary:
    files: int
    lines: int
    last_hash: str


def _lines(path: Path):
    """(line number, bytes without the newline, complete) for each line, streamed."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            complete = raw.endswith(b"\n")
            yield lineno, (raw[:-1] if complete else raw), complete


@dataclass
class _Break:
    index: int                          # global line index (0-based, across files)
    file: str
    line: int
    prev: str | None                    # the `prev` the line carries
    before: tuple[str, int] | None      # the line physically before it


def check(directory: Path) -> tuple[list[Problem], Summary]:
    """Stream every day file once (plus once more only if the chain is broken); memory stays
    proportional to the number of problems, not to the size of the log."""
    directory = Path(directory)
    problems: list[Problem] = []
    try:
        anchor = chain.read_json(directory / chain.ANCHOR)
    except ValueError:
        anchor = {}
        problems.append(Problem(chain.ANCHOR, None, "unreadable purge anchor"))
    try:
        head = chain.read_json(directory / chain.HEAD)
    except ValueError:
        head = {}
        problems.append(Problem(chain.HEAD, None, "unreadable checkpoint"))

    purged_through = (anchor or {}).get("after") or ""
    # Files up to the anchor's `after` were purged (a crash between writing the anchor and removing
    # them leaves them behind; purge removes them on its next run): they are outside the chain.
    files = [p for p in chain.day_files(directory) if p.name > purged_through]
    expected = (anchor or {}).get("prev") or chain.GENESIS
    start_label = "the purge anchor" if anchor else "the start of the log"
    head_at = (head.get("file"), head.get("line")) if head else None

    breaks: list[_Break] = []
    line_counts: dict[str, int] = {}
    head_hash: str | None = None
    index, before = 0, None
    for path in files:
        n = 0
        for lineno, raw, complete in _lines(path):
            n = lineno
            prev = None
            if not complete:
                problems.append(Problem(path.name, lineno, "incomplete line (no newline): cut short"))
            try:
                obj = json.loads(raw)
                prev = obj.get("prev") if isinstance(obj, dict) else None
                if prev is None:
                    problems.append(Problem(path.name, lineno, "no `prev` hash: not a chained line"))
            except (ValueError, RecursionError):   # RecursionError: brackets nested past the parser
                problems.append(Problem(path.name, lineno, "not valid JSON (edited or damaged)"))
            if prev != expected:
                breaks.append(_Break(index, path.name, lineno, prev, before))
            expected = chain.line_hash(raw)
            if head_at == (path.name, lineno):
                head_hash = expected
            before = (path.name, lineno)
            index += 1
        line_counts[path.name] = n
        if n == 0:
            problems.append(Problem(path.name, None, "empty day file"))

    if breaks:
        problems.extend(_diagnose(files, breaks, start_label))
    problems.extend(_check_head(head, anchor, line_counts, head_hash, purged_through))
    order = {p.name: i for i, p in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0))
    return problems, Summary(len(files), index, expected)


def _diagnose(files, breaks: list[_Break], start_label: str) -> list[Problem]:
    """Name what happened at each break, by finding which line the stray `prev` belongs to.
    Only the lines whose hash is one of those stray values are remembered."""
    wanted = {b.prev for b in breaks if b.prev is not None}
    found: dict[str, int] = {}                       # hash -> first global index
    pos: dict[int, tuple[str, int]] = {}             # index -> (file, line) for found and their successors
    found_at: set[int] = set()
    index = 0
    for path in files:
        for lineno, raw, _ in _lines(path):
            if index - 1 in found_at:
                pos[index] = (path.name, lineno)
            h = chain.line_hash(raw)
            if h in wanted and h not in found:
                found[h] = index
                found_at.add(index)
                pos[index] = (path.name, lineno)
            index += 1
    out = []
    for b in breaks:
        if b.prev is None:
            continue  # already reported as unparseable / unchained
        j = found.get(b.prev)
        if b.index == 0:
            msg = (f"the first line does not chain to {start_label}: earlier lines or day files were "
                   "removed, or this line was edited")
        elif j is None:
            pf, pl = b.before
            msg = (f"chain broken: `prev` is not the hash of {pf}:{pl} ({pf}:{pl} was edited, or lines "
                   "were removed between them)")
        elif j < b.index - 1:
            jf, jl = pos[j]
            a, z = pos[j + 1], b.before
            if a == z:
                span = f"{a[0]}:{a[1]} was"
            elif a[0] == z[0]:
                span = f"{a[0]}:{a[1]}..{z[1]} were"
            else:
                span = f"{a[0]}:{a[1]}..{z[0]}:{z[1]} were"
            msg = f"chain broken: this line follows {jf}:{jl}, so {span} inserted or moved here"
        else:
            jf, jl = pos[j]
            msg = f"chain broken: this line belongs after {jf}:{jl} (lines reordered)"
        out.append(Problem(b.file, b.line, msg))
    return out


def _check_head(head, anchor, line_counts, head_hash, purged_through: str) -> list[Problem]:
    if head is None:
        if line_counts:
            return [Problem(chain.HEAD, None, "checkpoint missing: the end of the log cannot be checked")]
        return []
    name, line, want = head.get("file"), head.get("line"), head.get("hash")
    if not isinstance(name, str) or not isinstance(line, int) or not isinstance(want, str):
        return [Problem(chain.HEAD, None, "checkpoint malformed")]
    if name not in line_counts:
        if anchor and name <= purged_through:
            return []  # the checkpoint's day was purged; nothing newer written since
        return [Problem(name, None, f"missing: the checkpoint records {line} lines in this file (removed)")]
    have = line_counts[name]
    if have < line:
        return [Problem(name, have + 1, f"missing: the checkpoint records {line} lines, the file has "
                                        f"{have} (the end of the log was removed)")]
    if head_hash != want:
        return [Problem(name, line, "does not match the checkpoint hash (edited or replaced)")]
    return []


def verify(directory: Path) -> list[str]:
    """[] when the activity log is intact; otherwise one `file:line: what` per problem."""
    return [str(p) for p in check(directory)[0]]
