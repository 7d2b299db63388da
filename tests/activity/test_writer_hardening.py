"""The activity writer: no record poisons a batch, the dropped marker is prompt, tickets fire."""
from __future__ import annotations

import json
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from agent.activity import ActivityLog, check
from agent.activity.log import encode_line

TZ = ZoneInfo("America/New_York")


def lines(directory):
    return [json.loads(line) for f in sorted(directory.glob("*.jsonl"))
            for line in f.read_bytes().decode("utf-8").splitlines()]


@pytest.mark.parametrize("value", ["/p/\udcff", "\ud800x", "é\udcfe", b"\xff\x00raw", "plain"])
def test_encode_line_always_gives_valid_utf8_json_that_round_trips(value):
    line = encode_line({"path": value})
    back = json.loads(line.decode("utf-8"))["path"]
    assert back == (value if isinstance(value, str) else str(value))


def test_one_bad_record_does_not_lose_the_batch(tmp_path):
    circular: dict = {}
    circular["self"] = circular
    with ActivityLog(tmp_path, TZ) as log:
        log.write({"request_id": "a", "path": "/ok"})
        log.write({"request_id": "b", "path": "/p/\udcff"})
        log.write({"request_id": "c", "path": circular})
        log.write({"request_id": "d", "path": "/after"})
        log.flush()
    got = lines(tmp_path)
    assert [r["request_id"] for r in got] == ["a", "b", "c", "d"]
    assert got[2]["event"] == "unwritable"
    assert log.dropped == 0
    assert check(tmp_path)[0] == []


def test_the_dropped_marker_is_written_without_waiting_for_another_record(tmp_path):
    with ActivityLog(tmp_path, TZ) as log:
        log.write({"request_id": "a"})
        log.flush()
        log.dropped += 3            # what write() does when the queue is full
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not any(r.get("event") == "dropped" for r in lines(tmp_path)):
            time.sleep(0.01)
        markers = [r for r in lines(tmp_path) if r.get("event") == "dropped"]
        assert markers and markers[0]["count"] == 3


def test_commit_tickets_fire_after_the_line_is_on_disk(tmp_path):
    seen = []
    done = threading.Event()

    def ticket(ok):
        seen.append((ok, [r["request_id"] for r in lines(tmp_path)]))
        done.set()

    with ActivityLog(tmp_path, TZ) as log:
        log.write({"request_id": "x"}, ticket)
        assert done.wait(5)
    assert seen == [(True, ["x"])]


def test_a_dropped_record_releases_its_ticket_at_once(tmp_path):
    log = ActivityLog(tmp_path, TZ)
    log.close()
    got = []
    assert log.write({"request_id": "late"}, got.append) is False
    assert got == [False] and log.dropped == 1


def test_what_queues_during_a_commit_is_written_as_the_next_batch(tmp_path):
    """Classic group commit: records that arrive while the writer is
    busy with a batch (its fsync) are written together as the next batch, each ticket called once."""
    release, first_done = threading.Event(), threading.Event()
    fired: list[tuple[str, bool, list]] = []

    def first(ok):
        first_done.set()
        release.wait(5)   # holds the writer thread inside batch 1, as a slow fsync would
        fired.append(("first", ok, [r["request_id"] for r in lines(tmp_path)]))

    with ActivityLog(tmp_path, TZ) as log:
        sizes: list[int] = []
        append = log._append
        log._append = lambda records: (sizes.append(len(records)), append(records))[1]
        log.write({"request_id": "r0"}, first)
        assert first_done.wait(5)
        for i in range(1, 6):
            log.write({"request_id": f"r{i}"}, lambda ok, i=i: fired.append((f"r{i}", ok, [])))
        release.set()
        log.flush()
    assert sizes == [1, 5]
    assert fired[0] == ("first", True, ["r0"])          # batch 1 was on disk before its ticket
    assert [(n, ok) for n, ok, _ in fired[1:]] == [(f"r{i}", True) for i in range(1, 6)]
    assert [r["request_id"] for r in lines(tmp_path)] == [f"r{i}" for i in range(6)]


def test_a_group_shares_one_ticket_fired_once_all_its_lines_are_on_disk(tmp_path):
    seen, done = [], threading.Event()

    def ticket(ok):
        seen.append((ok, [r["request_id"] for r in lines(tmp_path)]))
        done.set()

    with ActivityLog(tmp_path, TZ) as log:
        log.write({"request_id": "solo"})
        assert log.write_group([{"request_id": "g1"}, {"request_id": "g2"}, {"request_id": "g3"}], ticket)
        assert done.wait(5)
    assert seen == [(True, ["solo", "g1", "g2", "g3"])]


def test_a_group_given_to_a_closed_log_is_released_and_counted(tmp_path):
    log = ActivityLog(tmp_path, TZ)
    log.close()
    got = []
    assert log.write_group([{"request_id": "a"}, {"request_id": "b"}], got.append) is False
    assert got == [False] and log.dropped == 2


def test_verify_log_says_which_durability_the_policy_uses(tmp_path):
    import subprocess

    from agent.context import DEFAULT_POLICY
    from tests.support import crossingguard_argv
    with ActivityLog(tmp_path / "home" / "activity", TZ) as log:
        log.write({"request_id": "a"})
    shipped = DEFAULT_POLICY.read_text(encoding="utf-8")
    policy = tmp_path / "async.yaml"
    policy.write_text(shipped.replace("\nactivity:\n", "\nactivity:\n  durability: async\n", 1), encoding="utf-8")
    for path, mode in ((DEFAULT_POLICY, "sync"), (policy, "async")):
        r = subprocess.run(crossingguard_argv("verify-log", "--home", str(tmp_path / "home"), "--policy", str(path)),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout.splitlines()[-1])["durability"] == mode
        assert ("asynchronously" in r.stderr) is (mode == "async")
