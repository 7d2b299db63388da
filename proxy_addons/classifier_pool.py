"""Extraction and classification off the proxy's event loop: a process pool fed in batches.

Runtime, not classification, so it lives with the proxy that runs it; what a worker does to a
batch is `classifiers.jobs.judge_jobs` (pure). No mitmproxy here: spawned workers import this
module, and stay light (an import-linter contract keeps it so).

Why a process pool: one scikit-learn call costs 0.4-0.7 ms here, a third of mitmproxy's own
cost per request, and threads do not help CPU-bound Python (measured: `@concurrent` threads
252 requests/s against 354 with a process pool). Why batches: 64 posts in one call cost about
25 microseconds each instead of several hundred, so under load the collector waits at most
`max_delay` seconds to fill a batch; an idle proxy sends a single post at once.

The worker does both extraction (decompression, multipart, image hashing: all CPU) and
classification, so the event loop only moves bytes. Workers are started with the `spawn`
method: the proxy process runs threads (activity writer, session cache) and forking a
threaded process is unsafe.
"""
from __future__ import annotations

import asyncio
import logging
import concurrent.futures
import concurrent.futures.process
import multiprocessing
import os

from classifiers.jobs import Job, JobResult, judge_jobs

log = logging.getLogger("crossingguard.classifiers")


# --- worker side -------------------------------------------------------------------------

_WORKER: dict = {}


def _worker_init(roster_path: str | None, policy_path: str | None, max_bytes: int) -> None:
    # Workers never touch the proxy's state; they load their own copy of the models once.
    # Ctrl-C goes to the whole process group: the proxy shuts the pool down itself, so workers
    # ignore SIGINT instead of dying mid-batch with a traceback.
    import gc
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from classifiers.district import as_district
    from classifiers.pipeline import Classifier

    # The classifiers import nothing of the agent: this side (the runtime that owns the pool)
    # loads the district's files and hands the classifiers what they need, a District record
    # (names, programs, logo hashes) and the roster as their people directory.
    roster = policy = None
    if roster_path:
        from agent.roster import Roster
        roster = Roster.load(roster_path)
    if policy_path:
        from agent.policy.loader import load_policy
        policy = load_policy(policy_path)
    _WORKER["classifier"] = Classifier.load(roster=roster, district=as_district(policy))
    _WORKER["max_bytes"] = max_bytes
    gc.freeze()   # the loaded models are permanent: keep them out of full collections (latency spikes)


def _worker_ping() -> int:
    return os.getpid()


def run_batch(jobs: list[Job]) -> list[JobResult]:
    """What a worker runs per batch (module level: spawned workers import it by name)."""
    return judge_jobs(_WORKER["classifier"], jobs, _WORKER.get("max_bytes", 1_000_000))


# --- proxy side --------------------------------------------------------------------------

class ClassifierService:
    """Batches jobs from the event loop into a process pool and awaits the results."""

    def __init__(self, *, roster_path: str | None = None, policy_path: str | None = None,
                 workers: int = 1, batch_size: int = 64, max_delay: float = 0.002,
                 max_bytes: int = 1_000_000, timeout: float = 10.0, stuck_after: float | None = None,
                 batch_fn=None, solo_bytes: int = 64 * 1024) -> None:
        self.roster_path = roster_path
        self.policy_path = policy_path
        self.workers = workers
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.max_bytes = max_bytes
        self.timeout = timeout
        # A batch still running after `stuck_after` seconds has a worker stuck on it (a post no
        # regex should be slow on, a bug): its jobs have already failed open in the proxy at
        # `timeout`, and a ProcessPoolExecutor cannot cancel a running call, so that worker would
        # keep every later batch waiting, failing open too. The pool is killed and replaced.
        self.stuck_after = timeout if stuck_after is None else stuck_after
        # what a worker runs per batch: a module-level function (spawned workers import it by
        # name); the tests pass a wrapper that can hang on purpose
        self.batch_fn = batch_fn or run_batch
        # A body over `solo_bytes` is judged in a batch of its own: a post of hundreds of KB costs
        # up to seconds (linear, but long), and must not take other students' posts past the
        # timeout with it (they would pass unjudged). Ordinary posts are a few hundred bytes.
        self.solo_bytes = solo_bytes
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._queue: asyncio.Queue | None = None
        self._collector: asyncio.Task | None = None
        self.restarts = 0               # worker pools replaced after a crash or a stuck batch
        self.stuck = 0                  # batches abandoned because they ran past stuck_after

    def start(self) -> None:
        """Start the workers (spawned, models loaded once each) without waiting for them."""
        if self._pool is not None:
            return
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(self.roster_path, self.policy_path, self.max_bytes),
        )
        # Warm every worker now so the first student post does not wait for model loading.
        for _ in range(self.workers):
            self._pool.submit(_worker_ping)

    async def judge(self, job: Job) -> JobResult:
        if self._pool is None:
            self.start()
        loop = asyncio.get_running_loop()
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._collector = loop.create_task(self._collect())
        fut: asyncio.Future = loop.create_future()
        await self._queue.put((job, fut))
        return await asyncio.wait_for(fut, self.timeout)

    async def _collect(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            if self._is_large(first):
                loop.create_task(self._dispatch([first]))
                continue
            batch = [first]
            deadline = loop.time() + self.max_delay
            while len(batch) < self.batch_size:
                remaining = deadline - loop.time()
                if remaining <= 0 and self._queue.empty():
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), max(remaining, 0))
                except (asyncio.TimeoutError, TimeoutError):
                    break
                if self._is_large(item):
                    loop.create_task(self._dispatch([item]))
                else:
                    batch.append(item)
            loop.create_task(self._dispatch(batch))

    def _is_large(self, item: tuple) -> bool:
        return len(item[0].body) > self.solo_bytes

    async def _dispatch(self, batch: list) -> None:
        jobs = [job for job, _ in batch]
        pool = self._pool
        try:
            try:
                results = await self._run(pool, jobs)
            except concurrent.futures.process.BrokenProcessPool:
                # A worker died (killed, out of memory): the executor is unusable for good, so
                # replace it and try this batch once more; otherwise every later post would
                # fail open until the proxy restarts.
                if self._pool is pool:          # not already replaced by another batch
                    self._restart()
                pool = self._pool
                results = await self._run(pool, jobs)
        except (asyncio.TimeoutError, TimeoutError):
            # Stuck (see __init__): not retried, since the same batch would stick again.
            self.stuck += 1
            log.error("classifier batch of %d jobs still running after %.1f s; replacing the workers",
                      len(jobs), self.stuck_after)
            if self._pool is pool:
                self._restart(kill=True)
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(TimeoutError("classifier batch stuck"))
            return
        except Exception as exc:  # a batch that fails twice fails these jobs, not the proxy
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), result in zip(batch, results):
            if not fut.done():
                fut.set_result(result)

    async def _run(self, pool, jobs: list[Job]) -> list[JobResult]:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(pool, self.batch_fn, jobs), self.stuck_after)

    def _restart(self, kill: bool = False) -> None:
        self.restarts += 1
        old, self._pool = self._pool, None
        if old is not None:
            if kill:
                # The executor has no public way to stop a running call (Python 3.14 adds
                # terminate_workers()); its worker processes are killed directly. Batches still
                # queued on it get BrokenProcessPool and are retried once on the new pool.
                # (A private attribute: docs/mitmproxy-internals.md, item 11.)
                for proc in list((getattr(old, "_processes", None) or {}).values()):
                    proc.kill()
            else:
                log.warning("classifier worker pool broke (a worker died); starting a new one")
            old.shutdown(wait=False, cancel_futures=True)
        self.start()

    def close(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
            self._collector = None
        self._queue = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
