"""`crossingguard run` starts the review app beside the proxy as a child process
(`crossingguard review` with the same --home/--policy/--roster/--devices), unless --no-review.

A child process, not a thread: the review app's page rendering and password hashing (argon2 is
deliberately slow) must not take the GIL from the proxy's event loop. The child dies with the
proxy (PR_SET_PDEATHSIG on Linux, and terminate() on a normal exit). If its port is taken the
child says so on stderr and exits; the proxy keeps running (filtering matters more than review).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: terminate() on exit still applies
        pass


def review_argv(args, context) -> list[str]:
    argv = [sys.executable, "-m", "agent.cli", "review", "--home", str(context.home),
            "--policy", str(context.policy_path), "--roster", str(context.roster_path),
            "--listen-host", args.review_host, "--listen-port", str(args.review_port)]
    if context.devices_path:
        argv += ["--devices", str(context.devices_path)]
    # `run --review-X` becomes the child's `--X`: the review command validates and owns them.
    if getattr(args, "review_idle_minutes", None) is not None:
        argv += ["--idle-minutes", str(args.review_idle_minutes)]
    if getattr(args, "review_secure_cookies", False):
        argv.append("--secure-cookies")
    if getattr(args, "review_oidc_issuer", None):
        argv += ["--oidc-issuer", args.review_oidc_issuer, "--oidc-client-id", args.review_oidc_client_id,
                 "--oidc-client-secret-file", str(Path(args.review_oidc_client_secret_file).resolve())]
    return argv


def start_review_child(args, context) -> subprocess.Popen | None:
    try:
        return subprocess.Popen(review_argv(args, context), stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if os.name == "posix" else None)
    except OSError as exc:
        print(f"crossingguard run: review app not started: {exc}", file=sys.stderr, flush=True)
        return None


def stop_review_child(child: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout)
