"""Wait for a file to change without polling it: Linux inotify through ctypes (no dependency).

The teacher-session cache (proxy_addons/sessions.py) used to ask SQLite for its change token five
times a second in every worker, each time taking and releasing SQLite's file locks. With SQLite in
WAL mode every commit by any process appends to `<db>-wal` (a checkpoint writes `<db>`; the last
connection to close deletes the WAL and the next one creates it), so a watch on the database's
directory for those two names wakes the cache exactly when another process committed, and never
otherwise. Readers only touch `<db>-shm`, which is not watched, so the cache's own reads (and other
workers' reads) do not wake it.

`FileWatch.open()` returns None where inotify is missing (not Linux, no libc symbol, the per-user
watch limit reached): the caller then polls as before. `poke()` ends a `wait()` from another thread
(stop, an explicit refresh). Pure: no mitmproxy.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import threading
from pathlib import Path

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE
_EVENT = struct.Struct("iIII")      # wd, mask, cookie, len; then `len` bytes of NUL-padded name


def changed_names(buf: bytes) -> tuple[set[str], bool]:
    """The file names in a buffer of inotify events, and whether the kernel's queue overflowed
    (then any file may have changed)."""
    names, overflow, off = set(), False, 0
    while off + _EVENT.size <= len(buf):
        _wd, mask, _cookie, length = _EVENT.unpack_from(buf, off)
        off += _EVENT.size
        if mask & IN_Q_OVERFLOW:
            overflow = True
        if length:
            names.add(buf[off:off + length].rstrip(b"\0").decode("utf-8", "surrogateescape"))
        off += length
    return names, overflow


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch     # noqa: B018 - present?
        return libc
    except (OSError, AttributeError):
        return None


class WakePipe:
    """What ends a `select()` early from another thread: `fd` to select on, `poke()` to wake it,
    `drain()` after waking. Shared by FileWatch and PgListen (proxy_addons/pgnotify.py)."""

    def __init__(self) -> None:
        self.fd, self._w = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._w, False)
        self._lock = threading.Lock()     # poke() from other threads vs close(): no write to a reused fd
        self.closed = False

    def poke(self) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                os.write(self._w, b"\0")
            except OSError:
                pass                   # full: already poked

    def drain(self) -> None:
        try:
            while os.read(self.fd, 512):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self, *also: int) -> bool:
        """Close the pipe (and the descriptors in `also`) once; False when already closed."""
        with self._lock:
            if self.closed:
                return False
            self.closed = True
            for fd in (*also, self.fd, self._w):
                try:
                    os.close(fd)
                except OSError:
                    pass
            return True


class FileWatch:
    def __init__(self, fd: int, names: frozenset[str]):
        self._fd = fd
        self.names = names
        self._wake = WakePipe()

    @classmethod
    def open(cls, directory: Path, names) -> "FileWatch | None":
        """A watch for changes to `names` directly inside `directory`, or None (module doc)."""
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return None
        if libc.inotify_add_watch(fd, os.fsencode(str(directory)), MASK) < 0:
            os.close(fd)
            return None
        return cls(fd, frozenset(names))

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when one of the names changed (or may have: queue
        overflow), False on timeout or poke()."""
        try:
            ready, _, _ = select.select([self._fd, self._wake.fd], [], [], max(0.0, timeout))
        except InterruptedError:
            return False
        hit = False
        if self._fd in ready:
            hit = self._drain()
        if self._wake.fd in ready:
            self._wake.drain()
        return hit

    def _drain(self) -> bool:
        hit = False
        while True:
            try:
                buf = os.read(self._fd, 65536)
            except (BlockingIOError, InterruptedError):
                return hit
            if not buf:
                return hit
            names, overflow = changed_names(buf)
            hit = hit or overflow or bool(names & self.names)

    def poke(self) -> None:
        self._wake.poke()

    def close(self) -> None:
        self._wake.close(self._fd)
