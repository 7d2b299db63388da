"""`crossingguard verify-log` and `crossingguard purge` through agent.cli.main."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.activity import ActivityLog, chain
from agent.cli import main
from agent.context import DEFAULT_POLICY
from agent.store import open_store

NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)


@pytest.fixture
def home(tmp_path) -> Path:
    with ActivityLog(tmp_path / "activity", NY) as log:
        for d in range(5):                                  # 2026-03-02 .. 2026-03-06
            for i in range(3):
                log.write({"time": (NOON + timedelta(days=d, minutes=i)).isoformat(), "request_id": f"{d}-{i}",
                           "user": "stu-1001", "platform": "youtube", "verdict": "allow"})
    return tmp_path


@pytest.fixture
def policy(tmp_path) -> Path:
    """The shipped policy with a 2-day activity retention."""
    text = DEFAULT_POLICY.read_text()
    assert "retention_days: 180" in text
    p = tmp_path / "policy.yaml"
    p.write_text(text.replace("retention_days: 180", "retention_days: 2"))
    return p


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, [json.loads(x) for x in out.splitlines()], err


def test_verify_log_intact(home, capsys):
    rc, [summary], _ = run(capsys, "verify-log", "--home", str(home))
    assert rc == 0
    assert summary["ok"] is True and summary["files"] == 5 and summary["lines"] == 15


def test_verify_log_finds_an_edit(home, capsys):
    f = home / "activity" / "activity-2026-03-04.jsonl"
    raw = f.read_bytes().splitlines()
    raw[0] = raw[0].replace(b'"verdict":"allow"', b'"verdict":"block"')
    f.write_bytes(b"".join(x + b"\n" for x in raw))
    rc, problems, _ = run(capsys, "verify-log", "--home", str(home))
    assert rc == 1
    assert [(p["file"], p["line"]) for p in problems] == [("activity-2026-03-04.jsonl", 2)]
    assert "activity-2026-03-04.jsonl:1 was edited" in problems[0]["problem"]


def test_purge_then_verify(home, policy, capsys):
    rc, [dry], _ = run(capsys, "purge", "--home", str(home), "--policy", str(policy), "--today", "2026-03-06",
                       "--dry-run")
    assert rc == 0 and dry["dry_run"] is True
    assert dry["purged"] == ["activity-2026-03-02.jsonl", "activity-2026-03-03.jsonl"]
    assert len(chain.day_files(home / "activity")) == 5

    rc, [done], _ = run(capsys, "purge", "--home", str(home), "--policy", str(policy), "--today", "2026-03-06")
    assert rc == 0 and done["purged"] == dry["purged"] and done["retention_days"] == 2
    assert [p.name for p in chain.day_files(home / "activity")] == [
        "activity-2026-03-04.jsonl", "activity-2026-03-05.jsonl", "activity-2026-03-06.jsonl"]
    rc, [summary], _ = run(capsys, "verify-log", "--home", str(home))
    assert rc == 0 and summary["lines"] == 9

    store = open_store(None, home)
    [entry] = store.audit_entries()
    assert entry["action"] == "activity.purge" and entry["detail"]["removed"] == dry["purged"]
    store.close()


def test_purge_bad_date(home, capsys):
    rc, out, err = run(capsys, "purge", "--home", str(home), "--today", "06/03/2026")
    assert rc == 2 and out == [] and "--today '06/03/2026'" in err


def test_purge_refuses_a_future_date(home, capsys):
    rc, out, err = run(capsys, "purge", "--home", str(home), "--today", "2999-01-01")
    assert rc == 2 and out == [] and "later than today" in err
    assert len(chain.day_files(home / "activity")) == 5
