"""A throw-away PostgreSQL cluster for tests: `initdb` + `pg_ctl` on 127.0.0.1, a free port,
data in a temporary directory, removed on exit.

    reason = postgres_unavailable()          # None, or why not (and how to install)
    with PostgresCluster() as pg:
        pg.url                                # postgresql://cg:PW@127.0.0.1:PORT/postgres
        pg.create_database("t1")              # -> URL of a fresh database
        pg.stop(); pg.start()                 # an outage (same port, same data)

PostgreSQL refuses to run as root, so when the tests run as root the server runs as an
unprivileged system user through `runuser -u USER`: `postgres` (Debian's package creates it) if
it exists, else `cgpgtest`, created here with `useradd --system`. As a normal user the binaries run
directly. The server listens on 127.0.0.1 only, its Unix socket lives in the data directory, and
the superuser has a random password (scram-sha-256), so nothing else on the machine can use it.
Durability is turned off (fsync, synchronous_commit): a test cluster trades crash safety for speed.
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

BIN_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
            "/usr/lib/postgresql/14/bin", "/usr/lib/postgresql/13/bin", "/usr/local/bin", "/usr/bin")
SERVER_USERS = ("postgres", "cgpgtest")
SUPERUSER = "cg"
HOW_TO = ("install PostgreSQL (Debian: `apt-get install -y postgresql`; .ci/run does this) and the "
          "driver (`pip install -e '.[test]'` pulls psycopg)")


def find_bin(name: str) -> str | None:
    env = os.environ.get("CROSSINGGUARD_PG_BIN")
    for d in ((env,) if env else ()) + BIN_DIRS:
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return shutil.which(name)


def _driver_missing() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the PostgreSQL driver psycopg is not installed"
    return None


def postgres_unavailable() -> str | None:
    """None when a throw-away cluster can be started here; otherwise why not, and how to fix it."""
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if find_bin(b) is None]
    if missing:
        return f"PostgreSQL server binaries not found ({', '.join(missing)}): {HOW_TO}"
    drv = _driver_missing()
    if drv:
        return f"{drv}: {HOW_TO}"
    if os.geteuid() == 0 and _server_user(create=False) is None and shutil.which("useradd") is None:
        return ("running as root, no unprivileged user for PostgreSQL (postgres/cgpgtest) and no "
                "useradd to create one: create a system user `cgpgtest`, or run the tests as a normal user")
    return None


def _server_user(create: bool) -> str | None:
    """The unprivileged account the server runs as when we are root (None: not root or none)."""
    for name in SERVER_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    if not create:
        return None
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "cgpgtest"], check=True, capture_output=True)
    return "cgpgtest"


def _free_port() -> int:
    from tests.support.proxy import free_port   # below the ephemeral range: see its docstring
    return free_port()


class PostgresCluster:
    """One `initdb`-created cluster, started on enter and removed on exit."""

    def __init__(self, base: Path | None = None, port: int | None = None):
        self._own_base = base is None
        # As root the server runs as another user, who must reach the data directory: keep it under
        # the world-traversable /tmp even when TMPDIR points into root's private home.
        self.base = Path(base) if base else Path(tempfile.mkdtemp(
            prefix="cg-pg-", dir="/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None))
        self.datadir = self.base / "data"
        self.logfile = self.base / "server.log"
        self.port = port or _free_port()
        self.password = secrets.token_hex(16)
        self.user: str | None = None   # the OS account running the server when we are root
        self._initialised = False

    # ------------------------------------------------------------------ URLs
    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}:{quote(self.password)}@127.0.0.1:{self.port}/{database}"

    # ------------------------------------------------------------------ running commands
    def _run(self, argv: list[str], timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.base)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                               f"--- server log ---\n{self.server_log()}")
        return proc

    def server_log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def init(self) -> None:
        reason = postgres_unavailable()
        if reason:
            raise RuntimeError(reason)
        if os.geteuid() == 0:
            self.user = _server_user(create=True)
            pw = pwd.getpwnam(self.user)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base, 0o700)
        pwfile = self.base / "pw"
        pwfile.write_text(self.password + "\n")
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        os.chmod(pwfile, 0o600)
        self._run([find_bin("initdb"), "-D", str(self.datadir), "-U", SUPERUSER, "--pwfile", str(pwfile),
                   "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"])
        pwfile.unlink()
        self._initialised = True

    def start(self, timeout: float = 60) -> "PostgresCluster":
        if not self._initialised:
            self.init()
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories='{self.datadir}' -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c shared_buffers=32MB -c max_connections=200 "
                "-c dynamic_shared_memory_type=posix")
        self._run([find_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile), "-o", opts,
                   "-w", "-t", str(int(timeout)), "start"], timeout=timeout + 10)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import psycopg
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.Error as exc:
                last = exc
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL on port {self.port} not ready after {timeout}s: {last}\n"
                           f"{self.server_log()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (mode fast: disconnect clients, as an outage would). Data is kept."""
        if not self.running():
            return
        self._run([find_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"], check=False)

    def running(self) -> bool:
        return self._initialised and (self.datadir / "postmaster.pid").exists()

    # ------------------------------------------------------------------ databases
    def create_database(self, name: str | None = None) -> str:
        """Create a fresh, empty database and return its URL."""
        import psycopg
        name = name or "t_" + secrets.token_hex(6)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # ------------------------------------------------------------------ lifecycle
    def cleanup(self) -> None:
        try:
            self.stop(mode="immediate")
        finally:
            if self._own_base:
                shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "PostgresCluster":
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc) -> None:
        self.cleanup()


# ---------------------------------------------------------------------- pytest fixtures
# Registered for the whole suite by tests/conftest.py (pytest_plugins). Each xdist worker starts
# its own cluster once; every test gets a fresh database in it.
try:
    import pytest
except ImportError:  # imported outside pytest (benchmarks)
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def postgres_cluster():
        reason = postgres_unavailable()
        if reason:
            pytest.skip(f"PostgreSQL tests skipped: {reason}")
        with PostgresCluster() as pg:
            yield pg

    @pytest.fixture
    def postgres_url(postgres_cluster):
        """URL of a fresh, empty database on the session's throw-away cluster."""
        name = "t_" + secrets.token_hex(6)
        url = postgres_cluster.create_database(name)
        try:
            yield url
        finally:
            if not postgres_cluster.running():   # a test stopped it (an outage) and failed midway
                postgres_cluster.start()
            postgres_cluster.drop_database(name)
