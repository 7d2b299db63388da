"""Start `crossingguard run` (or bare `mitmdump`) as a real subprocess and wait until it serves.

    with CrossingGuardProcess(home=tmp, roster=..., devices=..., mitm_args=[...]) as proxy:
        proxy.port, proxy.ca_file, proxy.url

The process gets a free loopback port; readiness is a TCP connect to that port (mitmproxy binds
only after every addon's configure() succeeded). `stop()` sends SIGINT and waits, so addons run
their `done` hooks (the activity log flushes); after the timeout it kills. Output goes to a log
file under the home directory; `output()` reads it for assertion messages.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A loopback port that is free for both TCP and UDP now and lies outside the kernel's
    ephemeral range.

    Why not bind to 0: the kernel hands out ephemeral ports to every outgoing connection and every
    bind(0) of the parallel tests, so a port released here can be taken again before the process
    under test binds it; the readiness connect then reaches the other listener while our process
    exits with "address already in use" (seen once in CI). Ports below the ephemeral range are
    never picked by the kernel, and this process never hands out the same one twice.
    """
    import random
    low, _ = _ephemeral_range()
    rng = random.Random()
    for _ in range(500):   # bounded: a free port below the range is found in a try or two
        port = rng.randrange(max(1024, low - 22000), low)
        if port in _handed_out:
            continue
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind((host, port))
        except OSError:
            continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:   # nothing free below: kernel's pick
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class ManagedProcess:
    """A subprocess listening on `port`, always terminated by stop() / the context manager."""

    def __init__(self, argv: list[str], port: int, log_path: Path, env: dict | None = None,
                 host: str = "127.0.0.1", start_timeout: float = 30.0):
        self.argv, self.port, self.host, self.log_path = argv, port, host, Path(log_path)
        self.env = {**os.environ, **(env or {})}
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ManagedProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        try:
            wait_for_port(self.host, self.port, self.start_timeout, self.proc)
            self._confirm_it_is_ours()
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n--- output ---\n{self.output()}") from exc
        return self

    def _confirm_it_is_ours(self) -> None:
        """The connect may have reached another process's listener on the same port: if ours has
        exited meanwhile, or says its port was taken, fail here with its output rather than later
        with a puzzling assertion."""
        time.sleep(0.05)
        if self.proc.poll() is not None or "address already in use" in self.output():
            raise RuntimeError(f"process on port {self.port} exited or could not bind "
                               f"(returncode {self.proc.poll()})")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGINT (clean shutdown: `done` hooks run), then SIGKILL after `timeout` seconds."""
        if self.proc is None:
            log = getattr(self, "_log", None)
            if log is not None and not log.closed:
                log.close()
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.returncode = self.proc.returncode
        self.proc = None
        self._log.close()
        return self.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


NESTED_COMMANDS = frozenset({"session", "ca", "incidents", "accounts"})   # commands with sub-subcommands


def crossingguard_argv(*args: str) -> list[str]:
    """argv running the `crossingguard` CLI of this checkout with this interpreter."""
    return [sys.executable, "-m", "agent.cli", *args]


class CrossingGuardProcess(ManagedProcess):
    """`crossingguard run` on a free loopback port with state under `home`."""

    def __init__(self, home: Path, *, policy: Path | None = None, roster: Path | None = None,
                 devices: Path | None = None, mitm_args: list[str] = (), metrics_port: int = 0,
                 listen_host: str = "127.0.0.1", port: int | None = None, extra_env: dict | None = None,
                 start_timeout: float = 45.0, run_args: list[str] = ()):
        self.home = Path(home)
        port = port or free_port(listen_host)
        common = ["--home", str(self.home)]
        if policy:
            common += ["--policy", str(policy)]
        if roster:
            common += ["--roster", str(roster)]
        if devices:
            common += ["--devices", str(devices)]
        argv = crossingguard_argv("run", *common, "--listen-host", listen_host, "--listen-port", str(port),
                                  "--metrics-port", str(metrics_port), "--no-review", *run_args)
        if mitm_args:
            argv += ["--", *mitm_args]
        super().__init__(argv, port, self.home / "proxy-output.log", env=extra_env, host=listen_host,
                         start_timeout=start_timeout)
        self.common = common

    @property
    def ca_file(self) -> Path:
        return self.home / "ca" / "mitmproxy-ca-cert.pem"

    def cli(self, *args: str, timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
        """Run another `crossingguard` command against the same --home/--roster/--devices."""
        cmd, rest = args[0], args[1:]
        sub = []
        if cmd in NESTED_COMMANDS and rest:  # `session open ...`: common options after the sub-subcommand
            sub, rest = [rest[0]], rest[1:]
        return subprocess.run(crossingguard_argv(cmd, *sub, *self.common, *rest), capture_output=True,
                              text=True, timeout=timeout, check=check)


def mitmdump_argv(*args: str) -> list[str]:
    """argv running this environment's mitmdump (bare mitmproxy, for comparisons)."""
    exe = Path(sys.executable).with_name("mitmdump")
    return [str(exe) if exe.exists() else "mitmdump", *args]
