"""Group commit on the event loop with the fsync helper process (agent/activity/log.py, syncer.py):
the loop writes each batch, the helper fdatasyncs and answers; a dead, failing or stuck helper
never hangs a ticket; midnight hands the helper the new file; checkpoints name confirmed lines."""
from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
from zoneinfo import ZoneInfo


from agent.activity import ActivityLog, check
from agent.activity import chain
from agent.activity.log import SYNCER, _Helper
from agent.activity.syncer import ANSWER, DATA, FAILED, OPEN

TZ = ZoneInfo("America/New_York")


def lines(directory):
    return [json.loads(line) for f in sorted(directory.glob("*.jsonl"))
            for line in f.read_bytes().decode("utf-8").splitlines()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def commit(log: ActivityLog, *request_ids: str, time_: str | None = None):
    fut = asyncio.get_running_loop().create_future()
    recs = [{"request_id": r, **({"time": time_} if time_ else {})} for r in request_ids]
    assert log.write_group(recs, fut)
    return await asyncio.wait_for(fut, 15)


def test_the_loop_writes_the_helper_syncs_and_the_ticket_fires_after_the_line_is_there(tmp_path):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        log.write({"request_id": "before"})          # the writer thread's, before the switch
        assert log.start_group_commit(asyncio.get_running_loop())
        helper = log._helper.proc
        assert alive(helper.pid) and helper.args[-3] == str(SYNCER) and log.helper_up == 1
        fut = asyncio.get_running_loop().create_future()
        log.write_group([{"request_id": "a"}, {"request_id": "b"}], fut)
        on_disk_when_fired = []
        fut.add_done_callback(lambda f: on_disk_when_fired.append([r["request_id"] for r in lines(tmp_path)]))
        assert await asyncio.wait_for(fut, 15) is True
        assert await commit(log, "c") is True
        log.close()
        return helper, on_disk_when_fired

    helper, seen = run(main())
    assert seen == [["before", "a", "b"]]
    assert [r["request_id"] for r in lines(tmp_path)] == ["before", "a", "b", "c"]
    assert check(tmp_path)[0] == []
    head = chain.read_json(tmp_path / chain.HEAD)
    assert head["line"] == 4                          # close wrote a current checkpoint
    assert helper.wait(5) == 0                        # closed with the log


def test_a_killed_helper_hangs_nothing_the_writer_thread_takes_over(tmp_path, caplog):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        assert await commit(log, "a") is True
        os.kill(log._helper.proc.pid, signal.SIGSTOP)  # hold it, so "b" waits for an answer that never comes
        fut = asyncio.get_running_loop().create_future()
        log.write_group([{"request_id": "b"}], fut)
        await asyncio.sleep(0.2)
        assert not fut.done()
        os.kill(log._helper.proc.pid, signal.SIGKILL)
        assert await asyncio.wait_for(fut, 15) is True   # synced by the writer thread instead
        assert log.helper_up == 0
        assert await commit(log, "c") is True            # and it commits from now on
        log.close()

    with caplog.at_level("ERROR", logger="crossingguard.activity"):
        run(main())
    assert [r["request_id"] for r in lines(tmp_path)] == ["a", "b", "c"]
    assert check(tmp_path)[0] == []
    assert any("fsync helper" in r.getMessage() and "writer thread" in r.getMessage() for r in caplog.records)


MUTE_HELPER = """
import socket, sys
sys.path.insert(0, {where!r})
import syncer
sock = socket.socket(fileno=int(sys.argv[1]))
sock.setblocking(True)

class Mute:                       # writes and syncs as the real helper, never answers
    def recv(self, *a):
        return sock.recv(*a)

    def send(self, data):
        return len(data)

syncer.serve(Mute(), int(sys.argv[2]))
"""


def test_lines_the_helper_wrote_but_never_confirmed_are_not_written_twice(tmp_path, monkeypatch):
    script = tmp_path / "mute_helper.py"
    script.write_text(MUTE_HELPER.format(where=str(SYNCER.parent)))
    monkeypatch.setattr("agent.activity.log.SYNCER", script)
    logdir = tmp_path / "activity"

    async def main():
        log = ActivityLog(logdir, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        fut = asyncio.get_running_loop().create_future()
        log.write_group([{"request_id": "a1"}, {"request_id": "a2"}], fut)
        deadline = time.monotonic() + 10
        while len(lines(logdir)) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)                 # on disk, and no answer will come
        assert not fut.done()
        os.kill(log._helper.proc.pid, signal.SIGKILL)
        assert await asyncio.wait_for(fut, 15) is True
        assert await commit(log, "b") is True
        log.close()

    run(main())
    assert [r["request_id"] for r in lines(logdir)] == ["a1", "a2", "b"]
    assert check(logdir)[0] == []


def test_a_stuck_helper_does_not_hang_close(tmp_path):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        pid = log._helper.proc.pid
        os.kill(pid, signal.SIGSTOP)                  # a helper stuck in a dead disk's fdatasync
        fut = asyncio.get_running_loop().create_future()
        log.write_group([{"request_id": "held"}], fut)
        started = time.monotonic()
        log.close()                                   # kills the helper after HELPER_STOP, syncs itself
        took = time.monotonic() - started
        assert await asyncio.wait_for(fut, 15) is True
        return pid, took

    pid, took = run(main())
    assert took < 10 and not alive(pid)
    assert [r["request_id"] for r in lines(tmp_path)] == ["held"]


def test_midnight_gives_the_helper_the_new_file_and_the_chain_runs_on(tmp_path):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        assert await commit(log, "late", time_="2026-03-02T04:59:59+00:00") is True   # 23:59:59 local
        assert await commit(log, "early", time_="2026-03-02T05:00:01+00:00") is True  # 00:00:01 local
        fds_in_helper = len(os.listdir(f"/proc/{log._helper.proc.pid}/fd"))
        log.close()
        return fds_in_helper

    fds = run(main())
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["activity-2026-03-01.jsonl", "activity-2026-03-02.jsonl"]
    assert [r["request_id"] for r in lines(tmp_path)] == ["late", "early"]
    assert check(tmp_path)[0] == []
    assert fds <= 6        # std streams, socket, directory, the current day file: the old one was closed


def test_every_batch_is_confirmed_even_when_the_socket_fills_up(tmp_path):
    """Linux queues about ten messages on the socket; a helper held in a long fdatasync must not
    make the loop fail or lose a request: the newest one is sent when the helper answers."""
    async def main():
        log = ActivityLog(tmp_path, TZ)
        loop = asyncio.get_running_loop()
        assert log.start_group_commit(loop)
        pid = log._helper.proc.pid
        os.kill(pid, signal.SIGSTOP)
        futs = []
        while not log._helper.outbox and len(futs) < 5000:   # until the socket is full
            fut = loop.create_future()
            log.write_group([{"request_id": f"r{len(futs)}"}], fut)
            futs.append(fut)
        assert log._helper.outbox
        for i in range(len(futs), len(futs) + 10):    # and a few more while it is
            fut = loop.create_future()
            log.write_group([{"request_id": f"r{i}"}], fut)
            futs.append(fut)
        os.kill(pid, signal.SIGCONT)
        got = await asyncio.wait_for(asyncio.gather(*futs), 15)
        assert log.helper_up == 1                     # still the helper's job
        log.close()
        return got

    got = run(main())
    assert got == [True] * len(got)
    assert len(lines(tmp_path)) == len(got) and check(tmp_path)[0] == []


def test_the_checkpoint_names_only_lines_the_helper_confirmed(tmp_path, monkeypatch):
    monkeypatch.setattr("agent.activity.log.CHECKPOINT_EVERY", 0.0)

    async def main():
        log = ActivityLog(tmp_path, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        assert await commit(log, "a") is True
        await asyncio.sleep(0.3)                      # the writer thread writes the checkpoint item
        confirmed = chain.read_json(tmp_path / chain.HEAD)
        os.kill(log._helper.proc.pid, signal.SIGSTOP)
        log.write_group([{"request_id": "b"}], asyncio.get_running_loop().create_future())
        await asyncio.sleep(0.3)
        unconfirmed = chain.read_json(tmp_path / chain.HEAD)
        os.kill(log._helper.proc.pid, signal.SIGCONT)
        log.close()
        return confirmed, unconfirmed

    confirmed, unconfirmed = run(main())
    assert confirmed["line"] == 1
    assert unconfirmed == confirmed                   # "b" written, not yet synced: not checkpointed


def test_a_stuck_helper_makes_the_loop_drop_and_count_never_wait(tmp_path):
    """The drop-versus-block choice of the writer queue holds for the helper: past max_queue lines
    waiting, a group is dropped at once (its ticket says False), counted, and marked in the chain."""
    async def main():
        log = ActivityLog(tmp_path, TZ, max_queue=5)
        loop = asyncio.get_running_loop()
        assert log.start_group_commit(loop)
        os.kill(log._helper.proc.pid, signal.SIGSTOP)
        held = [loop.create_future() for _ in range(5)]
        for i, fut in enumerate(held):
            log.write_group([{"request_id": f"r{i}"}], fut)
        over = loop.create_future()
        log.write_group([{"request_id": "over"}], over)
        assert over.done() and over.result() is False and log.dropped == 1
        assert log.queue_depth == 5
        os.kill(log._helper.proc.pid, signal.SIGCONT)
        assert await asyncio.wait_for(asyncio.gather(*held), 15) == [True] * 5
        assert await commit(log, "next") is True
        log.close()

    run(main())
    got = lines(tmp_path)
    assert [r.get("request_id") or r["event"] for r in got] == ["r0", "r1", "r2", "r3", "r4", "dropped", "next"]
    assert got[5]["count"] == 1 and check(tmp_path)[0] == []


def test_an_empty_newest_day_file_does_not_break_the_chain(tmp_path):
    """The helper creates a day file when it is named; a crash before its first line leaves it
    empty, and the chain must continue from the last line of the file before it."""
    with ActivityLog(tmp_path, TZ) as log:
        log.write({"request_id": "a", "time": "2026-03-01T12:00:00-05:00"})
    (tmp_path / "activity-2026-03-02.jsonl").touch()
    with ActivityLog(tmp_path, TZ) as log:
        log.write({"request_id": "b", "time": "2026-03-02T12:00:00-05:00"})
    assert check(tmp_path)[0] == []


def test_writes_from_another_thread_go_through_the_loop(tmp_path):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        loop = asyncio.get_running_loop()
        assert log.start_group_commit(loop)
        got = []
        await loop.run_in_executor(None, lambda: log.write({"request_id": "tool"}, got.append))
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await loop.run_in_executor(None, log.flush)   # waits for the loop's own fdatasync
        log.close()
        return got

    assert run(main()) == [True]
    assert [r["request_id"] for r in lines(tmp_path)] == ["tool"]


# ---- the helper program itself (protocol of agent/activity/syncer.py) ----

def answer(helper, timeout: float = 10) -> int:
    helper.sock.settimeout(timeout)
    try:
        return ANSWER.unpack(helper.sock.recv(ANSWER.size))[0]
    finally:
        helper.sock.setblocking(False)


def test_the_helper_appends_syncs_and_answers_the_highest_batch(tmp_path):
    helper = _Helper(tmp_path)
    try:
        helper.send(1, OPEN, b"a.jsonl")
        helper.send(1, DATA, b"one\n")
        helper.send(2, DATA, b"two\n")
        helper.send(3, OPEN, b"b.jsonl")               # a new day file: the old one synced and closed
        helper.send(3, DATA, b"three\n")
        assert helper.push()
        got = 0
        while got < 3:
            got = answer(helper)
        assert (tmp_path / "a.jsonl").read_bytes() == b"one\ntwo\n"
        assert (tmp_path / "b.jsonl").read_bytes() == b"three\n"
        assert oct((tmp_path / "b.jsonl").stat().st_mode & 0o777) == "0o600"
        assert len(os.listdir(f"/proc/{helper.proc.pid}/fd")) <= 6   # std streams, socket, directory, one day file
    finally:
        helper.close()
    assert helper.proc.returncode == 0


def test_a_failed_write_is_answered_as_failed_and_the_helper_exits(tmp_path):
    helper = _Helper(tmp_path)
    try:
        helper.send(7, DATA, b"no file named yet\n")  # a protocol error is a failed write
        assert helper.push()
        assert answer(helper) == 7 | FAILED
        assert helper.proc.wait(10) == 1
    finally:
        helper.close()


def test_the_helper_exits_when_its_process_is_killed(tmp_path):
    """SIGKILL of the proxy: the kernel closes its socket end and the helper reads end-of-file."""
    code = (
        "import asyncio, sys\n"
        "from zoneinfo import ZoneInfo\n"
        "from agent.activity import ActivityLog\n"
        "async def main():\n"
        f"    log = ActivityLog({str(tmp_path)!r}, ZoneInfo('UTC'))\n"
        "    assert log.start_group_commit(asyncio.get_running_loop())\n"
        "    print(log._helper.proc.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        assert alive(pid)
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "the fsync helper outlived its proxy"
    finally:
        proc.kill()
        proc.stdout.close()


def test_the_helper_ignores_the_signals_of_a_shutdown(tmp_path):
    """Ctrl-C or a service stop reaches the whole group: the helper stays until the log closes it."""
    helper = _Helper(tmp_path)
    try:
        time.sleep(0.3)                               # past the interpreter start, handlers set
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(helper.proc.pid, sig)
        time.sleep(0.2)
        assert helper.proc.poll() is None
        helper.send(1, OPEN, b"f.jsonl")
        helper.send(1, DATA, b"x\n")
        assert helper.push()
        assert answer(helper) == 1
    finally:
        helper.close()
    assert helper.proc.returncode == 0


def test_a_batch_that_cannot_be_rendered_is_dropped_and_counted_and_the_chain_holds(tmp_path):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        assert await commit(log, "a") is True
        render = log._render

        def broken(record):
            if record.get("request_id") == "bad":
                raise RuntimeError("a bug in rendering")
            return render(record)
        log._render = broken
        fut = asyncio.get_running_loop().create_future()
        log.write_group([{"request_id": "fine"}, {"request_id": "bad"}], fut)
        assert fut.done() and fut.result() is False and log.dropped == 2
        assert await commit(log, "c") is True
        log.close()

    run(main())
    got = lines(tmp_path)
    assert [r.get("request_id") or r["event"] for r in got] == ["a", "dropped", "c"]
    assert got[1]["count"] == 2 and check(tmp_path)[0] == []


def test_a_line_too_big_for_the_socket_is_written_by_the_writer_thread(tmp_path, caplog):
    """A message over the socket's limit (a few hundred KB) cannot go to the helper: the writer
    thread takes over and writes it; nothing waits forever and nothing is lost."""
    async def main():
        log = ActivityLog(tmp_path, TZ)
        assert log.start_group_commit(asyncio.get_running_loop())
        fut = asyncio.get_running_loop().create_future()
        log.write_group([{"request_id": "huge", "path": "/" + "x" * 1_500_000}], fut)
        assert await asyncio.wait_for(fut, 15) is True
        assert log.helper_up == 0
        assert await commit(log, "after") is True
        log.close()

    with caplog.at_level("ERROR", logger="crossingguard.activity"):
        run(main())
    assert [r["request_id"] for r in lines(tmp_path)] == ["huge", "after"]
    assert check(tmp_path)[0] == []
    assert any("sending to the fsync helper failed" in r.getMessage() for r in caplog.records)


def test_poll_commits_takes_an_answer_already_sent_without_awaiting(tmp_path):
    async def main():
        log = ActivityLog(tmp_path, TZ)
        loop = asyncio.get_running_loop()
        assert log.start_group_commit(loop)
        fut = loop.create_future()
        log.write_group([{"request_id": "a"}], fut)
        # wait here, blocking the loop, until the answer is in the socket (the loop has not seen it)
        assert select.select([log._helper.sock], [], [], 10)[0]
        assert not fut.done()
        log.poll_commits()                            # what responseheaders does before awaiting
        assert fut.done() and fut.result() is True
        log.close()

    run(main())
