"""When the database is unavailable, incidents and audit entries are spooled and replayed: nothing lost."""
from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import time
from datetime import datetime, timedelta, timezone

import pytest

from agent.metrics import STATE
from agent.store import Incident, StoreUnavailable, open_store

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)


def incident(i: int) -> Incident:
    return Incident.new(user=f"stu-{i}", platform="tiktok", kind="post", text=f"text {i}",
                        created=T0 + timedelta(seconds=i), labels=("threat",), severity="high")


def hold_write_lock(tmp_path) -> sqlite3.Connection:
    """Another process's long write transaction: holds the database lock until released."""
    conn = sqlite3.connect(tmp_path / "crossingguard.db", isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_lock_held_past_timeout_spools_then_replays_in_order(tmp_path):
    store = open_store(None, tmp_path, timeout=0.2)
    store.audit("a", "before", "t0")
    blocker = hold_write_lock(tmp_path)
    t = time.monotonic()
    first = incident(1)
    assert store.add_incident(first) == first.id
    assert time.monotonic() - t < 2.0            # waited about the timeout, then spooled
    store.audit("a", "during-1", "t1")
    store.audit("a", "during-2", "t2")
    assert store.spool_depth == 3
    assert STATE.sources["crossingguard_store_spool_depth"][2]() == 3
    spooled = list((tmp_path / "spool").glob("*.jsonl"))
    assert spooled and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in spooled)

    blocker.execute("ROLLBACK")
    blocker.close()
    # The next successful write replays the spool first, so the audit order is kept.
    store.audit("a", "after", "t3")
    assert store.spool_depth == 0
    assert [e["action"] for e in store.audit_entries()] == ["before", "during-1", "during-2", "after"]
    assert [i.id for i in store.incidents()] == [first.id]
    assert store.verify_audit() == []
    store.close()


def test_unopenable_database_spools_from_the_start(tmp_path):
    dbpath = tmp_path / "crossingguard.db"
    dbpath.mkdir()                                  # "disk error": the path cannot be opened
    store = open_store(None, tmp_path, timeout=0.1)
    incs = [incident(i) for i in range(5)]
    for inc in incs:
        store.add_incident(inc)
    store.audit("counselor", "incident.view", incs[0].id)
    assert store.spool_depth == 6
    assert store.last_error and "crossingguard.db" in store.last_error
    with pytest.raises(StoreUnavailable):
        store.replay_spool()
    assert store.spool_depth == 6                   # a failed replay keeps everything

    dbpath.rmdir()                                  # the disk comes back
    assert store.replay_spool() == 6
    assert store.spool_depth == 0
    assert [i.id for i in store.incidents()] == [i.id for i in incs]
    assert store.incidents()[2] == incs[2]          # every field survives the spool
    assert [e["target"] for e in store.audit_entries()] == [incs[0].id]
    store.close()


def test_spool_replayed_by_another_process_store(tmp_path):
    dbpath = tmp_path / "crossingguard.db"
    dbpath.mkdir()
    down = open_store(None, tmp_path, timeout=0.1)
    down.add_incident(incident(1))
    down.close()
    dbpath.rmdir()
    up = open_store(None, tmp_path)
    assert up.spool_depth == 1
    up.add_incident(incident(2))                    # a successful write replays the older one first
    assert [i.user for i in up.incidents()] == ["stu-1", "stu-2"]
    up.close()


def test_replay_is_idempotent_after_a_crash_midway(tmp_path):
    dbpath = tmp_path / "crossingguard.db"
    dbpath.mkdir()
    store = open_store(None, tmp_path, timeout=0.1)
    inc = incident(1)
    store.add_incident(inc)
    store.audit("x", "y", "z")
    [spool_file] = (tmp_path / "spool").glob("*.jsonl")
    saved = tmp_path / "saved.jsonl"
    shutil.copy(spool_file, saved)
    dbpath.rmdir()
    assert store.replay_spool() == 2
    shutil.copy(saved, spool_file)                  # as if the process died before removing it
    assert store.replay_spool() == 2
    assert len(store.incidents()) == 1 and len(store.audit_entries()) == 1
    assert store.verify_audit() == []
    store.close()


def test_damaged_spool_line_is_kept_aside_not_lost(tmp_path):
    dbpath = tmp_path / "crossingguard.db"
    dbpath.mkdir()
    store = open_store(None, tmp_path, timeout=0.1)
    store.add_incident(incident(1))
    [spool_file] = (tmp_path / "spool").glob("*.jsonl")
    with open(spool_file, "ab") as fh:
        fh.write(b'{"kind": "incident", "payl')   # a crash mid-append
    dbpath.rmdir()
    assert store.replay_spool() == 1
    rejected = (tmp_path / "spool" / "rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 1 and '"payl' in json.loads(rejected[0])["raw"]
    assert len(store.incidents()) == 1
    store.close()


def test_unreachable_postgresql_spools_under_home(tmp_path):
    # Port 1 on loopback refuses connections (or psycopg is not installed): both are "unavailable".
    store = open_store("postgresql://cg:secret@127.0.0.1:1/crossingguard", tmp_path, timeout=1)
    inc = incident(1)
    assert store.add_incident(inc) == inc.id
    store.audit("cli", "incidents.view_text", "incidents")
    assert store.spool_depth == 2
    assert "secret" not in (store.last_error or "")
    with pytest.raises(StoreUnavailable):
        store.incidents()
    store.close()
    lines = [json.loads(x) for p in (tmp_path / "spool").glob("*.jsonl") for x in p.read_text().splitlines()]
    assert [x["kind"] for x in lines] == ["incident", "audit"]
    assert lines[0]["payload"]["id"] == inc.id


def test_a_record_the_database_refuses_does_not_block_the_spool(tmp_path):
    dbpath = tmp_path / "crossingguard.db"
    dbpath.mkdir()
    store = open_store(None, tmp_path, timeout=0.1)
    store.add_incident(incident(1))
    [spool_file] = (tmp_path / "spool").glob("*.jsonl")
    poison = {"kind": "incident", "ts": time.time_ns(), "seq": 99, "payload": {"id": "inc-bad"}}  # no fields
    with open(spool_file, "a") as fh:
        fh.write(json.dumps(poison) + "\n")
    store.add_incident(incident(2))
    dbpath.rmdir()
    store.audit("x", "after", "y")                  # replays: good ones in, the bad one set aside
    assert [i.user for i in store.incidents()] == ["stu-1", "stu-2"]
    assert store.spool_depth == 0
    [rejected] = [json.loads(x) for x in (tmp_path / "spool" / "rejected.jsonl").read_text().splitlines()]
    assert rejected["payload"] == {"id": "inc-bad"} and "KeyError" in rejected["reason"]
    store.close()


def test_integrity_errors_are_not_spooled(tmp_path):
    store = open_store(None, tmp_path)
    bad = Incident(id="inc-x", created=T0, user=None, platform="x", kind="post", text="t")  # user NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.add_incident(bad)
    assert store.spool_depth == 0
    store.close()


# ---------------------------------------------------------------- a real PostgreSQL outage

def test_postgresql_outage_spools_and_replays_once(postgres_cluster, postgres_url, tmp_path):
    store = open_store(postgres_url, tmp_path, timeout=1)
    before = incident(0)
    store.add_incident(before)
    postgres_cluster.stop()                         # the server goes away under an open connection
    during = [incident(i) for i in range(1, 6)]
    for inc in during:
        assert store.add_incident(inc) == inc.id    # accepted: spooled, not lost
    store.audit("counselor", "incident.view", during[0].id)
    assert store.spool_depth == 6
    assert "cg:" not in (store.last_error or "") and postgres_cluster.password not in (store.last_error or "")
    with pytest.raises(StoreUnavailable):
        store.replay_spool()
    postgres_cluster.start()
    after = incident(6)
    store.add_incident(after)                       # replays the spool first, in order
    assert store.spool_depth == 0
    assert [i.id for i in store.incidents()] == [i.id for i in [before, *during, after]]
    assert store.verify_audit() == []
    store.close()


def test_postgresql_replay_is_idempotent(postgres_cluster, postgres_url, tmp_path):
    store = open_store(postgres_url, tmp_path, timeout=1)
    postgres_cluster.stop()
    inc = incident(1)
    store.add_incident(inc)
    store.audit("x", "y", "z")
    [spool_file] = (tmp_path / "spool").glob("*.jsonl")
    saved = spool_file.read_bytes()
    postgres_cluster.start()
    assert store.replay_spool() == 2
    spool_file.write_bytes(saved)                   # as if the process died before removing it
    assert store.replay_spool() == 2
    assert [i.id for i in store.incidents()] == [inc.id] and len(store.audit_entries()) == 1
    store.close()


def test_a_slow_failing_database_is_not_waited_on_for_every_incident(tmp_path, monkeypatch):
    """A database host that does not answer (connect waits, then fails): the first incident waits
    once, the following ones are spooled at once for Store.HOLDOFF seconds; an explicit replay
    still tries."""
    from agent.store.dialect import Unavailable
    store = open_store(None, tmp_path)
    store.close()
    calls = []

    def slow_fail():
        calls.append(time.monotonic())
        time.sleep(0.6)
        raise Unavailable("timeout expired")

    monkeypatch.setattr(store.dialect, "connect", slow_fail)
    t = time.monotonic()
    store.add_incident(incident(1))
    assert time.monotonic() - t >= 0.6 and len(calls) == 1
    t = time.monotonic()
    for i in range(2, 12):
        store.add_incident(incident(i))
    assert time.monotonic() - t < 0.5 and len(calls) == 1     # not tried again: spooled at once
    assert store.spool_depth == 11
    with pytest.raises(StoreUnavailable):
        store.replay_spool()                                   # explicit: tried regardless
    assert len(calls) == 2
    monkeypatch.undo()
    assert store.replay_spool() == 11
    assert len(store.incidents()) == 11
    store.close()
