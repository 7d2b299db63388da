"""The small seam between the store's SQL and a database engine.

The store writes portable SQL (TEXT/INTEGER columns, `?` placeholders, `INSERT ... ON CONFLICT
DO NOTHING`, which SQLite >= 3.24 and PostgreSQL both speak). A dialect only knows how to
connect, how to start a write transaction that serialises writers (the audit chain reads the
head and appends under one lock), how to spell placeholders, and which driver errors mean
"the database is unavailable right now" (the store then spools instead of losing the write).

Rules for SQL written through this seam (agent/store/store.py, lifecycle.py, ...), so one
statement runs on both engines:
  - placeholders are `?`, rewritten by `sql()`; with parameters, a literal `%` must not appear
    in the statement text (psycopg reads it as a placeholder): pass LIKE patterns as parameters;
  - LIKE with an escape character says so: `LIKE ? ESCAPE '\\'` (SQLite has no default escape);
  - portable types only (TEXT, INTEGER); timestamps are fixed-width UTC ISO strings, JSON is TEXT;
  - a row read and then changed in one write transaction is read with `+ dialect.lock_suffix`
    (`FOR UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE already locks the whole database).

PostgreSQL (psycopg 3, extra `postgres`): autocommit connections with explicit BEGIN/COMMIT,
`lock_timeout` set to the store's timeout (a write stuck behind a lock is spooled, as on
SQLite), migrations serialised by a transaction-scoped advisory lock.
"""
from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from urllib.parse import urlparse


class Unavailable(Exception):
    """The database cannot take this operation now (locked past the timeout, disk error,
    cannot connect). Writes that can be spooled are spooled; reads report it."""


class Dialect:
    name = "abstract"
    placeholder = "?"
    lock_suffix = ""          # appended to the SELECT that reads the audit head inside a write

    def connect(self):
        raise NotImplementedError

    def begin_write(self, conn) -> None:
        raise NotImplementedError

    def lock_migrations(self, conn) -> None:
        """Inside the migration's write transaction: keep a second process from migrating too."""

    def has_table(self, conn, name: str) -> bool:
        raise NotImplementedError

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def is_unavailable(self, exc: BaseException) -> bool:
        raise NotImplementedError

    def secure(self) -> None:
        """Restrict who can read the data at rest (FERPA); nothing to do for a server."""

    def describe(self) -> str:
        return self.name

    # A query whose answer changes whenever a teacher session is opened or closed by anyone, and
    # is cheap enough to ask a few times a second (the session cache's worker thread does).
    # count(closed) grows when a session is closed (closing sets it once); count(*) when one opens.
    SESSIONS_TOKEN_SQL = "SELECT count(*), count(closed), max(created) FROM teacher_sessions"

    def sessions_token(self, conn) -> tuple:
        return tuple(conn.execute(self.SESSIONS_TOKEN_SQL).fetchone())

    def notify_sessions(self, conn) -> None:
        """Inside a transaction that opened or closed a teacher session: tell listening proxies
        (proxy_addons/pgnotify.py). Nothing to do where changes are seen otherwise (SQLite)."""


class SQLiteDialect(Dialect):
    name = "sqlite"

    def __init__(self, path: Path, timeout: float = 5.0):
        self.path = Path(path)
        self.timeout = timeout

    def connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Create the file 0600 before SQLite does, so student data is never world-readable,
        # not even for the instant between creation and a chmod. SQLite gives the -wal and
        # -shm files the database file's mode.
        if not self.path.exists():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (explicit write transactions).
        conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = %d" % int(self.timeout * 1000))
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        self.secure()
        return conn

    def secure(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            try:
                if p.exists() and stat.S_IMODE(p.stat().st_mode) != 0o600:
                    os.chmod(p, 0o600)
            except OSError:
                pass  # not our file to fix (e.g. read-only mount); opening still works or fails

    def has_table(self, conn, name: str) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            (name,)).fetchone() is not None

    def begin_write(self, conn) -> None:
        # IMMEDIATE takes the write lock now, so two processes cannot both read the same audit
        # head and fork the chain.
        conn.execute("BEGIN IMMEDIATE")

    def is_unavailable(self, exc: BaseException) -> bool:
        # OperationalError: locked/busy past the timeout, unable to open, disk I/O error,
        # read-only database. DatabaseError also covers a corrupt or vanished file.
        # Not IntegrityError/ProgrammingError (also DatabaseError subclasses): those are bugs in
        # the record or the SQL, and spooling them would only replay the same failure forever.
        return (isinstance(exc, (sqlite3.OperationalError, OSError))
                or type(exc) is sqlite3.DatabaseError)

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def sessions_token(self, conn) -> tuple:
        # PRAGMA data_version changes when ANY other connection (another process: the CLI, the
        # review app) committed to the database: O(1), no table read. It also changes for
        # incidents; the cache then reloads the (small) session list once, which is harmless.
        return (conn.execute("PRAGMA data_version").fetchone()[0],)


class PostgresDialect(Dialect):
    name = "postgresql"
    placeholder = "%s"
    lock_suffix = " FOR UPDATE"
    # pg_advisory_xact_lock key for migrations: any constant; this one spells "CGMIGRAT".
    MIGRATION_LOCK = 0x43474D4947524154

    def __init__(self, url: str, timeout: float = 5.0):
        self.url = url
        self.timeout = timeout

    def connect(self):
        try:
            import psycopg  # optional dependency: only PostgreSQL deployments need it
        except ImportError as exc:
            raise Unavailable("the PostgreSQL driver psycopg is not installed "
                              "(pip install 'crossingguard[postgres]')") from exc
        try:
            # lock_timeout: a write waiting behind another transaction's lock gives up after the
            # store's timeout and is spooled (same contract as SQLite's busy timeout).
            return psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.timeout)),
                                   options=f"-c lock_timeout={int(self.timeout * 1000)}",
                                   application_name="crossingguard")
        except psycopg.Error as exc:
            raise Unavailable(f"cannot connect to PostgreSQL: {_without_password(str(exc), self.url)}") from exc

    def begin_write(self, conn) -> None:
        conn.execute("BEGIN")

    SESSIONS_CHANNEL = "crossingguard_sessions"

    def notify_sessions(self, conn) -> None:
        # Delivered at COMMIT, and only if the transaction commits.
        conn.execute(f"NOTIFY {self.SESSIONS_CHANNEL}")

    def lock_migrations(self, conn) -> None:
        # Transaction-scoped: released by the COMMIT/ROLLBACK that ends the migration, even if
        # the process dies midway (the server ends the session). Taken before any DDL, so two
        # processes never race on CREATE TABLE (PostgreSQL's catalog would report a duplicate).
        conn.execute("SELECT pg_advisory_xact_lock(%s)" % self.MIGRATION_LOCK)

    def has_table(self, conn, name: str) -> bool:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]

    def is_unavailable(self, exc: BaseException) -> bool:
        if isinstance(exc, Unavailable):
            return True
        try:
            import psycopg
        except ImportError:
            return False
        # OperationalError: connection refused or lost, server shutting down (AdminShutdown),
        # lock timeout (LockNotAvailable), too many connections. InterfaceError: a closed
        # connection. Not IntegrityError/ProgrammingError: a bug in the record or the SQL.
        return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))

    def describe(self) -> str:
        u = urlparse(self.url)
        return f"postgresql://{u.hostname or ''}{':%d' % u.port if u.port else ''}{u.path}"  # no password


def _without_password(message: str, url: str) -> str:
    password = urlparse(url).password
    return message.replace(password, "***") if password else message


def dialect_for(url: str | None, home: Path, timeout: float = 5.0) -> Dialect:
    """None or "sqlite://" -> SQLite at home/crossingguard.db; "sqlite:///abs/path.db" -> that file;
    "postgresql://..." (or "postgres://") -> PostgreSQL."""
    if not url or url in ("sqlite://", "sqlite:///", "sqlite"):
        return SQLiteDialect(Path(home) / "crossingguard.db", timeout)
    if url.startswith("sqlite:///"):
        return SQLiteDialect(Path(url[len("sqlite:///"):] if url.startswith("sqlite:////")
                                  else Path(home) / url[len("sqlite:///"):]), timeout)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDialect(url, timeout)
    from agent.errors import UsageError
    raise UsageError(f"store url {url!r}: expected sqlite:///PATH or postgresql://...")
