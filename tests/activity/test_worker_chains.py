"""One activity chain per worker (`run --workers N`): verify-log checks them together, purge
applies retention to each, and a removed worker chain is reported."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.activity import ActivityLog
from agent.activity.chains import all_chains, chain_dir, check_all, register, registered
from agent.cli import main
from agent.context import DEFAULT_POLICY

NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)


def write_chain(directory: Path, tag: str, days: int = 4) -> None:
    with ActivityLog(directory, NY) as log:
        for d in range(days):
            for i in range(3):
                log.write({"time": (NOON + timedelta(days=d, minutes=i)).isoformat(),
                           "request_id": f"{tag}-{d}-{i}", "user": "stu-1001", "verdict": "allow"})


@pytest.fixture
def home(tmp_path) -> Path:
    activity = tmp_path / "activity"
    write_chain(activity, "single", days=1)          # from before the switch to workers
    for w in (0, 1):
        register(activity, w)
        write_chain(chain_dir(activity, w), f"w{w}")
    return tmp_path


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, [json.loads(x) for x in out.splitlines()], err


@pytest.mark.parametrize("worker, expected", [(None, ""), (-1, ""), (0, "worker-0"), (7, "worker-7")])
def test_chain_dir(tmp_path, worker, expected):
    assert chain_dir(tmp_path, worker) == (tmp_path / expected if expected else tmp_path)


def test_register_is_idempotent_and_ordered(tmp_path):
    for w in (10, 2, 2, 0):
        register(tmp_path, w)
    assert registered(tmp_path) == ["worker-0", "worker-2", "worker-10"]
    assert [label for label, _ in all_chains(tmp_path)] == ["", "worker-0", "worker-2", "worker-10"]


def test_verify_log_checks_every_chain(home, capsys):
    rc, [summary], _ = run(capsys, "verify-log", "--home", str(home))
    assert rc == 0
    assert [(c["chain"], c["lines"]) for c in summary["chains"]] == [("", 3), ("worker-0", 12), ("worker-1", 12)]
    assert summary["lines"] == 27 and summary["files"] == 9


def test_an_edit_in_a_worker_chain_is_found_and_named(home, capsys):
    f = home / "activity" / "worker-1" / "activity-2026-03-03.jsonl"
    raw = f.read_bytes().splitlines()
    raw[1] = raw[1].replace(b'"verdict":"allow"', b'"verdict":"block"')
    f.write_bytes(b"".join(x + b"\n" for x in raw))
    rc, problems, _ = run(capsys, "verify-log", "--home", str(home))
    assert rc == 1
    assert [(p["file"], p["line"]) for p in problems] == [("worker-1/activity-2026-03-03.jsonl", 3)]


def test_a_removed_worker_chain_is_reported(home):
    shutil.rmtree(home / "activity" / "worker-0")
    problems, _ = check_all(home / "activity")
    assert [(p.file, p.message) for p in problems] == [
        ("worker-0", "registered worker chain is missing (directory removed)")]


def test_lines_moved_between_worker_chains_are_found(home):
    a = home / "activity" / "worker-0" / "activity-2026-03-04.jsonl"
    b = home / "activity" / "worker-1" / "activity-2026-03-04.jsonl"
    la, lb = a.read_bytes().splitlines(), b.read_bytes().splitlines()
    la[0], lb[0] = lb[0], la[0]
    a.write_bytes(b"".join(x + b"\n" for x in la))
    b.write_bytes(b"".join(x + b"\n" for x in lb))
    problems, _ = check_all(home / "activity")
    files = {p.file for p in problems}
    assert {"worker-0/activity-2026-03-04.jsonl", "worker-1/activity-2026-03-04.jsonl"} <= files


def test_purge_applies_retention_to_every_chain(home, tmp_path, capsys):
    policy = tmp_path / "policy.yaml"
    policy.write_text(DEFAULT_POLICY.read_text().replace("retention_days: 180", "retention_days: 1"))
    rc, [out], _ = run(capsys, "purge", "--home", str(home), "--policy", str(policy), "--today", "2026-03-05")
    assert rc == 0
    assert sorted(out["purged"]) == ["worker-0/activity-2026-03-02.jsonl", "worker-0/activity-2026-03-03.jsonl",
                                     "worker-1/activity-2026-03-02.jsonl", "worker-1/activity-2026-03-03.jsonl"]
    rc, [summary], _ = run(capsys, "verify-log", "--home", str(home))
    assert rc == 0 and summary["lines"] == 3 + 6 + 6
