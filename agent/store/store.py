"""The store: teacher sessions, incidents and the audit trail over one database connection.

Threading: one connection guarded by a lock (the proxy writes incidents from worker threads,
the CLI from its main thread); SQLite in WAL mode lets other processes read meanwhile.

Availability (write down where it is decided): incidents and audit entries must never be lost,
so when the database is unavailable they are appended to the spool and replayed, in order,
before the next write that reaches the database (or on `replay_spool()`). Teacher sessions are
not spooled: opening one must be visible to the proxy at once, so a teacher gets a clear error
instead of a session that silently does not exist. Reads report `StoreUnavailable`.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from agent.errors import CrossingGuardError
from agent.store import audit as auditchain
from agent.store.dialect import Dialect, Unavailable
from agent.store.lifecycle import LifecycleMixin
from agent.store.incident import COLUMN_LIST, ROW_COLUMNS, Incident, from_row, iso, new_id, parse_iso, to_row, utc
from agent.store.schema import LATEST, MIGRATIONS
from agent.store.spool import Spool, SpoolEntry

log = logging.getLogger("crossingguard.store")




def is_lock_error(exc: BaseException) -> bool:
    """A lock the database could not take now (SQLite "database is locked"/"busy")."""
    text = str(exc)
    return "locked" in text or "busy" in text

class StoreUnavailable(CrossingGuardError):
    """The database cannot be reached and this operation cannot be spooled."""


def _session_cls():
    # The policy engine owns TeacherSession; import late so `agent.store` imports stay light.
    from agent.policy.sessions import TeacherSession
    return TeacherSession


class Store(LifecycleMixin):  # lifecycle.py: the review app's incident lifecycle and accounts
    def __init__(self, dialect: Dialect, home: Path):
        self.dialect = dialect
        self.home = Path(home)
        self.spool = Spool(self.home / "spool")
        self.last_error: str | None = None
        self._lock = threading.RLock()
        self._conn = None
        self._retry_at = 0.0      # monotonic time before which a slow-failing connect is not retried
        self._connect()
        # The gauge reads the spool files (not this Store), so it stays true after the Store that
        # registered it is closed; any store over the same home reports the same number.
        from agent.metrics import SPOOL_DEPTH, STATE
        STATE.register(SPOOL_DEPTH, "Incident and audit records waiting in the spool for the database",
                       self.spool.depth, "gauge")

    # ------------------------------------------------------------------ connection
    # A connect that failed only after waiting (a database host that does not answer, rather than
    # one that refuses) is not tried again for this long: every incident would otherwise wait the
    # whole connect timeout before being spooled. Fast failures are retried at once (cheap).
    SLOW_FAILURE = 0.5
    HOLDOFF = 5.0

    def _connect(self, force: bool = False):
        """Connect and migrate; on failure stay open in spool-only mode (returns None)."""
        if self._conn is not None:
            return self._conn
        if not force and time.monotonic() < self._retry_at:
            return None
        started = time.monotonic()
        while True:
            try:
                conn = self._open()
            except Exception as exc:  # noqa: BLE001 - classified just below
                # SQLite answers "database is locked" at once, without waiting out its busy
                # timeout, in a few cases when several processes open a fresh database together
                # (switching it to WAL, a read lock that must become the write lock): those are
                # tried again until the store's timeout, as a lock wait would have been.
                if is_lock_error(exc) and time.monotonic() - started < getattr(self.dialect, "timeout", 0.0):
                    time.sleep(0.05)
                    continue
                if isinstance(exc, Unavailable) or self.dialect.is_unavailable(exc):
                    return self._down(exc, started)
                raise
            self._conn = conn
            self.last_error = None
            return conn

    def _open(self):
        """A connection with every migration applied (closed again if migrating fails)."""
        conn = self.dialect.connect()
        try:
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _down(self, exc: BaseException, started: float | None = None):
        if started is not None and time.monotonic() - started > self.SLOW_FAILURE:
            self._retry_at = time.monotonic() + self.HOLDOFF
        msg = f"{self.dialect.describe()}: {exc}"
        if msg != self.last_error:
            log.warning("database unavailable, spooling writes under %s: %s", self.spool.directory, msg)
        self.last_error = msg
        return None

    def _migrate(self, conn) -> None:
        """Apply the migrations this database lacks, safely when several processes start at once.

        Everything happens in one write transaction that first takes the dialect's migration
        lock (SQLite: BEGIN IMMEDIATE itself; PostgreSQL: an advisory lock), so a second process
        waits, then finds the work done. Versions are applied by what is missing, not by "above
        the highest", so migrations merged from parallel branches (e.g. 2 after 3) still run."""
        d = self.dialect
        if d.has_table(conn, "schema_version") and self._pending(conn) == []:
            d.secure()
            return  # common case: nothing to do, no write lock taken
        d.begin_write(conn)
        try:
            d.lock_migrations(conn)
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                         "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
            for version, statements in self._pending(conn):
                for stmt in statements:
                    conn.execute(stmt)
                conn.execute(d.sql("INSERT INTO schema_version (version, applied) VALUES (?, ?)"),
                             (version, iso(datetime.now(timezone.utc))))
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - a lost connection; the original error matters
                pass
            raise
        d.secure()

    def _pending(self, conn) -> list[tuple[int, list[str]]]:
        applied = {r[0] for r in conn.execute("SELECT version FROM schema_version").fetchall()}
        if applied and max(applied) > LATEST:
            raise CrossingGuardError(f"{self.dialect.describe()}: schema version {max(applied)} is newer than "
                                     f"this crossingguard understands ({LATEST}); upgrade crossingguard")
        return [(v, stmts) for v, stmts in MIGRATIONS if v not in applied]

    def _write(self, fn, single_statement: bool = False):
        """Run fn(conn) in one write transaction; Unavailable if the database cannot take it.

        single_statement: fn issues exactly one statement, which the database applies atomically
        on its own (autocommit), so no BEGIN/COMMIT round trips (3x faster on PostgreSQL)."""
        conn = self._connect()
        if conn is None:
            raise Unavailable(self.last_error or "database unavailable")
        if single_statement:
            try:
                return fn(conn)
            except Exception as exc:
                if self.dialect.is_unavailable(exc):
                    self._reset(exc)
                    raise Unavailable(self.last_error) from exc
                raise
        try:
            self.dialect.begin_write(conn)
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - the original error matters more
                    pass
                raise
        except Exception as exc:
            if self.dialect.is_unavailable(exc):
                self._reset(exc)
                raise Unavailable(self.last_error) from exc
            raise

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            conn = self._connect()
            if conn is None:
                raise StoreUnavailable(f"database unavailable: {self.last_error}")
            try:
                return conn.execute(self.dialect.sql(sql), params).fetchall()
            except Exception as exc:
                if self.dialect.is_unavailable(exc):
                    self._reset(exc)
                    raise StoreUnavailable(f"database unavailable: {self.last_error}") from exc
                raise

    def _reset(self, exc: BaseException) -> None:
        """Drop a connection that failed, so the next call reconnects (the disk may come back)."""
        self._down(exc)
        # A lock timeout leaves the connection healthy; only I/O-type failures warrant a reconnect.
        if is_lock_error(exc):
            return
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001
            pass
        self._conn = None

    # ------------------------------------------------------------------ spool
    @property
    def spool_depth(self) -> int:
        return self.spool.depth()

    def replay_spool(self) -> int:
        """Replay spooled records into the database, in order. Returns how many were applied;
        raises StoreUnavailable if the database is still down (the records stay spooled)."""
        with self._lock:
            try:
                return self._replay(explicit=True)
            except Unavailable as exc:
                raise StoreUnavailable(f"database unavailable, spool kept: {exc}") from exc

    def _replay(self, explicit: bool = False) -> int:
        if not self.spool.files():
            return 0
        if self._connect(force=explicit) is None:
            raise Unavailable(self.last_error or "database unavailable")
        n = self.spool.replay(self._apply_spooled)
        if n:
            log.info("replayed %d spooled records into %s", n, self.dialect.describe())
        return n

    def _apply_spooled(self, entry: SpoolEntry) -> None:
        try:
            if entry.kind == "incident":
                inc = Incident.from_record(entry.payload)
                self._write(lambda conn: self._insert_incident(conn, inc), single_statement=True)
            elif entry.kind == "audit":
                p = entry.payload
                self._write(lambda conn: self._append_audit(conn, p["entry_id"], p["at"], p["actor"],
                                                            p["action"], p["target"], p["detail"]))
            else:
                raise ValueError(f"unknown record kind {entry.kind!r}")
        except Unavailable:
            raise  # the database went away again: stop, the rest stays spooled
        except Exception as exc:  # noqa: BLE001 - one bad record must not block every later write
            log.error("spooled %s record cannot be stored, kept in spool/rejected.jsonl: %s", entry.kind, exc)
            self.spool.reject_entry(entry, f"{type(exc).__name__}: {exc}")

    def _spoolable(self, kind: str, payload: dict, write, single_statement: bool = False) -> None:
        """Write through the database if it is up (replaying older spooled records first, so the
        order is kept); otherwise append to the spool. Either way the record is durable."""
        with self._lock:
            try:
                try:
                    self._replay()
                except Unavailable:
                    raise
                except Exception:  # noqa: BLE001 - trouble reading the spool must not stop new writes
                    log.exception("spool replay failed; the spool is kept for the next attempt")
                self._write(write, single_statement)
            except Unavailable:
                self.spool.append(kind, payload)

    # ------------------------------------------------------------------ teacher sessions
    def open_session(self, teacher: str, class_id: str, platform: str, starts: datetime, minutes: int):
        if minutes <= 0:
            raise ValueError("minutes must be positive")
        TeacherSession = _session_cls()
        starts = utc(starts)
        session = TeacherSession(id=new_id("ses"), teacher=teacher, class_id=class_id, platform=platform,
                                 starts=starts, ends=starts + timedelta(minutes=minutes))
        now = datetime.now(timezone.utc)

        def write(conn):
            conn.execute(self.dialect.sql(
                "INSERT INTO teacher_sessions (id, teacher, class_id, platform, starts, ends, closed, created) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL, ?)"),
                (session.id, teacher, class_id, platform, iso(session.starts), iso(session.ends), iso(now)))
            self._append_audit(conn, new_id("aud"), iso(now), teacher, "session.open", session.id,
                               auditchain.canonical_detail(self._session_detail(session)))
            self.dialect.notify_sessions(conn)

        self._session_write(write)
        return session

    def close_session(self, session_id: str, at: datetime, actor: str = "cli"):
        at = utc(at)
        now = datetime.now(timezone.utc)

        def write(conn):
            row = conn.execute(self.dialect.sql(
                "SELECT id, teacher, class_id, platform, starts, ends, closed FROM teacher_sessions "
                "WHERE id = ?" + self.dialect.lock_suffix), (session_id,)).fetchone()
            if row is None:
                return None
            session = self._session(row)
            if session.closed is None:
                conn.execute(self.dialect.sql("UPDATE teacher_sessions SET closed = ? WHERE id = ?"),
                             (iso(at), session_id))
                session = self._session(row[:6] + (iso(at),))
                self._append_audit(conn, new_id("aud"), iso(now), actor, "session.close", session_id,
                                   auditchain.canonical_detail(self._session_detail(session)))
                self.dialect.notify_sessions(conn)
            return session

        return self._session_write(write)

    def _session_write(self, write):
        with self._lock:
            try:
                self._replay()  # keep the audit trail in order behind anything spooled
                return self._write(write)
            except Unavailable as exc:
                raise StoreUnavailable(f"cannot record the teacher session, database unavailable: {exc}") from exc

    def sessions(self, active_at: datetime | None = None) -> list:
        """All sessions (active_at None), or those active at that instant, oldest first."""
        cols = "SELECT id, teacher, class_id, platform, starts, ends, closed FROM teacher_sessions"
        if active_at is None:
            rows = self._read(cols + " ORDER BY starts, id")
            return [self._session(r) for r in rows]
        at = utc(active_at)
        rows = self._read(cols + " WHERE starts <= ? AND ends > ? ORDER BY starts, id", (iso(at), iso(at)))
        # The SQL narrows by time; the policy's own definition of "active" decides.
        return [s for s in (self._session(r) for r in rows) if s.active_at(at)]

    def sessions_token(self) -> tuple:
        """A value that changes when teacher sessions may have changed (another process opened or
        closed one). Cheap: a cache asks it every ~200 ms and reloads `sessions()` only when it
        changed (proxy_addons/sessions.py)."""
        with self._lock:
            conn = self._connect()
            if conn is None:
                raise StoreUnavailable(f"database unavailable: {self.last_error}")
            try:
                return self.dialect.sessions_token(conn)
            except Exception as exc:
                if self.dialect.is_unavailable(exc):
                    self._reset(exc)
                    raise StoreUnavailable(f"database unavailable: {self.last_error}") from exc
                raise

    @staticmethod
    def _session(row):
        return _session_cls()(id=row[0], teacher=row[1], class_id=row[2], platform=row[3],
                              starts=parse_iso(row[4]), ends=parse_iso(row[5]), closed=parse_iso(row[6]))

    @staticmethod
    def _session_detail(s) -> dict:
        return {"teacher": s.teacher, "class": s.class_id, "platform": s.platform,
                "starts": iso(s.starts), "ends": iso(s.ends), "closed": iso(s.closed)}

    # ------------------------------------------------------------------ incidents
    def add_incident(self, incident: Incident) -> str:
        # One INSERT ... ON CONFLICT DO NOTHING: atomic by itself, idempotent on replay.
        self._spoolable("incident", incident.to_record(), lambda conn: self._insert_incident(conn, incident),
                        single_statement=True)
        return incident.id

    def _insert_incident(self, conn, inc: Incident) -> None:
        marks = ", ".join("?" * len(ROW_COLUMNS))
        conn.execute(self.dialect.sql(
            f"INSERT INTO incidents ({COLUMN_LIST}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING"), to_row(inc))

    def incidents(self, since: datetime | None = None, status: str | None = None) -> list[Incident]:
        sql = f"SELECT {COLUMN_LIST} FROM incidents"
        where, params = [], []
        if since is not None:
            where.append("created >= ?")
            params.append(iso(since))
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._read(sql + " ORDER BY created, id", tuple(params))
        return [from_row(r) for r in rows]

    # ------------------------------------------------------------------ audit trail
    def audit(self, actor: str, action: str, target: str, detail: dict | None = None) -> None:
        entry_id, at, det = new_id("aud"), iso(datetime.now(timezone.utc)), auditchain.canonical_detail(detail)
        payload = {"entry_id": entry_id, "at": at, "actor": actor, "action": action, "target": target,
                   "detail": det}
        self._spoolable("audit", payload,
                        lambda conn: self._append_audit(conn, entry_id, at, actor, action, target, det))

    def _append_audit(self, conn, entry_id: str, at: str, actor: str, action: str, target: str,
                      detail: str) -> None:
        """Append one row under the open write transaction (which serialises writers)."""
        d = self.dialect
        if conn.execute(d.sql("SELECT 1 FROM audit WHERE entry_id = ?"), (entry_id,)).fetchone():
            return  # already replayed from the spool
        seq, prev = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1" + d.lock_suffix).fetchone()
        seq += 1
        h = auditchain.row_hash(seq, entry_id, at, actor, action, target, detail, prev)
        conn.execute(d.sql("INSERT INTO audit (seq, entry_id, at, actor, action, target, detail, prev, hash) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                     (seq, entry_id, at, actor, action, target, detail, prev, h))
        conn.execute(d.sql("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"), (seq, h))

    def _audit_rows(self, since: datetime | None = None) -> list[dict]:
        sql = "SELECT seq, entry_id, at, actor, action, target, detail, prev, hash FROM audit"
        params: tuple = ()
        if since is not None:
            sql += " WHERE at >= ?"
            params = (iso(since),)
        keys = ("seq", "entry_id", "at", "actor", "action", "target", "detail", "prev", "hash")
        return [dict(zip(keys, r)) for r in self._read(sql + " ORDER BY seq", params)]

    def audit_entries(self, since: datetime | None = None) -> list[dict]:
        out = []
        for row in self._audit_rows(since):
            row = dict(row)
            row["detail"] = json.loads(row["detail"])
            out.append(row)
        return out

    def verify_audit(self) -> list[str]:
        """[] when the audit trail is intact; otherwise each problem, naming the row's seq."""
        head = self._read("SELECT seq, hash FROM audit_head WHERE id = 1")
        return auditchain.verify_rows(self._audit_rows(), tuple(head[0]) if head else None)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
