"""Several processes opening one fresh database at the same instant (e.g. `run --workers N`, or
the proxy and the review app started together): every migration is applied exactly once, none
of them fails, and the audit chain they then all append to stays one chain."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROCESSES = 6

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import agent.store.store as store_module
    from agent.store import open_store
    url, home, go, who = sys.argv[1] or None, Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    # One more migration that fails if applied twice (CREATE TABLE without IF NOT EXISTS).
    extra = (store_module.LATEST + 1, ["CREATE TABLE race_probe (x INTEGER)"])
    store_module.MIGRATIONS = [*store_module.MIGRATIONS, extra]
    store_module.LATEST = extra[0]
    deadline = time.monotonic() + 30
    while not go.exists():              # start together
        if time.monotonic() > deadline:
            sys.exit("never told to start")
        time.sleep(0.002)
    store = open_store(url, home, timeout=30)
    if store.last_error:
        sys.exit(f"store unavailable: {store.last_error}")
    for i in range(5):
        store.audit(who, "probe", str(i))
    assert store.spool_depth == 0, "a write was spooled"
    store.close()
""")


def run_together(url: str | None, home: Path) -> None:
    go = home / "go"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, url or "", str(home), str(go), f"p{i}"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(PROCESSES)]
    time.sleep(1.5)                      # let every interpreter start and wait at the line
    go.touch()
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, "\n".join(outputs)


def test_processes_migrating_at_once(backend, monkeypatch):
    import agent.store.store as store_module
    from agent.store.schema import LATEST, MIGRATIONS
    # this process knows the children's extra migration too (else the database is "newer")
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, (LATEST + 1, ["CREATE TABLE race_probe (x INTEGER)"])])
    monkeypatch.setattr(store_module, "LATEST", LATEST + 1)
    run_together(backend.url, backend.home)
    versions = [v for (v,) in backend.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [v for v, _ in MIGRATIONS] + [LATEST + 1]     # each exactly once
    assert backend.execute("SELECT count(*) FROM race_probe") == [(0,)]
    rows = backend.execute("SELECT count(*) FROM audit")
    assert rows == [(PROCESSES * 5,)]
    store = backend.open()
    try:
        assert store.verify_audit() == []
    finally:
        store.close()
