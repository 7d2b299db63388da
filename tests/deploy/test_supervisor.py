"""The supervisor of `run --workers N` with stand-in workers (small Python processes), and the
worker command line it builds. The real proxy under it: tests/deploy/test_workers.py."""
from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from agent import supervisor as sv
from agent.cli import build_parser
from agent.commands.run import worker_argv, worker_metrics_port

# A stand-in worker: records its start and every SIGHUP in a file, exits on SIGTERM/SIGINT.
WORKER = r"""
import os, signal, sys, time
path = sys.argv[1]
def note(s):
    with open(path, "a") as f:
        f.write(f"{os.getpid()} {s}\n")
signal.signal(signal.SIGHUP, lambda *a: note("hup"))
signal.signal(signal.SIGTERM, lambda *a: (note("term"), sys.exit(0)))
signal.signal(signal.SIGINT, lambda *a: (note("int"), sys.exit(0)))
note("start")
if len(sys.argv) > 2:
    sys.exit(int(sys.argv[2]))
while True:
    time.sleep(0.05)
"""


def wait_until(fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


def events(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        return []
    return [(int(a), b) for a, b in (ln.split() for ln in path.read_text().splitlines())]


@pytest.fixture
def script(tmp_path) -> Path:
    p = tmp_path / "worker.py"
    p.write_text(WORKER)
    return p


def test_restarts_a_dead_worker_forwards_sighup_and_stops_all(tmp_path, script):
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    sup = sv.Supervisor(lambda i: [sys.executable, str(script), str(logs[i])], 2, out=open(tmp_path / "out", "w"))
    t = threading.Thread(target=sup.run)
    t.start()
    try:
        wait_until(lambda: all(events(p) for p in logs))
        first = sup.pids()
        sv_victim = first[1]
        import os
        os.kill(sv_victim, signal.SIGKILL)
        wait_until(lambda: sup.pids()[1] not in (None, sv_victim))
        assert sup.pids()[0] == first[0], "the surviving worker was touched"
        wait_until(lambda: [e for _, e in events(logs[1])] == ["start", "start"])
        sup.request_reload()
        wait_until(lambda: all(any(e == "hup" for _, e in events(p)) for p in logs))
        # The restarted worker (not the dead one) got the reload.
        assert (sup.pids()[1], "hup") in events(logs[1])
    finally:
        sup.request_stop(signal.SIGTERM)
        t.join(30)
    assert not t.is_alive()
    assert all(events(p)[-1][1] == "term" for p in logs)
    assert sup.workers[1].restarts == 1 and sup.workers[0].restarts == 0


def test_a_worker_that_keeps_dying_stops_the_supervisor(tmp_path, script, monkeypatch):
    monkeypatch.setattr(sv, "backoff", lambda n: 0.01)
    out = tmp_path / "out"
    sup = sv.Supervisor(lambda i: [sys.executable, str(script), str(tmp_path / f"w{i}.log"),
                                   *(["3"] if i == 1 else [])], 2, out=open(out, "w"))
    rc = sup.run()
    assert rc == 1
    assert len(events(tmp_path / "w1.log")) == sv.CRASH_LIMIT
    assert "exited 5 times" in out.read_text()
    assert events(tmp_path / "w0.log")[-1][1] == "term"      # the healthy one was stopped cleanly


@pytest.mark.skipif(sv._pidfd(__import__("os").getpid()) is None, reason="no pidfd_open on this kernel")
def test_an_idle_supervisor_sleeps_yet_reacts_at_once(tmp_path, script, monkeypatch):
    """No polling: with the safety-net wake-up pushed to a minute, a killed worker is still
    restarted, a reload forwarded and a stop obeyed within seconds (pidfds and the wake-up pipe),
    and the idle supervisor thread uses next to no CPU meanwhile."""
    import os
    monkeypatch.setattr(sv, "IDLE_WAIT", 60.0)
    monkeypatch.setattr(sv, "POLL", 60.0)
    monkeypatch.setattr(sv, "backoff", lambda n: 0.05)
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    sup = sv.Supervisor(lambda i: [sys.executable, str(script), str(logs[i])], 2, out=open(tmp_path / "out", "w"))
    t = threading.Thread(target=sup.run)
    t.start()
    try:
        wait_until(lambda: all(events(p) for p in logs))
        cpu0 = time.process_time()
        time.sleep(1.0)
        idle_cpu = time.process_time() - cpu0
        assert idle_cpu < 0.2, f"the supervisor thread busy while idle: {idle_cpu:.3f}s of CPU in 1s"
        victim = sup.pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: sup.pids()[0] not in (None, victim), timeout=10)
        wait_until(lambda: [e for _, e in events(logs[0])] == ["start", "start"], timeout=10)
        sup.request_reload()
        wait_until(lambda: all(any(e == "hup" for _, e in events(p)) for p in logs), timeout=10)
    finally:
        t0 = time.monotonic()
        sup.request_stop(signal.SIGTERM)
        t.join(30)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 10
    assert all(events(p)[-1][1] == "term" for p in logs)


@pytest.mark.parametrize("exits, delay", [(1, 0.25), (2, 0.5), (3, 1.0), (10, 10.0)])
def test_backoff(exits, delay):
    assert sv.backoff(exits) == delay


def test_port_is_free_sees_a_listener():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert "in use" in sv.port_is_free("127.0.0.1", port)
    assert sv.port_is_free("127.0.0.1", port) is None


def parse(*argv):
    return build_parser().parse_args(["run", *argv])


def test_worker_command_line_carries_the_options_over():
    args = parse("--home", "/srv/cg", "--policy", "p.yaml", "--listen-host", "0.0.0.0", "--listen-port", "3128",
                 "--metrics-port", "9500", "--workers", "4", "--", "--mode", "transparent", "--set", "x=1")
    argv = worker_argv(args, 2)
    assert argv[:3] == [sys.executable, "-m", "agent.cli"]
    tail = argv[3:]
    assert tail[0] == "run"
    # workers never start a review app of their own: the supervisor runs the one (docs/review.md)
    assert tail.count("--no-review") == 1
    opts = [t for t in tail[1:tail.index("--")] if t != "--no-review"]
    pairs = dict(zip(opts[::2], opts[1::2]))
    assert pairs == {"--home": "/srv/cg", "--policy": "p.yaml", "--listen-host": "0.0.0.0",
                     "--listen-port": "3128", "--workers": "1", "--worker-index": "2", "--metrics-port": "9502"}
    assert tail[tail.index("--") + 1:] == ["--mode", "transparent", "--set", "x=1"]
    # The worker's own command line parses back to a worker.
    again = build_parser().parse_args(tail)
    assert again.workers == 1 and again.worker_index == 2 and again.metrics_port == 9502 and again.no_review


@pytest.mark.parametrize("base, index, port", [(None, 0, 9464), (None, 3, 9467), (9500, 1, 9501), (0, 2, 0)])
def test_worker_metrics_ports(base, index, port):
    args = parse(*(["--metrics-port", str(base)] if base is not None else []), "--workers", "4")
    assert worker_metrics_port(args, index) == port


def test_workers_need_a_fixed_port(tmp_path, capsys):
    from agent.cli import main
    rc = main(["run", "--home", str(tmp_path), "--listen-port", "0", "--workers", "2"])
    assert rc != 0
    assert "--workers N needs a fixed --listen-port" in capsys.readouterr().err


def test_workers_stop_when_the_supervisor_is_killed(tmp_path, script):
    """A SIGKILLed supervisor (no chance to stop anyone) leaves no orphan holding the port."""
    import os
    import subprocess
    code = ("import sys; from agent import supervisor as sv; "
            f"s = sv.Supervisor(lambda i: [sys.executable, {str(script)!r}, {str(tmp_path)!r} + f'/w{{i}}.log'], 2); "
            "s.run()")
    sup = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: all(events(tmp_path / f"w{i}.log") for i in range(2)))
        pids = [events(tmp_path / f"w{i}.log")[0][0] for i in range(2)]
        sup.kill()
        sup.wait(10)

        def gone(pid):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        wait_until(lambda: all(gone(p) for p in pids), 10)
        assert [events(tmp_path / f"w{i}.log")[-1][1] for i in range(2)] == ["term", "term"]
    finally:
        if sup.poll() is None:
            sup.kill()
