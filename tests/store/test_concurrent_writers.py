"""SQLite in WAL mode under --home is safe with several writer PROCESSES (`run --workers N`).

Four processes (real ones: SQLite locking is per process, threads would not show it) each write
incidents and audit entries into one database at the same time, from two threads each. Afterwards
every record is there exactly once, nothing went to the spool (no write timed out), the audit
hash chain is intact (BEGIN IMMEDIATE serialises the writers that read and extend its head), and
the database passes SQLite's integrity check.
"""
from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
from pathlib import Path

from agent.store import Incident, open_store

PROCESSES, THREADS, EACH = 4, 2, 40


def _writer(home: str, proc: int, start) -> None:
    store = open_store(None, Path(home))
    start.wait()

    def work(thread: int) -> None:
        for i in range(EACH):
            tag = f"p{proc}t{thread}n{i}"
            store.add_incident(Incident.new(user=f"stu-{proc}", platform="youtube", kind="comment",
                                            text=f"post {tag}", labels=("bullying",), severity="high",
                                            request_id=tag))
            store.audit("test", "write", tag, {"proc": proc})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()


def test_four_processes_write_one_sqlite_store(tmp_path):
    open_store(None, tmp_path).close()        # schema first, like the supervisor does
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), p, start)) for p in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * PROCESSES

    store = open_store(None, tmp_path)
    try:
        assert store.spool_depth == 0, "a write timed out and was spooled"
        texts = [i.text for i in store.incidents()]
        expected = {f"post p{p}t{t}n{i}" for p in range(PROCESSES) for t in range(THREADS) for i in range(EACH)}
        assert len(texts) == len(expected) and set(texts) == expected
        targets = [e["target"] for e in store.audit_entries() if e["action"] == "write"]
        assert sorted(targets) == sorted(x.split(" ", 1)[1] for x in expected)
        assert store.verify_audit() == []
    finally:
        store.close()
    db = sqlite3.connect(tmp_path / "crossingguard.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
