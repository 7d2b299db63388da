"""tests/support/postgres.py: the throw-away cluster the PostgreSQL store tests run against."""
from __future__ import annotations

import pytest

from tests.support.postgres import postgres_unavailable

psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg: pip install -e '.[test]'")


def test_fresh_database_per_test_is_empty_and_writable(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_cluster_stops_and_starts_keeping_data(postgres_cluster, postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x INTEGER)")
        conn.execute("INSERT INTO kept VALUES (7)")
    postgres_cluster.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres_url, connect_timeout=2)
    postgres_cluster.start()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT x FROM kept").fetchall() == [(7,)]


def test_listens_on_loopback_with_a_password(postgres_cluster):
    assert "@127.0.0.1:" in postgres_cluster.url
    wrong = postgres_cluster.url.replace(postgres_cluster.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(wrong, connect_timeout=2)


def test_unavailable_reason_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("tests.support.postgres.BIN_DIRS", ("/nonexistent",))
    reason = postgres_unavailable()
    assert reason and "apt-get install -y postgresql" in reason
