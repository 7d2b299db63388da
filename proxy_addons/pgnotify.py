"""Wait for teacher-session changes in PostgreSQL without polling: LISTEN/NOTIFY.

`Store.open_session`/`close_session` send `NOTIFY crossingguard_sessions` inside their transaction
(agent/store/dialect.py), so PostgreSQL delivers it to every listener when, and only when, the
change commits, from any machine (the CLI on one box, the review app on another). `PgListen` holds
one extra connection per proxy process that LISTENs on that channel and offers the same interface
as `FileWatch` (proxy_addons/filewatch.py), which the session cache uses for SQLite:
`wait(timeout) -> bool`, `poke()`, `close()`.

A connection that breaks makes `wait` raise `ListenLost`; the cache then polls again until a new
listener connects. Writers that do not notify (an older CrossingGuard during a rolling upgrade, or
SQL by hand) are caught by the cache's full reload every few seconds. Pure: no mitmproxy.
"""
from __future__ import annotations

import os
import select
import threading

CHANNEL = "crossingguard_sessions"   # agent/store/dialect.py PostgresDialect.SESSIONS_CHANNEL


class ListenLost(Exception):
    pass


class PgListen:
    def __init__(self, conn):
        self._conn = conn
        self._poke_r, self._poke_w = os.pipe()
        os.set_blocking(self._poke_r, False)
        os.set_blocking(self._poke_w, False)
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, url: str, timeout: float = 5.0) -> "PgListen | None":
        """A listening connection, or None (no driver, database unreachable: the caller polls)."""
        try:
            import psycopg
            conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)),
                                   application_name="crossingguard-sessions")
            conn.execute(f"LISTEN {CHANNEL}")
        except Exception:   # noqa: BLE001 - any failure means "poll instead", never a crash
            return None
        return cls(conn)

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when a session change was notified, False on
        timeout or poke(). Raises ListenLost when the connection broke."""
        try:
            fd = self._conn.fileno()
            ready, _, _ = select.select([fd, self._poke_r], [], [], max(0.0, timeout))
        except InterruptedError:
            return False
        except Exception as exc:   # noqa: BLE001 - a closed connection has no descriptor
            raise ListenLost(str(exc)) from exc
        hit = False
        if fd in ready:
            pg = self._conn.pgconn
            try:
                pg.consume_input()
            except Exception as exc:   # noqa: BLE001 - psycopg.OperationalError and friends
                raise ListenLost(str(exc)) from exc
            while pg.notifies() is not None:
                hit = True
            if not hit and pg.status != 0:          # CONNECTION_OK == 0: readable because it closed
                raise ListenLost("the listening connection closed")
        if self._poke_r in ready:
            try:
                while os.read(self._poke_r, 512):
                    pass
            except (BlockingIOError, OSError):
                pass
        return hit

    def poke(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                os.write(self._poke_w, b"\0")
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._poke_r, self._poke_w):
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            self._conn.close()
        except Exception:   # noqa: BLE001
            pass
