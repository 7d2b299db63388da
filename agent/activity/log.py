"""ActivityLog: every request to a catalog platform, one hash-chained JSON line, off the event loop.

`write()` is called from mitmproxy's event loop, so it only copies the record and puts it on a
bounded queue (no I/O, no hashing, no JSON). A writer thread turns records into lines, chains
them, appends them to the day's file, fsyncs, then writes the checkpoint.

Choice when the queue is full (the disk stalled, or a burst beyond what the writer can absorb):
the record is DROPPED and counted, never waited for. Blocking here would stall every connection
through the proxy (a 10 ms stall cut throughput 7x in the foundation measurements), which is worse
for students and staff than a gap in a log. The gap is not silent: the counter is exported
(crossingguard_activity_dropped_total) and the writer writes a `{"event": "dropped", "count": N}`
line into the chain as soon as it can, so the log itself says where records are missing.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import threading
import time
import weakref
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.activity import chain
from agent.activity.record import RECORD_KEYS, ActivityRecord  # noqa: F401 - RECORD_KEYS re-exported
from agent.errors import CrossingGuardError

log = logging.getLogger("crossingguard.activity")

_STOP = object()


class _Flush:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


class ActivityLog:
    def __init__(self, directory: Path, tz: ZoneInfo, *, max_queue: int = 50_000, batch: int = 2_000):
        self.directory = Path(directory)
        self.tz = tz
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._batch = batch
        self.lines_written = 0
        self.dropped = 0            # incremented by callers (write), read by the writer
        self._dropped_logged = 0
        self.write_errors = 0
        self._closed = False

        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.directory, 0o700)  # user ids and browsing: readable by the service only
        except OSError:
            pass
        # One writer per directory: two would fork the chain.
        self._lock_fd = os.open(self.directory / chain.LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise CrossingGuardError(f"{self.directory}: another process is writing this activity log")

        self._fh = None
        self._day: date | None = None
        self._file: Path | None = None
        self._line_no = 0
        self._prev = chain.GENESIS
        self._resume()

        self._thread = threading.Thread(target=self._run, name="activity-writer", daemon=True)
        self._thread.start()

        ref = weakref.ref(self)

        def read(attr):
            return lambda: (getattr(ref(), attr) if ref() is not None else 0)

        # The log owns this state, so it registers it for the exporter (read at scrape time).
        from agent.metrics import ACTIVITY_DROPPED, ACTIVITY_LINES, ACTIVITY_QUEUE, STATE
        STATE.register(ACTIVITY_QUEUE, "Activity records waiting for the writer thread", read("queue_depth"), "gauge")
        STATE.register(ACTIVITY_LINES, "Activity log lines written", read("lines_written"), "counter")
        STATE.register(ACTIVITY_DROPPED, "Activity records dropped because the writer queue was full",
                       read("dropped"), "counter")

    # ------------------------------------------------------------------ caller side (event loop)
    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def write(self, record: ActivityRecord | dict) -> None:
        """Queue one record (an ActivityRecord; a dict for events such as "dropped"); returns at
        once. The log owns the (copied) record from here on."""
        if self._closed:
            self.dropped += 1
            return
        try:
            self._queue.put_nowait(record.to_dict() if isinstance(record, ActivityRecord) else dict(record))
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 5) -> None:
        """Wait (up to timeout seconds) until everything written so far is on disk."""
        if not self._thread.is_alive():
            return
        marker = _Flush()
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return
        marker.event.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout=10)
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        os.close(self._lock_fd)

    def __enter__(self) -> "ActivityLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ writer thread
    def _resume(self) -> None:
        """Continue the chain from what is on disk: the last line of the newest day file, else the
        purge anchor, else the genesis hash."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None
        files = chain.day_files(self.directory)
        self._day, self._file, self._line_no = None, None, 0
        if files:
            newest = files[-1]
            count, last, complete = chain.last_line(newest)
            if not complete:
                # A crash cut the last line short. Terminate it (never delete data): verify will
                # report that line as damaged, and new lines chain to it as written.
                with open(newest, "ab") as fh:
                    fh.write(b"\n")
            self._day, self._file, self._line_no = chain.file_date(newest.name), newest, count
            if last is not None:
                self._prev = chain.line_hash(last)
                return
        anchor = chain.read_json(self.directory / chain.ANCHOR)
        self._prev = (anchor or {}).get("prev") or chain.GENESIS

    def _local_day(self, record: dict) -> date:
        t = record.get("time")
        if isinstance(t, datetime):
            at = t
            record["time"] = t.isoformat()
        elif isinstance(t, str):
            try:
                at = datetime.fromisoformat(t)
            except ValueError:
                at = datetime.now(timezone.utc)
        else:
            at = datetime.now(timezone.utc)
            record["time"] = at.isoformat()
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.astimezone(self.tz).date()

    def _open_for(self, day: date) -> None:
        # Never go back to an earlier file: a late record from before midnight, or a clock step
        # backwards, stays in the current file so the chain and the file order agree.
        if self._day is not None and day < self._day:
            day = self._day
        if self._fh is not None and day == self._day:
            return
        if self._fh is not None:
            self._fh.close()
        path = self.directory / chain.file_name(day)
        if path != self._file:
            self._line_no = 0 if not path.exists() else chain.last_line(path)[0]
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._fh = os.fdopen(fd, "ab", buffering=1 << 16)
        self._day, self._file = day, path

    def _render(self, record: dict) -> tuple[date, bytes]:
        day = self._local_day(record)
        record.pop("prev", None)
        record["prev"] = self._prev
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
        return day, line

    def _write_batch(self, records: list[dict]) -> None:
        pending = self.dropped - self._dropped_logged
        if pending > 0:
            records.insert(0, {"time": datetime.now(timezone.utc).isoformat(), "event": "dropped",
                               "count": pending})
            self._dropped_logged += pending
        for attempt in range(5):  # bounded: a failing disk must not spin the thread forever
            try:
                self._append(records)
                return
            except OSError as exc:
                self.write_errors += 1
                log.error("activity log write failed (attempt %d): %s", attempt + 1, exc)
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
                self._resume()  # re-read the chain from disk before trying again
        self.dropped += len(records)
        log.error("activity log: %d records dropped after repeated write failures", len(records))

    def _append(self, records: list[dict]) -> None:
        prev0, line0, day0, file0, n = self._prev, self._line_no, self._day, self._file, 0
        try:
            for rec in records:
                day, line = self._render(dict(rec))
                self._open_for(day)
                self._fh.write(line + b"\n")
                self._prev = chain.line_hash(line)
                self._line_no += 1
                n += 1
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError:
            self._prev, self._line_no, self._day, self._file = prev0, line0, day0, file0
            raise
        # Data is on disk first, then the checkpoint: after a crash the checkpoint can only lag.
        chain.write_json_atomic(self.directory / chain.HEAD,
                                {"file": self._file.name, "line": self._line_no, "hash": self._prev})
        self.lines_written += n

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            items = [item]
            while len(items) < self._batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            records, markers, stop = [], [], False
            for it in items:
                if it is _STOP:
                    stop = True
                elif isinstance(it, _Flush):
                    markers.append(it)
                else:
                    records.append(it)
            if records or self.dropped > self._dropped_logged:
                try:
                    self._write_batch(records)
                except Exception:  # noqa: BLE001 - the writer thread must survive a bad record
                    log.exception("activity log writer error")
                    self.dropped += len(records)
            for m in markers:
                m.event.set()
            if stop:
                return
