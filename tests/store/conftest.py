"""The store suite runs against every backend: SQLite under tmp_path and a real PostgreSQL
(a fresh database on the session's throw-away cluster, tests/support/postgres.py; skipped with
how to install it when PostgreSQL is not here).

`backend.open(**kw)` opens a store on it; `backend.execute(sql, params)` runs raw SQL on a
separate connection (another process's view: tampering, schema checks)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.store import open_store


class Backend:
    def __init__(self, name: str, home: Path, url: str | None):
        self.name, self.home, self.url = name, Path(home), url

    @property
    def cli_args(self) -> list[str]:
        """Common CLI options reaching this store: --home, and a policy naming the URL if not SQLite."""
        args = ["--home", str(self.home)]
        if self.url:
            from tests.support.policy import policy_with
            policy = self.home / "policy-store.yaml"
            if not policy.exists():
                policy_with(policy, store={"url": self.url})
            args += ["--policy", str(policy)]
        return args

    def open(self, **kw):
        return open_store(self.url, self.home, **kw)

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.name == "sqlite":
            conn = sqlite3.connect(self.home / "crossingguard.db", isolation_level=None)
            try:
                cur = conn.execute(sql, params)
                return cur.fetchall()
            finally:
                conn.close()
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params or None)
            return cur.fetchall() if cur.description else []


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path, None)
    return Backend("postgresql", tmp_path, request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(backend):
    s = backend.open()
    yield s
    s.close()
