"""Run the origin and the forwarder in their own processes (benchmarks: they must not share the
measuring process's GIL). Each child prints its port(s) on its first line and exits when its
stdin closes; `Spawned.stop()` closes stdin, then terminates."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Spawned:
    def __init__(self, argv: list[str]):
        self.proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        if not line:
            self.stop()
            raise RuntimeError(f"{argv} did not start")
        self.ports = [int(x) for x in line[1:]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def spawn_origin(cert: Path, key: Path) -> Spawned:
    """.ports = [https_port, http_port]"""
    return Spawned([sys.executable, "-m", "tests.support.origin", "--cert", str(cert), "--key", str(key)])


def spawn_forwarder(https_port: int, http_port: int | None = None) -> Spawned:
    """.ports = [port]"""
    argv = [sys.executable, "-m", "tests.support.forwarder", "--https-port", str(https_port)]
    if http_port:
        argv += ["--http-port", str(http_port)]
    return Spawned(argv)
