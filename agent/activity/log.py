"""ActivityLog: every request to a catalog platform, one hash-chained JSON line, off the event loop.

`write()` is called from mitmproxy's event loop, so it only copies the record and puts it on a
bounded queue (no I/O, no hashing, no JSON). A writer thread turns records into lines, chains
them, appends them to the day's file, fsyncs, then writes the checkpoint. With group commit on the
loop ("durability" below) the loop renders and chains the lines itself and a helper process writes
and syncs them: the event loop does no disk I/O either way.

The hand-over: the queue is a deque the loop appends to, and the writer sleeps on a plain lock
that `_put` releases only when the writer is asleep (`queue.Queue` took a mutex and a condition
variable on both sides of every item, and a fresh waiter lock per sleep: with group commit the
writer sleeps once per batch, about once per two requests on the all-social bench, and that
bookkeeping was a third of the extra CPU a synchronous commit costs, measured on tmpfs so the
disk's own cost is left out).

Choice when the queue is full (the disk stalled, or a burst beyond what the writer can absorb):
the record is DROPPED and counted, never waited for. Blocking here would stall every connection
through the proxy (a 10 ms stall cut throughput 7x in the foundation measurements), which is worse
for students and staff than a gap in a log. The gap is not silent: the counter is exported
(crossingguard_activity_dropped_total) and the writer writes a `{"event": "dropped", "count": N}`
line into the chain as soon as it can (while a marker is pending the writer wakes at least every
DROPPED_WAKE seconds, so it does not wait for the next record), so the log itself says where records
are missing. With no marker pending an idle writer just blocks on its wake-up lock (a wake-up every
IDLE_WAKE seconds): a record can only be dropped while the queue is full, and then the writer has
work and is awake anyway, so it sees the new count before it blocks again; IDLE_WAKE bounds the
wait for any other path that raises the count.

Durability (group commit): `write(record, commit=ticket)` takes an optional ticket, a callable (or
an asyncio future) the log resolves with True once the record's line is fsynced (False when it
could not be written). Classic group commit, no fixed window: whatever is queued is written,
fdatasynced ONCE, then every ticket of the batch fires; lines that arrive during that fsync form
the next batch. So an idle proxy pays one fsync of latency per request, and under load batches grow
by themselves with no timer (a fixed gathering window added its length to every request). The proxy
holds each response until its ticket fired (proxy_addons/activity.py): an answered request is a
durable line. Two ways to commit:

- The writer thread (above; `durability: async`, tools, and the fall-back): it renders, writes with
  O_DSYNC and resolves the futures of one event loop in ONE `call_soon_threadsafe`.
- On the event loop with the fsync helper (`start_group_commit`; what the proxy uses for
  `durability: sync`): the loop renders and chains each hand-over itself and sends the lines on a
  non-blocking socket to a helper PROCESS (agent/activity/syncer.py), which appends them, fdatasyncs
  and answers with the batch's sequence number on the same socket; the loop watches it
  (`add_reader`) and fires the tickets of every batch up to that number. Why: the writer thread
  needs the GIL after its wake-up and again after the disk, and the busy event loop thread holds
  it for up to the switch interval (5 ms) each time; that GIL hand-off, not the 0.1 ms fdatasync,
  was most of the 1.6-3.4 ms a synchronous commit added per request (docs/security.md has the
  figures). The helper has its own GIL, and the loop learns of its answer in the epoll call it
  makes anyway. The loop still never touches the disk: a buffered write() can sleep on the
  journal or on dirty-page throttling (measured up to 4 ms here), and on a hung disk for good.
  Who owns the chain state is explicit: the loop from `start_group_commit` on; when the helper
  dies, fails or the log closes, the loop hands it back through the queue (`_TakeOver`), and the
  writer thread re-reads the chain from disk, finds by hash which unconfirmed batches the helper
  had written, syncs those and writes the rest itself. A stuck helper (a stalled disk) is the
  same as a full queue: batches beyond `max_queue` lines waiting are dropped and counted, and the
  proxy releases held responses after its commit timeout. Checkpoints name only confirmed lines
  (written by the writer thread: never an fsync on the loop).

No record poisons a batch: every line is rendered on its own. A string that cannot be encoded as
UTF-8 (a path with a raw 0xFF byte arrives as a lone surrogate from mitmproxy's surrogateescape)
is written with JSON escapes instead (`\udcff`: valid JSON, valid UTF-8, the byte recoverable); a
record that cannot be rendered at all becomes an `{"event": "unwritable", ...}` line naming its
request id. Only an I/O failure loses lines, and then the count goes to `dropped` (counter and
marker line) and the error to the log.
"""
from __future__ import annotations

import asyncio
import collections
import fcntl
import json
import logging
import os
import select
import socket
import subprocess
import sys
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
CHECKPOINT_EVERY = 1.0  # seconds between checkpoint writes (each is a second fsync; it may only lag)
# Day files are opened O_DSYNC where the OS has it: each batch's write returns only once its data and
# the file size are on disk (what fdatasync gives), in ONE system call. The writer thread gives up
# the GIL once per batch for the disk instead of twice (write, then fdatasync), and each time it
# takes the GIL back it may wait for the busy event loop thread (up to the switch interval).
_DSYNC = getattr(os, "O_DSYNC", 0)
SYNCER = Path(__file__).with_name("syncer.py")   # the fsync helper program (module doc: group commit)
MESSAGE_BYTES = 1 << 16 # a batch goes to the helper in messages of whole lines up to this size
HELPER_STOP = 2.0       # seconds a closed helper gets to exit before it is killed
DROPPED_WAKE = 0.05     # the writer wakes this often while a dropped marker is pending
IDLE_WAKE = 1.0         # ... and this often otherwise (once a second instead of 20 times: module doc)


def _fdatasync_path(path: Path) -> None:
    """fdatasync of a file by name: Linux flushes the inode's pages whichever descriptor wrote them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


class _Flush:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


def _resolve(futures: list, ok: bool) -> None:
    for fut in futures:
        if not fut.done():
            fut.set_result(ok)


def _fire(ticket, ok: bool) -> None:
    """Calls a ticket from the caller's side (a dropped record): futures are set directly."""
    if isinstance(ticket, asyncio.Future):
        if not ticket.done():
            ticket.set_result(ok)
    else:
        ticket(ok)


class _Checkpoint:
    """Group commit on the loop: a checkpoint of lines the helper confirmed, for the writer thread
    (an atomic write and rename with two fsyncs: never on the event loop)."""
    __slots__ = ("head",)

    def __init__(self, head: dict) -> None:
        self.head = head


class _Batch:
    """Group commit on the loop: one batch sent to the helper and not yet confirmed. The records
    are kept so that the writer thread can write them itself if the helper never confirms them;
    `start` and `end` (the chain hash before and after the batch) tell it whether the helper
    wrote them before it died."""
    __slots__ = ("seq", "ticket", "records", "start", "end", "head", "lines")

    def __init__(self, seq, ticket, records, start, end, head, lines) -> None:
        self.seq, self.ticket, self.records, self.start, self.end = seq, ticket, records, start, end
        self.head, self.lines = head, lines


class _TakeOver:
    """Group commit on the loop stops (the helper died or failed, or close): the writer thread owns
    the chain from here on and finishes the batches the helper did not confirm (`_take_over`)."""
    __slots__ = ("batches", "reason", "failed")

    def __init__(self, batches: list, reason: str, failed: bool) -> None:
        self.batches, self.reason, self.failed = batches, reason, failed


class _Item:
    """Records with ONE commit ticket for all of them (module doc: durability)."""
    __slots__ = ("records", "commit")

    def __init__(self, records: list[dict], commit) -> None:
        self.records, self.commit = records, commit


# One encoder for every line (json.dumps with options builds a new one per call: a quarter of a line's
# cost; with group commit the lines are rendered on the event loop).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def encode_line(record: dict) -> bytes:
    """One JSON line for a record, always valid UTF-8: strings that are not encodable (lone
    surrogates from undecodable bytes) are written as JSON escapes instead of failing."""
    text = _ENCODE(record)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True, separators=(",", ":"), default=str).encode("ascii")


class _Helper:
    """The proxy's end of the fsync helper process (agent/activity/syncer.py has the protocol)."""

    def __init__(self, directory: Path) -> None:
        from agent.activity import syncer
        self.protocol = syncer
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        dirfd = -1
        try:
            dirfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            self.proc = subprocess.Popen([sys.executable, "-I", "-S", str(SYNCER), str(theirs.fileno()), str(dirfd)],
                                         pass_fds=(theirs.fileno(), dirfd), stdin=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
            if dirfd >= 0:
                os.close(dirfd)
        mine.setblocking(False)
        self.sock = mine
        # Messages the socket could not take yet (the helper sits in a long fdatasync; Linux queues
        # a few hundred small messages). Sent on the helper's next answer: it answers only after it
        # has emptied the socket. Bounded by the caller (ActivityLog._commit_here).
        self.outbox: collections.deque = collections.deque()
        self.error: OSError | None = None    # why the last push failed

    def send(self, seq: int, kind: int, body: bytes) -> None:
        self.outbox.append(self.protocol.HEADER.pack(seq, kind) + body)

    def push(self) -> bool:
        """Sends what the socket takes now; False when the helper is gone."""
        outbox, sock = self.outbox, self.sock
        while outbox:
            try:
                sock.send(outbox[0])
            except BlockingIOError:
                return True                  # full: the rest goes with the next answer
            except OSError as exc:           # the helper is gone (EPIPE, ECONNRESET), or EMSGSIZE
                self.error = exc
                return False
            outbox.popleft()
        return True

    def answers(self) -> tuple[int, bool, bool]:
        """(batch confirmed or 0, whether a write or fdatasync failed, whether the helper is gone).
        ONE answer per call: the loop's reader fires again while more are queued (level-triggered),
        and a second recv that finds nothing costs an exception on every batch."""
        try:
            data = self.sock.recv(self.protocol.ANSWER.size)
        except BlockingIOError:
            return 0, False, False
        except OSError:
            return 0, False, True
        if not data:
            return 0, False, True
        n = self.protocol.ANSWER.unpack(data)[0]
        if n & self.protocol.FAILED:
            return n & ~self.protocol.FAILED, True, False
        return n, False, False

    def close(self) -> None:
        self.sock.close()                    # the helper reads end-of-file and exits
        self.outbox.clear()
        try:
            self.proc.wait(HELPER_STOP)
        except subprocess.TimeoutExpired:    # stuck on a dead disk: do not wait for it
            self.proc.kill()
            try:
                self.proc.wait(HELPER_STOP)
            except subprocess.TimeoutExpired:   # in uninterruptible disk sleep: the kernel reaps it later
                pass


class ActivityLog:
    def __init__(self, directory: Path, tz: ZoneInfo, *, max_queue: int = 50_000, batch: int = 2_000):
        self.directory = Path(directory)
        self.tz = tz
        # The hand-over (module doc: "the hand-over"): a deque the event loop appends to and the
        # writer drains, and a lock used as a wake-up signal (unlocked = something to take).
        self._items: collections.deque = collections.deque()
        self._max_queue = max_queue
        self._wake = threading.Lock()
        self._wake.acquire()
        self._batch = batch
        self.lines_written = 0
        self.dropped = 0            # incremented by callers (write), read by the writer
        self._dropped_logged = 0
        self.write_errors = 0
        self._closed = False
        # Group commit on the event loop (module doc; start_group_commit): the loop writes the
        # chain and the helper process syncs it. Who owns the chain state (_prev, _line_no, _fh...):
        # the writer thread while _writer_owns, else the loop thread; ownership passes back through
        # the queue (_TakeOver), so the two never write at once.
        self._fast = False              # the loop commits (read by write/flush/close)
        self._writer_owns = True
        self._loop = None
        self._loop_ident: int | None = None
        self._helper: _Helper | None = None
        from agent.activity import syncer
        self._protocol = syncer
        self._seq = 0
        self._waiting: collections.deque = collections.deque()   # _Batch: sent, not yet confirmed
        self._unconfirmed = 0           # lines in _waiting (bounded by max_queue, like the writer queue)
        self._confirmed: dict | None = None   # the checkpoint of the last confirmed batch
        self._sent_file: str | None = None    # the day file the helper has open

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
        self._checkpointed = 0.0
        self._last_write = 0.0
        self._resume()

        self._thread = threading.Thread(target=self._run, name="activity-writer", daemon=True)
        self._thread.start()

        ref = weakref.ref(self)

        def read(attr):
            return lambda: (getattr(ref(), attr) if ref() is not None else 0)

        # The log owns this state, so it registers it for the exporter (read at scrape time).
        from agent.metrics import ACTIVITY_DROPPED, ACTIVITY_HELPER, ACTIVITY_LINES, ACTIVITY_QUEUE, STATE
        STATE.register(ACTIVITY_QUEUE, "Activity records waiting to be written (the writer thread's queue, or sent "
                       "to the fsync helper and not yet confirmed)", read("queue_depth"), "gauge")
        STATE.register(ACTIVITY_LINES, "Activity log lines written", read("lines_written"), "counter")
        STATE.register(ACTIVITY_DROPPED, "Activity records dropped because the writer queue was full",
                       read("dropped"), "counter")
        STATE.register(ACTIVITY_HELPER, "1 while the fsync helper process commits the activity log (durability sync)",
                       read("helper_up"), "gauge")

    # ------------------------------------------------------------------ caller side (event loop)
    @property
    def helper_up(self) -> int:
        return int(self._fast)

    @property
    def queue_depth(self) -> int:
        return len(self._items) + self._unconfirmed

    def _put(self, item) -> bool:
        """Hands one item to the writer thread; False when the queue is full. Called from the event
        loop: a deque append and, when the writer sleeps, one lock release (no condition variable,
        no lock taken here otherwise)."""
        if len(self._items) >= self._max_queue:
            return False
        self._items.append(item)
        if self._wake.locked():
            try:
                self._wake.release()
            except RuntimeError:   # released by another caller in between: the writer wakes anyway
                pass
        return True

    def write(self, record: ActivityRecord | dict, commit=None) -> bool:
        """Queue one record (an ActivityRecord; a dict for events such as "dropped"); returns at
        once (False when it was dropped: closed log, full queue). The log owns the (copied)
        record from here on. `commit`, if given, is called from the writer thread with True once
        the line is on disk, or with False when it will not be (also at once here when the record
        is dropped), so a caller never waits forever."""
        if self._closed:
            self.dropped += 1
            if commit is not None:
                _fire(commit, False)
            return False
        rec = record.to_dict() if isinstance(record, ActivityRecord) else dict(record)
        if self._fast:
            self._commit_from_any_thread([rec], commit)
            return True
        if not self._put(_Item([rec], commit) if commit is not None else rec):
            self.dropped += 1
            if commit is not None:
                _fire(commit, False)
            return False
        return True

    def write_group(self, records: list, commit) -> bool:
        """`write` for several records with ONE ticket, fired once all of them are on disk (they
        go into the same batch). The proxy hands over a loop iteration's records this way: one
        queue item, one writer wake-up and one future for all of them."""
        if self._closed:
            self.dropped += len(records)
            _fire(commit, False)
            return False
        recs = [r.to_dict() if isinstance(r, ActivityRecord) else dict(r) for r in records]
        if self._fast:
            self._commit_from_any_thread(recs, commit)
            return True
        if not self._put(_Item(recs, commit)):
            self.dropped += len(records)
            _fire(commit, False)
            return False
        return True

    def write_durable(self, record: ActivityRecord | dict) -> "asyncio.Future":
        """`write` from a running event loop with a future as the ticket: it resolves (True, or
        False when the line could not be made durable) once the line is fsynced. Await it before
        releasing what the record describes (module doc: durability)."""
        fut = asyncio.get_running_loop().create_future()
        self.write(record, fut)
        return fut

    def flush(self, timeout: float = 5) -> None:
        """Wait (up to timeout seconds) until everything written so far is on disk. With group
        commit on the loop this waits for the helper's answers on the loop's thread, blocking it: a
        flush is for shutdown (the addon's `done`) and for tools, never for the traffic path."""
        if not self._thread.is_alive():
            return
        if self._fast:
            self._on_loop(lambda: self._wait_confirmed(timeout), timeout)
        marker = _Flush()
        deadline = time.monotonic() + timeout
        while not self._put(marker):          # full: wait for room, within the timeout
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)
        marker.event.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self._closed:
            return
        if self._fast:                       # the helper finishes what it has, then the writer thread the rest
            self._on_loop(lambda: (self._wait_confirmed(5), self._take_back(None)), 10)
        self.flush()
        self._closed = True
        self._items.append(_STOP)            # past the bound on purpose: the writer must see it
        if self._wake.locked():
            try:
                self._wake.release()
            except RuntimeError:
                pass
        self._thread.join(timeout=10)
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        os.close(self._lock_fd)

    def __enter__(self) -> "ActivityLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ group commit on the loop
    def start_group_commit(self, loop: asyncio.AbstractEventLoop) -> bool:
        """From now on the event loop (this thread, running `loop`) commits: each `write_group`
        renders and chains its records here and sends the lines to the fsync helper process, which
        appends them, fdatasyncs and answers on a socket the loop watches; the answer fires the
        tickets (module doc). False (and a log line) when the helper cannot be started: the writer
        thread keeps committing."""
        if self._fast or self._closed:
            return self._fast
        try:
            helper = _Helper(self.directory)
        except OSError as exc:
            log.error("activity log: the fsync helper did not start (%s); the writer thread commits", exc)
            return False
        try:
            loop.add_reader(helper.sock.fileno(), self._on_answers)
        except (NotImplementedError, RuntimeError) as exc:   # a loop without readers (not Linux's)
            helper.close()
            log.error("activity log: cannot watch the fsync helper (%s); the writer thread commits", exc)
            return False
        self.flush()                          # the writer thread is idle, its lines on disk
        if self._fh is not None:              # the helper appends from now on
            self._fh.close()
            self._fh = None
        self._loop, self._loop_ident, self._helper = loop, threading.get_ident(), helper
        self._sent_file = None
        self._writer_owns, self._fast = False, True
        return True

    def _commit_from_any_thread(self, recs: list[dict], ticket) -> None:
        if threading.get_ident() == self._loop_ident:
            self._commit_here(recs, ticket)
        else:                                 # a tool's thread: the loop owns the chain
            try:
                self._loop.call_soon_threadsafe(self._commit_here, recs, ticket)
            except RuntimeError:              # the loop is closed: the line cannot be written
                self.dropped += len(recs)
                if ticket is not None:
                    _fire(ticket, False)

    def _commit_here(self, recs: list[dict], ticket) -> None:
        """On the loop: render and chain the batch, hand its lines to the helper (never the disk)."""
        if not self._fast:                    # fell back meanwhile (a call queued from another thread)
            self._requeue(recs, ticket)
            return
        if self._unconfirmed >= self._max_queue:
            # The helper is stuck (a stalled disk). Same choice as a full writer queue: DROP and
            # count, never wait (module doc); the held responses go at COMMIT_TIMEOUT in the addon.
            self.dropped += len(recs)
            if ticket is not None:
                _fire(ticket, False)
            return
        pending = self.dropped - self._dropped_logged
        if pending > 0:
            recs.insert(0, {"time": datetime.now(timezone.utc).isoformat(), "event": "dropped", "count": pending})
            self._dropped_logged += pending
        state = (self._prev, self._line_no, self._day, self._file)
        try:
            parts = self._render_here(recs)
        except Exception:  # noqa: BLE001 - a bug here must not half-advance the chain or raise into the proxy
            self._prev, self._line_no, self._day, self._file = state
            log.exception("activity log: a batch could not be rendered; its records are dropped")
            if pending > 0:                   # the marker goes with the next batch, counting these too
                self._dropped_logged -= pending
                recs = recs[1:]
            self.dropped += len(recs)
            if ticket is not None:
                _fire(ticket, False)
            return
        self._seq += 1
        seq, helper, start = self._seq, self._helper, state[0]
        for name, lines in parts:
            if name != self._sent_file:       # a new day file (or the first): the helper opens it
                helper.send(seq, self._protocol.OPEN, name.encode("utf-8"))
                self._sent_file = name
            chunk, size = [], 0
            for line in lines:                # DATA messages of whole lines, each well under the socket's limit
                if size and size + len(line) > MESSAGE_BYTES:
                    helper.send(seq, self._protocol.DATA, b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line)
            helper.send(seq, self._protocol.DATA, b"".join(chunk))
        self._waiting.append(_Batch(seq, ticket, recs, start, self._prev,
                                    {"file": self._file.name, "line": self._line_no, "hash": self._prev}, len(recs)))
        self._unconfirmed += len(recs)
        if not helper.push():                 # the writer thread writes this batch too (no size limit there)
            self._take_back(f"sending to the fsync helper failed ({helper.error}; helper status {helper.proc.poll()})")

    def _render_here(self, recs: list[dict]) -> list[tuple[str, list[bytes]]]:
        """The batch's lines by day file, the chain state advanced (as `_append` does, without
        opening anything: the helper opens the files). A day later than the current file starts a
        new file of 0 lines (`_resume` found the newest file at start, so a later one is new)."""
        out: list[tuple[str, list[bytes]]] = []
        for rec in recs:
            day, line = self._render(dict(rec))
            if self._day is None or day > self._day:
                path = self.directory / chain.file_name(day)
                if path != self._file:
                    self._line_no = 0
                self._day, self._file = day, path
            if not out or out[-1][0] != self._file.name:
                out.append((self._file.name, []))
            out[-1][1].append(line + b"\n")
            self._prev = chain.line_hash(line)
            self._line_no += 1
        return out

    def poll_commits(self) -> None:
        """On the loop: takes an answer the helper already sent, if any (one recv). The proxy calls
        it before it would await a commit future: an answer that arrived in the same loop iteration
        as the response resolves the future at once, and the flow need not be suspended and resumed."""
        if self._fast and self._waiting:
            self._on_answers()

    def _requeue(self, recs: list[dict], ticket) -> None:
        if ticket is not None:
            self.write_group(recs, ticket)
        else:
            for rec in recs:
                self.write(rec)

    def _on_answers(self) -> None:
        """add_reader callback: the helper confirmed batches (or failed, or is gone)."""
        helper = self._helper
        if helper is None:
            return
        upto, failed, gone = helper.answers()
        if failed:
            self.write_errors += 1
            self._take_back("the fsync helper could not write or sync the day file", failed=True)
            return
        waiting, head = self._waiting, None
        while waiting and waiting[0].seq <= upto:
            batch = waiting.popleft()
            self._unconfirmed -= batch.lines
            self.lines_written += batch.lines
            head = batch.head
            if batch.ticket is not None:
                try:
                    _fire(batch.ticket, True)
                except Exception:  # noqa: BLE001 - a caller's ticket must not stop the commit
                    log.exception("activity log commit ticket failed")
        if head is not None:
            self._confirmed = head
        if gone:
            self._take_back(f"the fsync helper exited (status {helper.proc.poll()})")
            return
        if not helper.push():
            self._take_back(f"sending to the fsync helper failed ({helper.error})")
            return
        if self.dropped > self._dropped_logged and self._unconfirmed < self._max_queue:
            self._commit_here([], None)       # the dropped marker as soon as there is room (module doc)
        if head is not None and time.monotonic() - self._checkpointed >= CHECKPOINT_EVERY:
            self._checkpointed = time.monotonic()
            self._put(_Checkpoint(head))      # confirmed lines only: data on disk before its checkpoint

    def _take_back(self, reason: str | None, failed: bool = False) -> None:
        """On the loop: the writer thread commits from here on (module doc). It re-reads the chain
        from disk and finishes the batches the helper did not confirm (`_take_over`); `reason` None
        is a clean stop (close)."""
        if not self._fast:
            return
        if reason is not None:
            log.error("activity log: %s; the writer thread commits from now on (slower: each batch "
                      "waits for the event loop's GIL, docs/security.md)", reason)
        helper, self._helper = self._helper, None
        self._fast = False
        try:
            self._loop.remove_reader(helper.sock.fileno())
        except (RuntimeError, ValueError, OSError):   # the loop is closed already
            pass
        helper.close()
        batches = list(self._waiting)
        self._waiting.clear()
        self._unconfirmed = 0
        self._items.append(_TakeOver(batches, reason or "close", failed))   # past the bound: must arrive
        self._wake_writer()

    def _wait_confirmed(self, timeout: float) -> None:
        """On the loop (flush, close): waits until the helper confirmed every batch sent (blocking
        the loop: only at shutdown or from a caller that asked to wait), then checkpoints."""
        deadline = time.monotonic() + timeout
        while self._fast and self._waiting:
            left = deadline - time.monotonic()
            if left <= 0 or not self._helper.push():
                break
            if select.select([self._helper.sock], [], [], left)[0]:
                self._on_answers()
        if self._fast and self._confirmed is not None:
            self._put(_Checkpoint(self._confirmed))

    def _on_loop(self, fn, timeout: float) -> None:
        """Runs fn on the commit loop's thread and waits for it (up to timeout seconds)."""
        if threading.get_ident() == self._loop_ident or self._loop is None or not self._loop.is_running():
            fn()                              # on the loop, or no loop runs: nothing else touches the chain
            return
        done = threading.Event()

        def run() -> None:
            try:
                fn()
            finally:
                done.set()
        try:
            self._loop.call_soon_threadsafe(run)
        except RuntimeError:                  # closed meanwhile
            fn()
            return
        done.wait(timeout)

    def _wake_writer(self) -> None:
        if self._wake.locked():
            try:
                self._wake.release()
            except RuntimeError:
                pass

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
                    fh.flush()
                    os.fdatasync(fh.fileno())   # the O_DSYNC writes that follow sync their own range only
            self._day, self._file, self._line_no = chain.file_date(newest.name), newest, count
            if last is not None:
                self._prev = chain.line_hash(last)
                return
            for older in reversed(files[:-1]):   # an empty newest file: created, then a crash before its first line
                last = chain.last_line(older)[1]
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
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _DSYNC, 0o600)
        self._fh = os.fdopen(fd, "ab", buffering=0)   # written with os.write, a batch at a time
        self._day, self._file = day, path

    def _render(self, record: dict) -> tuple[date, bytes]:
        day = self._local_day(record)
        record.pop("prev", None)
        record["prev"] = self._prev
        try:
            line = encode_line(record)
        except (TypeError, ValueError) as exc:   # not JSON at all (e.g. a circular value)
            log.error("activity record %s could not be rendered: %s", record.get("request_id"), exc)
            line = encode_line({"time": record.get("time"), "event": "unwritable",
                                "request_id": str(record.get("request_id")), "error": type(exc).__name__,
                                "prev": self._prev})
        return day, line

    def _write_batch(self, records: list[dict]) -> bool:
        """Writes and fsyncs the batch; False when it was given up (the records are counted as
        dropped and a marker follows)."""
        real = len(records)
        pending = self.dropped - self._dropped_logged
        if pending > 0:
            records.insert(0, {"time": datetime.now(timezone.utc).isoformat(), "event": "dropped",
                               "count": pending})
            self._dropped_logged += pending
        for attempt in range(5):  # bounded: a failing disk must not spin the thread forever
            try:
                self._append(records)
                return True
            except OSError as exc:
                self.write_errors += 1
                log.error("activity log write failed (attempt %d): %s", attempt + 1, exc)
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
                self._resume()  # re-read the chain from disk before trying again
        # The marker (if any) was not written either: its count is pending again, plus this batch.
        self._dropped_logged -= max(0, pending)
        self.dropped += real
        log.error("activity log: %d records dropped after repeated write failures", real)
        return False

    def _append(self, records: list[dict]) -> None:
        """Renders the batch and writes each day's part with ONE write (so a crash between writes
        cannot cut a line in two), then fsyncs. The checkpoint follows in `_checkpoint`."""
        prev0, line0, day0, file0, n = self._prev, self._line_no, self._day, self._file, 0
        try:
            chunk: list[bytes] = []
            for rec in records:
                day, line = self._render(dict(rec))
                if self._fh is None or self._day is None or day > self._day:
                    self._write_out(chunk)
                    chunk = []
                    self._open_for(day)
                chunk.append(line + b"\n")
                self._prev = chain.line_hash(line)
                self._line_no += 1
                n += 1
            self._write_out(chunk)
            if self._fh is not None and not _DSYNC:
                os.fdatasync(self._fh.fileno())   # the data and the file size: what a reader needs
        except OSError:
            self._prev, self._line_no, self._day, self._file = prev0, line0, day0, file0
            raise
        self.lines_written += n

    def _write_out(self, chunk: list[bytes]) -> None:
        if not chunk:
            return
        data = memoryview(b"".join(chunk))
        fd = self._fh.fileno()
        while data:
            data = data[os.write(fd, data):]

    def _checkpoint(self) -> None:
        # Data is on disk first, then the checkpoint: after a crash the checkpoint can only lag.
        # Written at most every CHECKPOINT_EVERY seconds (and when the writer stops): a checkpoint
        # per batch doubled the fsyncs of group commit. The cost: a truncation of the last second
        # of lines is not detected by the checkpoint (the chain still detects every edit).
        self._checkpointed = time.monotonic()
        if self._file is None:
            return
        try:
            chain.write_json_atomic(self.directory / chain.HEAD,
                                    {"file": self._file.name, "line": self._line_no, "hash": self._prev})
        except OSError as exc:
            self.write_errors += 1
            log.error("activity log checkpoint not written: %s", exc)

    def _run(self) -> None:
        while True:
            # Sleep until an item is handed over (the lock released by `_put`), or a timeout:
            # DROPPED_WAKE while a dropped marker is pending, IDLE_WAKE otherwise (module doc).
            # Taking the lock also consumes a wake-up for items already queued; one arriving after
            # the drain below releases it again, so none is missed (at worst one empty pass).
            marker_pending = self.dropped > self._dropped_logged
            if not self._wake.acquire(timeout=DROPPED_WAKE if marker_pending else IDLE_WAKE) and not self._items:
                if self.dropped > self._dropped_logged and self._writer_owns:
                    self._guarded_write([], [])   # the marker, promptly (module doc)
                continue
            # Group commit without a window (module doc): take whatever is queued now, no waiting.
            # What arrives while this batch is written and fsynced is the next batch.
            items, pending = [], self._items
            take = pending.popleft
            while pending and len(items) < self._batch:
                items.append(take())
            if not items:
                continue
            if pending:                    # more than a batch queued: come straight back for the rest
                try:
                    self._wake.release()
                except RuntimeError:       # unlocked already
                    pass
            records, tickets, markers, stop = [], [], [], False
            for it in items:
                if isinstance(it, _TakeOver):
                    self._take_over(it)   # before any record: they come after it in the queue
                elif isinstance(it, _Checkpoint):
                    self._write_head(it.head)
                elif it is _STOP:
                    stop = True
                elif isinstance(it, _Flush):
                    markers.append(it)
                elif isinstance(it, _Item):
                    records.extend(it.records)
                    tickets.append(it.commit)
                else:
                    records.append(it)
            if records or (self.dropped > self._dropped_logged and self._writer_owns):
                self._guarded_write(records, tickets)
            if (markers or stop) and self._writer_owns and self._checkpointed < self._last_write:
                self._checkpoint()   # flush/close: the checkpoint is current
            for m in markers:
                m.event.set()
            if stop:
                return

    def _take_over(self, item: _TakeOver) -> None:
        """The chain comes back from the loop (module doc). The helper may have written some of the
        batches it did not confirm: the chain on disk says which (the last line's hash is the end of
        one batch; hashes do not repeat). Those are synced and their tickets fired; the others are
        written here, as any batch, and fire when they are on disk. After a failed write or
        fdatasync no ticket of the helper's batches says durable (syncer.py: a retried fdatasync
        can lie); a line cut short by the helper's death is ended by `_resume`, and then the batch
        holding it is written again whole (its first lines may appear twice; verify still passes)."""
        self._resume()                       # re-read the chain from disk; ends a line cut short
        batches = item.batches
        on_disk = 0
        for i, b in enumerate(batches):
            if b.end == self._prev:
                on_disk = i + 1
        if batches and on_disk == 0 and batches[0].start != self._prev:
            log.error("activity log: the fsync helper left a batch half written; its lines are written again")
        ok = not item.failed
        if on_disk:
            try:
                for name in sorted({b.head["file"] for b in batches[:on_disk]}):
                    _fdatasync_path(self.directory / name)
            except OSError as exc:
                ok = False
                self.write_errors += 1
                log.error("activity log: syncing the lines the helper wrote failed: %s", exc)
        self._writer_owns = True
        self._last_write = time.monotonic()  # a flush or close writes a current checkpoint
        self.lines_written += sum(b.lines for b in batches[:on_disk])
        self._fire_all([b.ticket for b in batches[:on_disk] if b.ticket is not None], ok)
        for b in batches[on_disk:]:
            self._guarded_write(list(b.records), [b.ticket] if b.ticket is not None else [])

    def _write_head(self, head: dict) -> None:
        # The lines named are on disk already (the helper said so, or a flush synced them): the
        # checkpoint can only lag, as in `_checkpoint`.
        try:
            chain.write_json_atomic(self.directory / chain.HEAD, head)
        except OSError as exc:
            self.write_errors += 1
            log.error("activity log checkpoint not written: %s", exc)

    def _fire_all(self, tickets: list, ok: bool) -> None:
        by_loop: dict = {}
        for ticket in tickets:
            try:
                if isinstance(ticket, asyncio.Future):
                    by_loop.setdefault(ticket.get_loop(), []).append(ticket)
                else:
                    ticket(ok)
            except Exception:  # noqa: BLE001 - a caller's ticket must not stop the writer
                log.exception("activity log commit ticket failed")
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, futures, ok)
            except RuntimeError:   # the loop is closed: nobody is waiting any more
                pass

    def _guarded_write(self, records: list[dict], tickets: list) -> None:
        ok = False
        try:
            ok = self._write_batch(records)
            self._last_write = time.monotonic()
        except Exception:  # noqa: BLE001 - the writer thread must survive anything
            log.exception("activity log writer error")
            self.dropped += len(records)
        self._fire_all(tickets, ok)
        if ok and time.monotonic() - self._checkpointed >= CHECKPOINT_EVERY:
            self._checkpoint()   # after the waiting flows were released: it is not on their path
