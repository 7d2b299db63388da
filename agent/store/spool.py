"""The spool: where writes go while the database is unavailable, so nothing is lost.

One JSON line per record in `home/spool/<ns>-<pid>.jsonl`, appended and fsync'd before the
caller is told the write is done. Each line carries a nanosecond timestamp and a per-process
sequence number, so lines from several processes replay in the order they were written.

Concurrency: an appender opens the file, takes an exclusive flock, and checks the file is still
linked before writing (a replayer may have just consumed and removed it); a replayer takes the
same lock, reads, applies, and only then unlinks. A line that cannot be parsed (a crash in the
middle of an append) is moved to `spool/rejected.jsonl`, never silently dropped.
"""
from __future__ import annotations

import fcntl
import itertools
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class SpoolEntry:
    kind: str          # "incident" | "audit"
    payload: dict
    ts: int            # time.time_ns() when spooled
    seq: int           # per-process order


class Spool:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._name = f"{time.time_ns():020d}-{os.getpid()}.jsonl"

    # ---- appending ----
    def append(self, kind: str, payload: dict) -> None:
        line = json.dumps({"kind": kind, "ts": time.time_ns(), "seq": next(self._seq),
                           "payload": payload}, ensure_ascii=False, separators=(",", ":"))
        data = (line + "\n").encode("utf-8")
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            try:
                os.chmod(self.directory, 0o700)
            except OSError:
                pass
            for _ in range(10):  # bounded: only a replayer racing us makes this loop
                path = self.directory / self._name
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if os.fstat(fd).st_nlink == 0:
                        continue  # consumed and unlinked by a replayer: write a fresh file
                    os.write(fd, data)
                    os.fsync(fd)
                    return
                finally:
                    os.close(fd)  # closing releases the flock
            raise OSError(f"could not append to the spool in {self.directory}")

    # ---- reading ----
    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.jsonl") if p.name != "rejected.jsonl")

    def depth(self) -> int:
        """Records waiting to be replayed (lines in the spool files)."""
        n = 0
        for p in self.files():
            try:
                with open(p, "rb") as fh:
                    n += sum(1 for line in fh if line.strip())
            except OSError:
                pass
        return n

    def replay(self, apply: Callable[[SpoolEntry], None]) -> int:
        """Apply every spooled record in write order; remove a file only when all of its lines
        were applied. `apply` raising stops the replay (the database went away again): what was
        applied is idempotent on retry (ids are unique), the rest stays spooled."""
        with self._lock:
            files = self.files()
            if not files:
                return 0
            fds: list[int] = []
            try:
                entries: list[tuple[int, int, int, int, SpoolEntry]] = []
                for index, path in enumerate(files):
                    try:
                        fd = os.open(path, os.O_RDONLY)
                    except FileNotFoundError:
                        continue
                    fds.append(fd)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    with os.fdopen(os.dup(fd), "rb") as fh:
                        raw = fh.read()
                    for lineno, line in enumerate(raw.splitlines(), 1):
                        if not line.strip():
                            continue
                        try:
                            rec = json.loads(line)
                            entry = SpoolEntry(rec["kind"], rec["payload"], int(rec["ts"]), int(rec["seq"]))
                        except (ValueError, KeyError, TypeError, RecursionError):
                            self._reject(path, lineno, line)
                            continue
                        entries.append((entry.ts, index, entry.seq, lineno, entry))
                entries.sort(key=lambda e: e[:4])
                for *_, entry in entries:
                    apply(entry)
                for path in files:
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        pass
                return len(entries)
            finally:
                for fd in fds:
                    os.close(fd)

    def reject_entry(self, entry: SpoolEntry, reason: str) -> None:
        """Keep a record the database refuses (not an outage: the record itself) out of the way."""
        self._write_rejected({"reason": reason, "kind": entry.kind, "ts": entry.ts, "payload": entry.payload})

    def _reject(self, path: Path, lineno: int, line: bytes) -> None:
        self._write_rejected({"file": path.name, "line": lineno, "reason": "unparseable line",
                              "raw": line.decode("utf-8", "replace")})

    def _write_rejected(self, rec: dict) -> None:
        fd = os.open(self.directory / "rejected.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
