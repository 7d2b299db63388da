"""The supervisor of `crossingguard run --workers N`: N worker processes, one port, kept alive.

Each worker is a complete `crossingguard run` (mitmproxy with every addon) started with
`--worker-index I`; it joins a SO_REUSEPORT group on the one listen port (proxy_addons/reuseport.py),
so the kernel spreads connections over the workers and no process sits in the data path. The
supervisor only starts, watches and signals them:

- a worker that exits while the supervisor is not stopping is started again (same index, same
  metrics port, same activity chain) after a short backoff; the others keep serving meanwhile.
  A worker that keeps dying (`CRASH_LIMIT` exits within `CRASH_WINDOW` seconds) is a broken
  configuration or host, not bad luck: the supervisor stops everything and exits 1, so systemd
  or Kubernetes restarts the whole unit and the failure is visible.
- SIGHUP is forwarded to every worker: each reloads policy, roster and devices (proxy_addons/state.py).
- SIGINT/SIGTERM are forwarded and the workers get `STOP_TIMEOUT` seconds to flush their activity
  logs and exit (their `done` hooks), then are killed.

The loop sleeps until something happens instead of polling: it waits (select) on a pidfd per worker
(readable when that worker exits) and on a self-pipe that signals (set_wakeup_fd) and
`request_stop`/`request_reload` write to, with a timeout only for the next scheduled restart. An idle
supervisor wakes every IDLE_WAIT seconds (a safety net), not ten times a second. Where pidfds are not
available (not Linux, kernel < 5.3) it falls back to polling every POLL seconds.

Pure process management: no mitmproxy here, so it is tested without a proxy too.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger("crossingguard.supervisor")

CRASH_LIMIT = 5
CRASH_WINDOW = 60.0
STOP_TIMEOUT = 20.0
WORKER_COUNT_ENV = "CROSSINGGUARD_WORKER_COUNT"   # read by proxy_addons/bundle.py
POLL = 0.1          # fallback without pidfds: how often exited workers are looked for
IDLE_WAIT = 5.0     # with pidfds: the longest sleep when nothing is due (a safety net only)


@dataclass
class Worker:
    index: int
    argv: list[str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    exits: list[float] = field(default_factory=list)
    restart_at: float | None = None
    pidfd: int | None = None          # readable once the process exited (Linux >= 5.3)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


def backoff(recent_exits: int) -> float:
    """Seconds before restarting a worker that has exited `recent_exits` times in the window."""
    return min(10.0, 0.25 * 2 ** max(0, recent_exits - 1))


class Supervisor:
    def __init__(self, argv_for: Callable[[int], list[str]], workers: int, *,
                 env: dict | None = None, out=None):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = [Worker(i, argv_for(i)) for i in range(workers)]
        self.env = env
        self.out = out or sys.stderr
        self._stop_signal: int | None = None
        self._hup = False
        # Lives as long as the supervisor (one per process in practice): closing it while a signal
        # handler could still write to it would let the descriptor number be reused elsewhere.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    # ------------------------------------------------------------------ signals
    def _on_stop(self, signum, frame) -> None:
        self._stop_signal = signum

    def _on_hup(self, signum, frame) -> None:
        self._hup = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        # A signal writes a byte to the pipe, which ends the loop's select at once (the Python
        # handler above has set its flag by the time the loop looks).
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass                          # a full pipe wakes the loop just the same

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        self._stop_signal = signum
        self._wake()

    def request_reload(self) -> None:
        self._hup = True
        self._wake()

    # ------------------------------------------------------------------ workers
    def _say(self, msg: str) -> None:
        print(f"crossingguard supervisor: {msg}", file=self.out, flush=True)

    def _start(self, w: Worker) -> None:
        # Started with SIGHUP ignored (inherited through exec) until the worker installs its reload
        # handler: a reload fanned out while a worker is still importing must not kill it. And
        # with a parent-death signal: if the supervisor itself is killed, its workers stop too
        # instead of holding the port as orphans nobody restarts or reloads.
        env = dict(os.environ if self.env is None else self.env)
        env[WORKER_COUNT_ENV] = str(len(self.workers))   # workers share out WireGuard listeners by it
        w.proc = subprocess.Popen(w.argv, env=env, stdin=subprocess.DEVNULL,
                                  preexec_fn=_prepare_worker)
        w.pidfd = _pidfd(w.proc.pid)
        w.started = time.monotonic()
        w.restart_at = None

    @staticmethod
    def _close_pidfd(w: Worker) -> None:
        if w.pidfd is not None:
            os.close(w.pidfd)
            w.pidfd = None

    def pids(self) -> dict[int, int | None]:
        return {w.index: w.pid for w in self.workers}

    def _forward(self, signum: int) -> None:
        for w in self.workers:
            if w.proc is not None and w.proc.poll() is None:
                try:
                    w.proc.send_signal(signum)
                except ProcessLookupError:
                    pass

    def _reap(self, now: float) -> int | None:
        """Notice exited workers and schedule restarts; an exit code to give up with, or None."""
        for w in self.workers:
            if w.proc is None or w.proc.poll() is None:
                continue
            code = w.proc.returncode
            w.proc = None
            self._close_pidfd(w)
            w.exits = [t for t in w.exits if now - t < CRASH_WINDOW] + [now]
            if len(w.exits) >= CRASH_LIMIT:
                self._say(f"worker {w.index} exited {len(w.exits)} times within {CRASH_WINDOW:g}s "
                          f"(last exit code {code}); stopping all workers")
                return 1
            delay = backoff(len(w.exits))
            self._say(f"worker {w.index} exited with {code}; restarting in {delay:g}s")
            w.restart_at = now + delay
        for w in self.workers:
            if w.proc is None and w.restart_at is not None and now >= w.restart_at:
                self._start(w)
                w.restarts += 1
        return None

    def _stop_all(self, signum: int) -> None:
        self._forward(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for w in self.workers:
            if w.proc is None:
                continue
            try:
                w.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"worker {w.index} did not stop within {STOP_TIMEOUT:g}s; killing it")
                w.proc.kill()
                w.proc.wait(timeout=5)
            w.proc = None
            self._close_pidfd(w)

    def run(self) -> int:
        """Start every worker and supervise until asked to stop; the exit code."""
        for w in self.workers:
            self._start(w)
        self._say(f"{len(self.workers)} workers started (pids "
                  f"{', '.join(str(w.pid) for w in self.workers)})")
        code = 0
        try:
            while self._stop_signal is None:
                if self._hup:
                    self._hup = False
                    self._say("SIGHUP: reloading policy, roster and devices in every worker")
                    self._forward(signal.SIGHUP)
                give_up = self._reap(time.monotonic())
                if give_up is not None:
                    code = give_up
                    break
                self._sleep()
        finally:
            self._stop_all(self._stop_signal or signal.SIGTERM)
        return code

    def _sleep(self) -> None:
        """Until a worker exits, a signal or request arrives, or the next restart is due."""
        fds = [w.pidfd for w in self.workers if w.proc is not None and w.pidfd is not None]
        if any(w.proc is not None and w.pidfd is None for w in self.workers):
            timeout = POLL                # a worker we cannot wait on: poll for it
        else:
            timeout = IDLE_WAIT
        now = time.monotonic()
        for w in self.workers:
            if w.proc is None and w.restart_at is not None:
                timeout = min(timeout, max(0.0, w.restart_at - now))
        if self._stop_signal is not None or self._hup:
            timeout = 0.0                 # a signal arrived since the loop looked
        try:
            select.select([self._wake_r, *fds], [], [], timeout)
        except InterruptedError:
            pass
        try:
            while os.read(self._wake_r, 512):
                pass
        except (BlockingIOError, OSError):
            pass


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits, or None (no pidfd_open here)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _prepare_worker() -> None:
    """In the forked child, before exec (async-signal-safe calls only)."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)          # PR_SET_PDEATHSIG


def _load_prctl():
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None                        # not Linux: orphans are the service manager's to stop


_PRCTL = _load_prctl()


def port_is_free(host: str, port: int) -> str | None:
    """None if nothing listens on host:port, else why. Bound WITHOUT SO_REUSEPORT on purpose: a
    leftover worker group of the same user would otherwise be joined silently and keep part of
    the traffic."""
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # TIME_WAIT leftovers are fine
        try:
            s.bind((host or "0.0.0.0", port))
        except OSError as exc:
            return f"{host or '*'}:{port} is in use ({exc.strerror or exc})"
    return None


def worker_environment() -> dict:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
