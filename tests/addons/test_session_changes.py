"""Teacher sessions reach the proxy's cache within a second of being opened or closed, without
re-reading the sessions while nothing changes (proxy_addons/sessions.py, Store.sessions_token)."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from agent.store import open_store
from proxy_addons.sessions import SessionCache


def wait_for(predicate, timeout: float) -> float | None:
    """Seconds until predicate() held, or None after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.01)
    return None


def started_cache(home, url: str | None, interval: float, check: float) -> SessionCache:
    """A SessionCache over the store at `url` (None: SQLite under `home`) whose thread reloads
    everything every `interval` s and checks for changes every `check` s, after its first load."""
    core = SimpleNamespace(state=SimpleNamespace(policy=SimpleNamespace(store_url=url), home=home),
                           generation=0)
    c = SessionCache(core)
    c._thread = threading.Thread(target=c._run, args=(core.state, interval, check), daemon=True)
    c._thread.start()
    assert wait_for(lambda: c.reloads >= 1, 10) is not None
    return c


@pytest.fixture
def cache(tmp_path):
    # A full reload only once a minute: any quick update must come from the change token.
    c = started_cache(tmp_path, None, 60.0, 0.05)
    try:
        yield c
    finally:
        c.stop()


def test_open_and_close_reach_the_cache_within_a_second(cache, tmp_path):
    writer = open_store(None, tmp_path)   # another connection, as the CLI's would be
    try:
        now = datetime.now(timezone.utc)
        session = writer.open_session("tch-1", "cls-1", "youtube", now - timedelta(seconds=1), 30)
        seen = wait_for(lambda: any(s.id == session.id for s in cache.snapshot), 1.0)
        assert seen is not None, "the opened session did not reach the cache within 1 s"
        writer.close_session(session.id, datetime.now(timezone.utc))
        gone = wait_for(lambda: not cache.active(datetime.now(timezone.utc)), 1.0)
        assert gone is not None, "the closed session was still active in the cache after 1 s"
    finally:
        writer.close()


def test_an_unchanged_store_is_not_re_read(cache):
    before = cache.reloads
    time.sleep(0.6)          # about twelve checks of the token
    assert cache.reloads == before


def test_the_sqlite_token_changes_on_a_commit_by_another_connection(tmp_path):
    reader, writer = open_store(None, tmp_path), open_store(None, tmp_path)
    try:
        first = reader.sessions_token()
        assert reader.sessions_token() == first
        writer.open_session("tch-1", "cls-1", "youtube", datetime.now(timezone.utc), 5)
        assert reader.sessions_token() != first
    finally:
        reader.close()
        writer.close()


def test_the_portable_token_changes_on_open_and_on_close(tmp_path):
    """The token other dialects use (PostgreSQL): counts over the sessions table. Run here on
    SQLite's connection, the SQL being portable."""
    from agent.store.dialect import Dialect

    store = open_store(None, tmp_path)
    try:
        def token():
            return Dialect.sessions_token(store.dialect, store._connect())
        empty = token()
        session = store.open_session("tch-1", "cls-1", "youtube", datetime.now(timezone.utc), 5)
        opened = token()
        store.close_session(session.id, datetime.now(timezone.utc) - timedelta(minutes=1))  # a past time
        closed = token()
        assert len({empty, opened, closed}) == 3
    finally:
        store.close()


@pytest.fixture
def watched_cache(tmp_path):
    """As `cache`, but the token is never polled (a check once a minute): only the inotify watch
    on the SQLite files can deliver a change quickly."""
    c = started_cache(tmp_path, None, 60.0, 60.0)
    try:
        yield c
    finally:
        c.stop()


def test_sqlite_changes_arrive_by_inotify_without_polling(watched_cache, tmp_path):
    assert watched_cache.event_driven, "SQLite on Linux: the cache should watch the database files"
    writer = open_store(None, tmp_path)
    try:
        quiet = watched_cache.checks
        time.sleep(0.5)
        assert watched_cache.checks == quiet, "woken with nothing committed"
        now = datetime.now(timezone.utc)
        session = writer.open_session("tch-1", "cls-1", "youtube", now - timedelta(seconds=1), 30)
        assert wait_for(lambda: any(s.id == session.id for s in watched_cache.snapshot), 1.0) is not None
        writer.close_session(session.id, datetime.now(timezone.utc))
        assert wait_for(lambda: not watched_cache.active(datetime.now(timezone.utc)), 1.0) is not None
    finally:
        writer.close()
    # Stopping does not wait for the minute-long timeout either.
    t0 = time.monotonic()
    watched_cache.stop()
    assert time.monotonic() - t0 < 5


def test_the_cache_reading_sessions_does_not_wake_itself(watched_cache, tmp_path):
    """Readers touch only the -shm file: other processes reading (the review app, other workers)
    and the cache's own reloads cause no wake-ups, so an idle proxy stays asleep."""
    reader = open_store(None, tmp_path)
    try:
        before, checks = watched_cache.reloads, watched_cache.checks
        for _ in range(20):
            reader.sessions(active_at=datetime.now(timezone.utc))
        time.sleep(0.3)
        assert watched_cache.checks == checks, "another connection's reads woke the cache"
        watched_cache.refresh_now()          # one forced reload ...
        assert wait_for(lambda: watched_cache.reloads == before + 1, 2.0) is not None
        time.sleep(0.5)
        assert watched_cache.reloads == before + 1   # ... and no echo of it
        assert watched_cache.checks == checks + 1
    finally:
        reader.close()


def test_a_burst_of_commits_costs_a_few_checks_not_one_each(watched_cache, tmp_path):
    """Incidents written in a burst wake the watch on every commit; the cache still checks the
    token at most once per MIN_GAP, and the last change is not missed."""
    from proxy_addons.sessions import MIN_GAP
    writer = open_store(None, tmp_path)
    try:
        before = watched_cache.checks
        t0 = time.monotonic()
        ids = [writer.open_session(f"tch-{i}", "cls-1", "youtube", datetime.now(timezone.utc) - timedelta(seconds=1),
                                   30).id for i in range(40)]
        assert wait_for(lambda: {s.id for s in watched_cache.snapshot} >= set(ids), 2.0) is not None
        time.sleep(0.3)
        total = time.monotonic() - t0
        checks = watched_cache.checks - before
        # One check per commit would be 40; coalesced it is one per MIN_GAP at most (+ the first).
        assert checks <= total / MIN_GAP + 2, (checks, total)
    finally:
        writer.close()


# ------------------------------------------------------------------ PostgreSQL: LISTEN/NOTIFY

def _pg_cache(tmp_path, url, interval, check):
    c = started_cache(tmp_path, url, interval, check)
    assert wait_for(lambda: c.event_driven, 20) is not None, "no listener"
    return c


def test_postgresql_changes_arrive_by_notify_without_polling(tmp_path, postgres_url):
    cache = _pg_cache(tmp_path, postgres_url, 60.0, 60.0)    # neither polls nor reloads by itself
    writer = open_store(postgres_url, tmp_path)
    try:
        quiet = cache.checks
        time.sleep(0.5)
        assert cache.checks == quiet, "woken with nothing committed"
        session = writer.open_session("tch-1", "cls-1", "youtube", datetime.now(timezone.utc) - timedelta(seconds=1), 30)
        assert wait_for(lambda: any(s.id == session.id for s in cache.snapshot), 2.0) is not None
        writer.close_session(session.id, datetime.now(timezone.utc))
        assert wait_for(lambda: not cache.active(datetime.now(timezone.utc)), 2.0) is not None
    finally:
        writer.close()
        t0 = time.monotonic()
        cache.stop()
    assert time.monotonic() - t0 < 5


def test_a_lost_listener_falls_back_to_polling_and_comes_back(tmp_path, postgres_url):
    import psycopg
    cache = _pg_cache(tmp_path, postgres_url, 1.0, 0.05)
    writer = open_store(postgres_url, tmp_path)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = 'crossingguard-sessions'").fetchall()
        assert killed, "the listener's connection was not found"
        assert wait_for(lambda: not cache.event_driven, 5.0) is not None, "the lost listener went unnoticed"
        session = writer.open_session("tch-1", "cls-1", "youtube", datetime.now(timezone.utc) - timedelta(seconds=1), 30)
        assert wait_for(lambda: any(s.id == session.id for s in cache.snapshot), 2.0) is not None
        assert wait_for(lambda: cache.event_driven, 10.0) is not None, "the listener did not come back"
    finally:
        writer.close()
        cache.stop()
