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

import select

from proxy_addons.filewatch import WakePipe

CHANNEL = "crossingguard_sessions"   # agent/store/dialect.py PostgresDialect.SESSIONS_CHANNEL


class ListenLost(Exception):
    pass


class PgListen:
    def __init__(self, conn):
        self._conn = conn
        self._wake = WakePipe()

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
            ready, _, _ = select.select([fd, self._wake.fd], [], [], max(0.0, timeout))
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
        if self._wake.fd in ready:
            self._wake.drain()
        return hit

    def poke(self) -> None:
        self._wake.poke()

    def close(self) -> None:
        if not self._wake.close():
            return
        try:
            self._conn.close()
        except Exception:   # noqa: BLE001
            pass
