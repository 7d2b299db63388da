"""The activity log's on-disk format, shared by the writer, the verifier and purge.

    activity-YYYY-MM-DD.jsonl   one JSON object per line, by the district's local date; each line's
                                `prev` is the SHA-256 (hex) of the previous line's bytes (without
                                its newline), chained across files; the very first line's prev is
                                GENESIS (64 zeros) or, after a purge, the anchor's hash
    chain-head.json             checkpoint written atomically by the writer after each batch:
                                {"file", "line", "hash"} of the last line written, so removing
                                the newest lines (which no later line vouches for) is detectable
    chain-anchor.json           written by purge: {"after", "prev", "history"}: files named up to
                                `after` were purged and the first remaining line chains to `prev`
    writer.lock                 held (flock) by the one process writing the log
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date
from pathlib import Path

GENESIS = "0" * 64
HEAD = "chain-head.json"
ANCHOR = "chain-anchor.json"
LOCK = "writer.lock"
FILE_RE = re.compile(r"^activity-(\d{4}-\d{2}-\d{2})\.jsonl$")


def file_name(day: date) -> str:
    return f"activity-{day.isoformat()}.jsonl"


def file_date(name: str) -> date | None:
    m = FILE_RE.match(name)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def day_files(directory: Path) -> list[Path]:
    """The day files, oldest first (ISO dates sort as strings)."""
    if not Path(directory).is_dir():
        return []
    return sorted(p for p in Path(directory).iterdir() if file_date(p.name) is not None)


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def read_json(path: Path) -> dict | None:
    try:
        with open(path, "rb") as fh:
            value = json.loads(fh.read())
    except FileNotFoundError:
        return None
    return value if isinstance(value, dict) else {}


def write_json_atomic(path: Path, value: dict) -> None:
    """Write-then-rename, fsync'd, so a reader (or a crash) sees the old or the new file, never half."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(value, sort_keys=True).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def last_line(path: Path, chunk: int = 1 << 20) -> tuple[int, bytes | None, bool]:
    """(number of lines, the last line's bytes or None, whether the file ends with a newline).

    Streams: counts newlines chunk by chunk and reads the last line by seeking back, so a large
    day file is never held in memory."""
    count, size, tail = 0, 0, b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            count += block.count(b"\n")
            size += len(block)
            tail = block[-1:]
        if size == 0:
            return 0, None, True
        complete = tail == b"\n"
        if not complete:
            count += 1
        end = size - 1 if complete else size      # the last line is data[start:end]
        pos, buf = end, b""                         # invariant: buf == data[pos:end]
        while pos > 0 and b"\n" not in buf:
            step = min(chunk, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
        line = buf[buf.rfind(b"\n") + 1:]
    return count, line, complete
