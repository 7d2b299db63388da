"""agent.activity: the writer thread, daily files, the hash chain, verify and purge."""
from __future__ import annotations

import json
import os
import stat
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.activity import RECORD_KEYS, ActivityLog, check, purge, verify
from agent.activity import chain
from agent.errors import CrossingGuardError
from agent.metrics import STATE

NY = ZoneInfo("America/New_York")
# 2026-03-02 12:00 in New York is 17:00 UTC.
NOON = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)


def record(i: int, at: datetime) -> dict:
    return {"time": at.isoformat(), "request_id": f"req-{i}", "user": f"stu-{i % 7}", "device": "dev-1",
            "school": "org-main", "cohort": "students_13_plus", "platform": "instagram",
            "host": "www.instagram.com", "method": "GET", "path": "/explore", "verdict": "allow",
            "action": "read_only", "rule": "students-read-only", "guideline": "student.preamble"}


def write_days(directory: Path, days: int = 3, per_day: int = 4, start: datetime = NOON) -> None:
    with ActivityLog(directory, NY) as log:
        for d in range(days):
            for i in range(per_day):
                log.write(record(d * per_day + i, start + timedelta(days=d, minutes=i)))


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def put_lines(path: Path, new: list[bytes]) -> None:
    path.write_bytes(b"".join(x + b"\n" for x in new))


def day(directory: Path, iso: str) -> Path:
    return directory / f"activity-{iso}.jsonl"


# ---------------------------------------------------------------- writing

def test_lines_have_the_record_keys_and_chain(tmp_path):
    write_days(tmp_path, days=1, per_day=3)
    [f] = chain.day_files(tmp_path)
    assert f.name == "activity-2026-03-02.jsonl"
    raw = lines(f)
    objs = [json.loads(x) for x in raw]
    assert list(objs[0]) == list(RECORD_KEYS) + ["prev"]
    assert objs[0]["prev"] == chain.GENESIS
    assert objs[1]["prev"] == chain.line_hash(raw[0])
    assert objs[2]["prev"] == chain.line_hash(raw[1])
    assert verify(tmp_path) == []
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


@pytest.mark.parametrize("utc_time, local_day", [
    ("2026-03-03T04:59:59+00:00", "2026-03-02"),   # 23:59:59 EST
    ("2026-03-03T05:00:00+00:00", "2026-03-03"),   # local midnight
    ("2026-03-03T00:30:00-05:00", "2026-03-03"),   # any offset
    ("2026-07-01T03:59:00+00:00", "2026-06-30"),   # EDT (UTC-4)
])
def test_files_are_by_district_local_date(tmp_path, utc_time, local_day):
    with ActivityLog(tmp_path, NY) as log:
        log.write({"time": utc_time, "request_id": "r"})
    assert [p.name for p in chain.day_files(tmp_path)] == [f"activity-{local_day}.jsonl"]


def test_chain_continues_across_days_and_restarts(tmp_path):
    write_days(tmp_path, days=2, per_day=2)
    write_days(tmp_path, days=1, per_day=2, start=NOON + timedelta(days=2))   # a new process
    files = chain.day_files(tmp_path)
    assert len(files) == 3
    for before, after in zip(files, files[1:]):
        assert json.loads(lines(after)[0])["prev"] == chain.line_hash(lines(before)[-1])
    assert verify(tmp_path) == []


def test_datetime_time_and_missing_time(tmp_path):
    with ActivityLog(tmp_path, NY) as log:
        log.write({"time": NOON, "request_id": "a"})
        log.write({"request_id": "b"})
    objs = [json.loads(x) for f in chain.day_files(tmp_path) for x in lines(f)]
    assert objs[0]["time"] == NOON.isoformat()
    assert datetime.fromisoformat(objs[1]["time"]).tzinfo is not None


def test_one_writer_per_directory(tmp_path):
    log = ActivityLog(tmp_path, NY)
    with pytest.raises(CrossingGuardError, match="another process"):
        ActivityLog(tmp_path, NY)
    log.close()
    ActivityLog(tmp_path, NY).close()   # released on close


def test_metrics_registered(tmp_path):
    with ActivityLog(tmp_path, NY) as log:
        log.write(record(1, NOON))
        log.flush()
        assert STATE.sources["crossingguard_activity_queue_depth"][0] == "gauge"
        kind, _, fn = STATE.sources["crossingguard_activity_lines_written_total"]
        assert kind == "counter" and fn() == 1 == log.lines_written


def test_write_never_blocks_the_caller(tmp_path, monkeypatch):
    """The writer is stuck (a stalled disk): write() still returns at once, and a full queue drops
    and counts instead of waiting; the drop is then recorded in the chain itself."""
    gate = threading.Event()
    log = ActivityLog(tmp_path, NY, max_queue=100)
    real_append = log._append

    def stalled(records):
        gate.wait(10)
        real_append(records)

    monkeypatch.setattr(log, "_append", stalled)
    log.write(record(0, NOON))
    time.sleep(0.05)                  # the writer has taken record 0 and is stuck on the disk
    worst = 0.0
    for i in range(1, 1001):
        t = time.perf_counter()
        log.write(record(i, NOON))
        worst = max(worst, time.perf_counter() - t)
    assert worst < 0.05, worst        # never waited for the stuck writer
    assert log.queue_depth == 100
    assert log.dropped == 900
    gate.set()
    log.close()
    objs = [json.loads(x) for f in chain.day_files(tmp_path) for x in lines(f)]
    assert {"event": "dropped", "count": 900}.items() <= next(o for o in objs if o.get("event")).items()
    assert len(objs) == 1 + 100 + 1
    assert verify(tmp_path) == []


def test_many_writes_fast_then_all_on_disk(tmp_path):
    n = 20_000
    with ActivityLog(tmp_path, NY) as log:
        t = time.perf_counter()
        for i in range(n):
            log.write(record(i, NOON + timedelta(seconds=i)))
        caller = time.perf_counter() - t
        log.flush(timeout=60)
        assert log.lines_written == n and log.dropped == 0 and log.queue_depth == 0
    assert caller / n < 50e-6, f"{caller / n * 1e6:.1f} us per write()"
    assert sum(len(lines(f)) for f in chain.day_files(tmp_path)) == n
    assert verify(tmp_path) == []


def test_write_errors_do_not_kill_the_writer(tmp_path, monkeypatch):
    log = ActivityLog(tmp_path, NY)
    real = log._append
    calls = {"n": 0}

    def flaky(records):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(28, "No space left on device")
        real(records)

    monkeypatch.setattr(log, "_append", flaky)
    log.write(record(1, NOON))
    log.flush()
    log.write(record(2, NOON))
    log.close()
    assert log.write_errors == 1 and log.lines_written == 2
    assert verify(tmp_path) == []


# ---------------------------------------------------------------- verify finds tampering

def test_intact_log_summary(tmp_path):
    write_days(tmp_path)
    problems, summary = check(tmp_path)
    assert problems == [] and summary.files == 3 and summary.lines == 12


def test_edited_line(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-03")
    raw = lines(f)
    raw[1] = raw[1].replace(b'"verdict":"allow"', b'"verdict":"block"')
    put_lines(f, raw)
    problems = verify(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("activity-2026-03-03.jsonl:3: ")
    assert "activity-2026-03-03.jsonl:2 was edited" in problems[0]


def test_removed_middle_line(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-03")
    raw = lines(f)
    del raw[1]
    put_lines(f, raw)
    problems = verify(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("activity-2026-03-03.jsonl:2: ")
    assert "removed" in problems[0]


def test_removed_last_line(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-04")
    put_lines(f, lines(f)[:-1])
    problems = verify(tmp_path)
    assert problems == ["activity-2026-03-04.jsonl:4: missing: the checkpoint records 4 lines, "
                        "the file has 3 (the end of the log was removed)"]


def test_edited_last_line(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-04")
    raw = lines(f)
    raw[-1] = raw[-1].replace(b"stu-", b"STU-")
    put_lines(f, raw)
    assert verify(tmp_path) == ["activity-2026-03-04.jsonl:4: does not match the checkpoint hash "
                                "(edited or replaced)"]


def test_reordered_lines(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-02")
    raw = lines(f)
    raw[1], raw[2] = raw[2], raw[1]
    put_lines(f, raw)
    problems = verify(tmp_path)
    assert any(p.startswith("activity-2026-03-02.jsonl:2: ") and "reordered" in p for p in problems), problems
    assert all(p.startswith("activity-2026-03-02.jsonl:") for p in problems)


def test_inserted_line_with_forged_prev(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-03")
    raw = lines(f)
    forged = dict(json.loads(raw[1]), request_id="forged", prev=chain.line_hash(raw[1]))
    raw.insert(2, json.dumps(forged, separators=(",", ":")).encode())
    put_lines(f, raw)
    problems = verify(tmp_path)
    assert len(problems) == 1, problems
    assert problems[0].startswith("activity-2026-03-03.jsonl:4: ")
    assert "so activity-2026-03-03.jsonl:3 was inserted" in problems[0]


def test_edit_across_day_boundary(tmp_path):
    write_days(tmp_path)
    f = day(tmp_path, "2026-03-02")
    raw = lines(f)
    raw[-1] = raw[-1].replace(b'"method":"GET"', b'"method":"PUT"')
    put_lines(f, raw)
    problems = verify(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("activity-2026-03-03.jsonl:1: ")
    assert "activity-2026-03-02.jsonl:4 was edited" in problems[0]


def test_removed_whole_day_file(tmp_path):
    write_days(tmp_path)
    day(tmp_path, "2026-03-03").unlink()
    problems = verify(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("activity-2026-03-04.jsonl:1: ")


def test_removed_first_day_file_without_purge(tmp_path):
    write_days(tmp_path)
    day(tmp_path, "2026-03-02").unlink()
    problems = verify(tmp_path)
    assert len(problems) == 1 and "first line does not chain" in problems[0]


def test_garbage_line(tmp_path):
    write_days(tmp_path, days=1)
    f = day(tmp_path, "2026-03-02")
    raw = lines(f)
    raw[0] = b"not json"
    put_lines(f, raw)
    problems = verify(tmp_path)
    assert problems[0] == "activity-2026-03-02.jsonl:1: not valid JSON (edited or damaged)"


def test_missing_checkpoint(tmp_path):
    write_days(tmp_path, days=1)
    (tmp_path / chain.HEAD).unlink()
    assert verify(tmp_path) == ["chain-head.json: checkpoint missing: the end of the log cannot be checked"]


def test_empty_directory_is_intact(tmp_path):
    assert verify(tmp_path / "nothing") == []


def test_cut_short_last_line_is_reported_and_writing_resumes(tmp_path):
    write_days(tmp_path, days=1)
    f = day(tmp_path, "2026-03-02")
    data = f.read_bytes()
    f.write_bytes(data + b'{"time":"2026-03-02T17:')   # a crash in the middle of a line
    problems = verify(tmp_path)
    assert any("activity-2026-03-02.jsonl:5: incomplete line" in p for p in problems), problems
    with ActivityLog(tmp_path, NY) as log:                 # the next writer keeps going
        log.write(record(99, NOON + timedelta(hours=1)))
    problems = verify(tmp_path)
    assert problems == ["activity-2026-03-02.jsonl:5: not valid JSON (edited or damaged)"]


# ---------------------------------------------------------------- purge

def test_purge_with_retention_then_verify_passes(tmp_path):
    write_days(tmp_path, days=6, per_day=2)        # 2026-03-02 .. 2026-03-07
    removed = purge(tmp_path, retention_days=2, today=date(2026, 3, 7))
    assert [p.name for p in removed] == ["activity-2026-03-02.jsonl", "activity-2026-03-03.jsonl",
                                         "activity-2026-03-04.jsonl"]
    assert [p.name for p in chain.day_files(tmp_path)] == ["activity-2026-03-05.jsonl", "activity-2026-03-06.jsonl",
                                                          "activity-2026-03-07.jsonl"]
    assert verify(tmp_path) == []
    # tampering is still found after a purge
    f = day(tmp_path, "2026-03-05")
    raw = lines(f)
    raw[0] = raw[0].replace(b"stu-", b"xxx-")
    put_lines(f, raw)
    assert [p.split(": ")[0] for p in verify(tmp_path)] == ["activity-2026-03-05.jsonl:2"]


def test_purge_dry_run_and_nothing_to_do(tmp_path):
    write_days(tmp_path, days=3, per_day=1)
    assert [p.name for p in purge(tmp_path, 1, date(2026, 3, 4), dry_run=True)] == \
        ["activity-2026-03-02.jsonl"]
    assert len(chain.day_files(tmp_path)) == 3
    assert purge(tmp_path, 30, date(2026, 3, 4)) == []
    assert not (tmp_path / chain.ANCHOR).exists()


def test_purge_twice_and_keep_writing(tmp_path):
    write_days(tmp_path, days=4, per_day=2)        # 03-02 .. 03-05
    purge(tmp_path, 2, date(2026, 3, 5))
    purge(tmp_path, 1, date(2026, 3, 5))
    assert [p.name for p in chain.day_files(tmp_path)] == ["activity-2026-03-04.jsonl", "activity-2026-03-05.jsonl"]
    write_days(tmp_path, days=1, per_day=2, start=NOON + timedelta(days=4))
    assert verify(tmp_path) == []
    anchor = json.loads((tmp_path / chain.ANCHOR).read_text())
    assert len(anchor["history"]) == 2


def test_purge_keeps_the_newest_file_then_new_lines_chain_on(tmp_path):
    write_days(tmp_path, days=2, per_day=2)
    removed = purge(tmp_path, 0, date(2026, 4, 1))
    assert [p.name for p in removed] == ["activity-2026-03-02.jsonl"]
    assert [p.name for p in chain.day_files(tmp_path)] == ["activity-2026-03-03.jsonl"]
    assert verify(tmp_path) == []
    write_days(tmp_path, days=1, per_day=2, start=datetime(2026, 4, 1, 15, tzinfo=timezone.utc))
    assert verify(tmp_path) == []


def test_purge_never_removes_the_file_the_writer_is_appending_to(tmp_path):
    """A wrong --today or clock must not delete the live file (its later lines would vanish)."""
    with ActivityLog(tmp_path, NY) as log:
        for i in range(3):
            log.write(record(i, NOON + timedelta(minutes=i)))
        log.flush()
        assert purge(tmp_path, 0, date(2027, 1, 1)) == []
        for i in range(3, 6):
            log.write(record(i, NOON + timedelta(minutes=i)))
    assert verify(tmp_path) == []
    assert len(lines(day(tmp_path, "2026-03-02"))) == 6


def test_crash_between_anchor_and_removal(tmp_path):
    write_days(tmp_path, days=3, per_day=2)
    kept = day(tmp_path, "2026-03-02").read_bytes()
    purge(tmp_path, 1, date(2026, 3, 4))
    day(tmp_path, "2026-03-02").write_bytes(kept)  # as if the process died before unlinking it
    assert verify(tmp_path) == []
    assert [p.name for p in purge(tmp_path, 1, date(2026, 3, 4))] == ["activity-2026-03-02.jsonl"]
    assert verify(tmp_path) == []


def test_deleting_the_anchor_is_detected(tmp_path):
    write_days(tmp_path, days=3, per_day=2)
    purge(tmp_path, 1, date(2026, 3, 4))
    os.unlink(tmp_path / chain.ANCHOR)
    problems = verify(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("activity-2026-03-03.jsonl:1: ")


def test_a_lagging_checkpoint_is_accepted(tmp_path):
    """A crash after the lines reached the disk but before the checkpoint was replaced leaves the
    checkpoint behind the log: that is not tampering, the chain still vouches for those lines."""
    write_days(tmp_path, days=1, per_day=2)
    old_head = (tmp_path / chain.HEAD).read_bytes()
    write_days(tmp_path, days=2, per_day=2, start=NOON + timedelta(hours=1))
    (tmp_path / chain.HEAD).write_bytes(old_head)
    assert verify(tmp_path) == []


def test_lines_swapped_across_the_day_boundary(tmp_path):
    write_days(tmp_path)
    a, b = day(tmp_path, "2026-03-02"), day(tmp_path, "2026-03-03")
    ra, rb = lines(a), lines(b)
    ra[-1], rb[0] = rb[0], ra[-1]
    put_lines(a, ra)
    put_lines(b, rb)
    problems = verify(tmp_path)
    assert problems[0] == ("activity-2026-03-02.jsonl:4: chain broken: this line belongs after "
                           "activity-2026-03-03.jsonl:1 (lines reordered)")
    assert all(p.startswith(("activity-2026-03-02.jsonl:", "activity-2026-03-03.jsonl:")) for p in problems)
