"""purge(directory, retention_days, today): remove whole day files past retention.

A day file is past retention when it is more than `retention_days` days older than `today`
(the district's local date): with 30, today's file and the 30 before it are kept. The anchor
(chain-anchor.json) records the hash the first remaining line chains to, and which files went,
so `verify` still accepts the log. The anchor is written BEFORE any file is removed: a crash in
between leaves files that verify already ignores and the next purge removes.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from agent.activity import chain


def expired(directory: Path, retention_days: int, today: date) -> list[Path]:
    """Day files past retention, never the newest one nor the one the writer last wrote to
    (chain-head.json): a wrong `today` or clock must not delete the file being appended to."""
    if retention_days < 0:
        raise ValueError("retention_days must be >= 0")
    files = chain.day_files(directory)
    live = {(chain.read_json(directory / chain.HEAD) or {}).get("file")}
    if files:
        live.add(files[-1].name)
    return [p for p in files
            if (today - chain.file_date(p.name)).days > retention_days and p.name not in live]


def purge(directory: Path, retention_days: int, today: date, *, dry_run: bool = False) -> list[Path]:
    """Remove day files past retention; return them (with dry_run, only list them)."""
    directory = Path(directory)
    doomed = expired(directory, retention_days, today)
    if not doomed or dry_run:
        return doomed
    anchor = chain.read_json(directory / chain.ANCHOR) or {}
    last = doomed[-1]
    count, last_line, _ = chain.last_line(last)
    if last_line is not None:
        prev = chain.line_hash(last_line)
    else:  # an empty file: the chain passes straight through it
        prev = anchor.get("prev") or chain.GENESIS
        for p in reversed(doomed[:-1]):
            n, ln, _ = chain.last_line(p)
            if ln is not None:
                prev = chain.line_hash(ln)
                break
    history = list(anchor.get("history") or [])
    history.append({"at": datetime.now(timezone.utc).isoformat(), "today": today.isoformat(),
                    "retention_days": retention_days, "removed": [p.name for p in doomed]})
    chain.write_json_atomic(directory / chain.ANCHOR,
                            {"after": last.name, "prev": prev, "history": history[-1000:]})
    for p in doomed:
        p.unlink(missing_ok=True)
    return doomed
