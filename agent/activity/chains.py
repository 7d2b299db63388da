"""Several proxy processes, several chains: the activity log's layout under `--home/activity`.

One hash chain has one writer (the writer holds `writer.lock`), so `crossingguard run --workers N`
gives each worker process a chain of its own instead of sharing one:

    activity/                    the single-process chain (`--workers 1`, today's layout)
    activity/worker-<i>/         worker i's chain: the same format (agent/activity/chain.py)
    activity/chains.json         {"chains": ["worker-0", ...]}: every worker chain ever started

Why one chain per worker and not one writer process: a worker then never waits on another
process to log a request (a shared writer would put an IPC hop and a single point of failure
on every request), and a worker that dies and is restarted simply resumes its own chain from
its checkpoint. `verify-log` checks every chain and reports a registered chain that vanished
(a whole directory removed is as much tampering as a removed line); `purge` applies retention
to each. Lines from different workers are ordered by their `time`; within a worker by the chain.
"""
from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from agent.activity import chain

REGISTRY = "chains.json"
_REGISTRY_LOCK = "chains.lock"
WORKER_RE = re.compile(r"^worker-(\d+)$")


def worker_name(index: int) -> str:
    return f"worker-{int(index)}"


def chain_dir(activity_dir: Path, worker: int | None) -> Path:
    """Where a process writes: the activity directory itself, or its worker's subdirectory."""
    activity_dir = Path(activity_dir)
    if worker is None or worker < 0:
        return activity_dir
    return activity_dir / worker_name(worker)


def registered(activity_dir: Path) -> list[str]:
    try:
        value = chain.read_json(Path(activity_dir) / REGISTRY) or {}
    except ValueError:
        return []
    names = value.get("chains") if isinstance(value, dict) else None
    return [n for n in names or [] if isinstance(n, str) and WORKER_RE.match(n)]


def register(activity_dir: Path, worker: int) -> None:
    """Record that this worker's chain exists (idempotent; safe with workers starting together)."""
    activity_dir = Path(activity_dir)
    activity_dir.mkdir(parents=True, exist_ok=True)
    name = worker_name(worker)
    fd = os.open(activity_dir / _REGISTRY_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        names = registered(activity_dir)
        if name not in names:
            names.append(name)
            names.sort(key=lambda n: int(WORKER_RE.match(n).group(1)))
            chain.write_json_atomic(activity_dir / REGISTRY, {"chains": names})
    finally:
        os.close(fd)


def all_chains(activity_dir: Path) -> list[tuple[str, Path]]:
    """(label, directory) of every chain to verify or purge: "" for the top-level one, then each
    worker chain registered or present on disk, in worker order."""
    activity_dir = Path(activity_dir)
    names = set(registered(activity_dir))
    if activity_dir.is_dir():
        names.update(p.name for p in activity_dir.iterdir() if p.is_dir() and WORKER_RE.match(p.name))
    ordered = sorted(names, key=lambda n: int(WORKER_RE.match(n).group(1)))
    return [("", activity_dir)] + [(n, activity_dir / n) for n in ordered]


def check_all(activity_dir: Path):
    """verify.check over every chain: (problems, [(label, Summary)]). A problem's file is prefixed
    with its chain (`worker-1/activity-2026-03-02.jsonl`). A registered worker chain whose
    directory is gone is a problem: its lines were removed wholesale."""
    from agent.activity.verify import Problem, check

    activity_dir = Path(activity_dir)
    listed = set(registered(activity_dir))
    problems, summaries = [], []
    for label, directory in all_chains(activity_dir):
        if label in listed and not directory.is_dir():
            # The same guarantee a single chain has: removing lines shows, and so does removing
            # a whole worker's chain.
            problems.append(Problem(label, None, "registered worker chain is missing (directory removed)"))
            continue
        found, summary = check(directory)
        for p in found:
            problems.append(Problem(f"{label}/{p.file}" if label else p.file, p.line, p.message))
        summaries.append((label, summary))
    return problems, summaries
