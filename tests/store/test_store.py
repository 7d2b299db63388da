"""agent.store: teacher sessions, incidents, the audit chain, schema, file modes.

`store` and `backend` (tests/store/conftest.py) run each test on SQLite and on PostgreSQL."""
from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import datetime, timedelta, timezone

import pytest

from agent.metrics import STATE
from agent.store import Incident, StoreUnavailable, open_store
from agent.store.schema import LATEST, MIGRATIONS

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)


def db(tmp_path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "crossingguard.db", isolation_level=None)


# ---------------------------------------------------------------- teacher sessions

def test_open_session_returns_and_persists(store, backend):
    s = store.open_session("tch-1", "cls-1", "youtube", T0, 45)
    assert (s.teacher, s.class_id, s.platform) == ("tch-1", "cls-1", "youtube")
    assert s.starts == T0 and s.ends == T0 + timedelta(minutes=45) and s.closed is None
    store.close()
    again = backend.open()  # survives a restart
    assert again.sessions() == [s]
    again.close()


@pytest.mark.parametrize("offset_minutes, active", [
    (-1, False),    # before it starts
    (0, True),      # starts inclusive
    (44, True),
    (45, False),    # ends exclusive: it expires by itself
    (600, False),
])
def test_sessions_active_at(store, offset_minutes, active):
    s = store.open_session("tch-1", "cls-1", "youtube", T0, 45)
    got = store.sessions(active_at=T0 + timedelta(minutes=offset_minutes))
    assert got == ([s] if active else [])


def test_active_at_accepts_other_offsets_and_naive_utc(store):
    s = store.open_session("tch-1", "cls-1", "youtube", T0, 30)
    eastern = T0.astimezone(timezone(timedelta(hours=-5))) + timedelta(minutes=10)
    assert store.sessions(active_at=eastern) == [s]
    assert store.sessions(active_at=T0.replace(tzinfo=None) + timedelta(minutes=29)) == [s]


def test_close_session_early(store):
    s = store.open_session("tch-1", "cls-1", "youtube", T0, 60)
    closed = store.close_session(s.id, T0 + timedelta(minutes=10))
    assert closed.closed == T0 + timedelta(minutes=10)
    assert store.sessions(active_at=T0 + timedelta(minutes=5)) == [closed]
    assert store.sessions(active_at=T0 + timedelta(minutes=10)) == []
    # closing again keeps the first close time and does not write a second audit row
    again = store.close_session(s.id, T0 + timedelta(minutes=20))
    assert again.closed == T0 + timedelta(minutes=10)
    assert [e["action"] for e in store.audit_entries()] == ["session.open", "session.close"]


def test_close_unknown_session(store):
    assert store.close_session("ses-nope", T0) is None


def test_sessions_filter_many(store):
    a = store.open_session("tch-1", "cls-1", "youtube", T0, 30)
    b = store.open_session("tch-2", "cls-2", "instagram", T0 + timedelta(minutes=20), 30)
    store.open_session("tch-3", "cls-3", "reddit", T0 + timedelta(hours=3), 30)
    assert store.sessions(active_at=T0 + timedelta(minutes=25)) == [a, b]
    assert store.sessions(active_at=T0 + timedelta(minutes=35)) == [b]
    assert len(store.sessions()) == 3


def test_session_changes_are_audited(store):
    s = store.open_session("tch-1", "cls-1", "youtube", T0, 30)
    store.close_session(s.id, T0 + timedelta(minutes=5), actor="tch-1")
    entries = store.audit_entries()
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("tch-1", "session.open", s.id), ("tch-1", "session.close", s.id)]
    assert entries[0]["detail"]["platform"] == "youtube"
    assert entries[1]["detail"]["closed"].startswith("2026-03-02T14:05:00")


def test_open_session_fails_clearly_when_database_unavailable(tmp_path):
    (tmp_path / "crossingguard.db").mkdir()   # a directory where the database file should be
    s = open_store(None, tmp_path, timeout=0.1)
    with pytest.raises(StoreUnavailable, match="teacher session"):
        s.open_session("tch-1", "cls-1", "youtube", T0, 30)
    with pytest.raises(StoreUnavailable):
        s.sessions()
    s.close()


# ---------------------------------------------------------------- incidents

def make_incident(i: int, **kw) -> Incident:
    base = dict(user=f"stu-{i}", platform="instagram", kind="comment", text=f"post text {i}",
                created=T0 + timedelta(minutes=i), labels=("bullying",), scores={"bullying": 0.9},
                severity="high", guidelines=("student.5",), request_id=f"req-{i}", school="org-main")
    base.update(kw)
    return Incident.new(**base)


def test_incident_roundtrip(store):
    inc = make_incident(1, evidence=({"category": "bullying", "kind": "model", "text": "x"},))
    assert store.add_incident(inc) == inc.id
    [got] = store.incidents()
    assert got == inc


def test_incident_evidence_dataclasses_are_stored_as_dicts(store):
    from classifiers.types import Evidence
    inc = make_incident(1, evidence=(Evidence("pii", "phone", "555-0100", 3, 11),))
    store.add_incident(inc)
    [got] = store.incidents()
    assert got.evidence == ({"category": "pii", "kind": "phone", "text": "555-0100", "start": 3, "end": 11,
                             "weight": 1.0},)


def test_incidents_filter_since_and_status(store):
    incs = [make_incident(i, status="open" if i % 2 else "closed") for i in range(6)]
    for inc in reversed(incs):  # insertion order must not matter: listed by created
        store.add_incident(inc)
    assert [i.id for i in store.incidents()] == [i.id for i in incs]
    assert [i.id for i in store.incidents(since=T0 + timedelta(minutes=3))] == [i.id for i in incs[3:]]
    assert [i.id for i in store.incidents(status="open")] == [incs[1].id, incs[3].id, incs[5].id]
    assert [i.id for i in store.incidents(since=T0 + timedelta(minutes=2), status="closed")] == \
        [incs[2].id, incs[4].id]


def test_incident_to_json_contract():
    inc = make_incident(1)
    out = inc.to_json()
    assert list(out) == ["id", "created", "user", "platform", "kind", "labels", "severity", "guidelines", "status"]
    assert "text" not in out
    assert out["created"] == "2026-03-02T14:01:00.000000+00:00"
    assert inc.to_json(with_text=True)["text"] == "post text 1"


# ---------------------------------------------------------------- audit chain

def test_audit_chain_intact(store):
    for i in range(5):
        store.audit("counselor-1", "incident.view", f"inc-{i}", {"n": i})
    entries = store.audit_entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == "0" * 64
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:]))
    assert store.verify_audit() == []


@pytest.mark.parametrize("tamper, expect", [
    ("UPDATE audit SET actor = 'someone-else' WHERE seq = 3", "seq 3: contents do not match"),
    ("UPDATE audit SET detail = '{\"n\":99}' WHERE seq = 2", "seq 2: contents do not match"),
    ("DELETE FROM audit WHERE seq = 3", "seq 4"),
    ("DELETE FROM audit WHERE seq = 5", "head records seq 5"),
    ("UPDATE audit SET seq = 99 WHERE seq = 1", "seq"),
])
def test_audit_tampering_detected(store, backend, tamper, expect):
    for i in range(5):
        store.audit("counselor-1", "incident.view", f"inc-{i}", {"n": i})
    backend.execute(tamper)
    problems = store.verify_audit()
    assert problems, tamper
    assert any(expect in p for p in problems), problems


def test_audit_chain_with_concurrent_writers(backend):
    """Two connections (as two processes would have) appending at once keep one chain."""
    a, b = backend.open(), backend.open()

    def work(store, who):
        for i in range(40):
            store.audit(who, "test", str(i))

    threads = [threading.Thread(target=work, args=(s, n)) for s, n in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(a.audit_entries()) == 80
    assert a.verify_audit() == [] and b.spool_depth == 0
    a.close()
    b.close()


# ---------------------------------------------------------------- schema, files, metrics

def test_schema_version_recorded_and_reopen_idempotent(backend):
    backend.open().close()
    backend.open().close()
    assert backend.execute("SELECT version FROM schema_version ORDER BY version") == \
        [(v,) for v, _ in MIGRATIONS]
    if backend.name == "sqlite":
        assert backend.execute("PRAGMA journal_mode")[0][0] == "wal"


def test_newer_schema_refused(backend):
    backend.open().close()
    backend.execute("INSERT INTO schema_version VALUES (?, 'x')", (LATEST + 1,))
    with pytest.raises(Exception, match="newer than this"):
        backend.open()


def test_a_missing_older_migration_is_applied(backend, monkeypatch):
    """Migrations merged from parallel branches: a database that already has version N+2 but
    not N+1 gets N+1 applied (versions are applied by what is missing, not by "above the max")."""
    import agent.store.store as store_module
    later = (LATEST + 2, ["CREATE TABLE later_branch (x INTEGER)"])
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, later])
    monkeypatch.setattr(store_module, "LATEST", LATEST + 2)
    backend.open().close()
    earlier = (LATEST + 1, ["CREATE TABLE earlier_branch (x INTEGER)"])
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, earlier, later])
    backend.open().close()
    versions = [v for (v,) in backend.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions[-2:] == [LATEST + 1, LATEST + 2]
    assert backend.execute("SELECT count(*) FROM earlier_branch") == [(0,)]


def test_database_file_is_private(tmp_path):
    store = open_store(None, tmp_path)
    store.audit("x", "y", "z")
    for p in tmp_path.glob("crossingguard.db*"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_sqlite_url_forms(tmp_path):
    s = open_store("sqlite:///other.db", tmp_path)
    s.audit("a", "b", "c")
    s.close()
    assert (tmp_path / "other.db").exists()
    absolute = tmp_path / "abs" / "x.db"
    s = open_store(f"sqlite:///{absolute}", tmp_path)
    s.close()
    assert absolute.exists()


def test_bad_url_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="expected sqlite"):
        open_store("mysql://x", tmp_path)


def test_spool_depth_metric_registered(store):
    kind, _help, fn = STATE.sources["crossingguard_store_spool_depth"]
    assert kind == "gauge" and fn() == 0
