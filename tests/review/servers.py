"""A real `crossingguard review` process for the browser and end-to-end tests."""
from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.proxy import ManagedProcess, crossingguard_argv, free_port


def cli(home: Path, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    cmd, rest = args[0], list(args[1:])
    sub = [rest.pop(0)] if cmd == "accounts" and rest else []
    return subprocess.run(crossingguard_argv(cmd, *sub, "--home", str(home), *rest), input=stdin,
                          capture_output=True, text=True, timeout=timeout)


class ReviewProcess(ManagedProcess):
    def __init__(self, home: Path, port: int | None = None):
        self.home = Path(home)
        port = port or free_port()
        super().__init__(crossingguard_argv("review", "--home", str(home), "--listen-port", str(port)),
                         port, self.home / "review-output.log", start_timeout=30)
