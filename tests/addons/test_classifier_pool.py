"""The classifier process pool: real spawned workers, batching, and recovery from a dead worker."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal

import pytest

import time

from classifiers.jobs import Job
from proxy_addons.classifier_pool import ClassifierService, run_batch

pytestmark = pytest.mark.e2e   # starts worker processes


def comment_job(text: str) -> Job:
    body = json.dumps({"commentText": text}).encode()
    return Job(method="POST", url="https://www.youtube.com/youtubei/v1/comment/create_comment",
               headers=(("content-type", "application/json"),), body=body, platform="youtube")


def test_judges_in_workers_and_survives_a_killed_worker():
    service = ClassifierService(workers=1, timeout=60)

    async def scenario():
        first = await service.judge(comment_job("I will shoot up the school tomorrow"))
        assert first.platform == "youtube"
        assert [p.post.text for p in first.posts] == ["I will shoot up the school tomorrow"]
        assert "threat" in first.posts[0].classification.labels
        # Several posts at once share a batch and each gets its own answer.
        many = await asyncio.gather(*(service.judge(comment_job(f"nice video number {i}")) for i in range(5)))
        assert [r.posts[0].post.text for r in many] == [f"nice video number {i}" for i in range(5)]
        assert all(r.posts[0].classification.labels == [] for r in many)
        for pid in list(service._pool._processes):        # a worker dies (OOM killer, operator)
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        again = await service.judge(comment_job("you are so ugly and stupid, nobody likes you loser"))
        assert "bullying" in again.posts[0].classification.labels
        assert service.restarts == 1

    try:
        asyncio.run(scenario())
    finally:
        service.close()


HANG = "HANG-THIS-BATCH"


def hanging_batch(jobs):
    """run_batch, except that a batch holding HANG never finishes (a worker stuck on a post).
    Module-level so the spawned worker can import it; the sleep is bounded, the test kills it."""
    if any(HANG.encode() in job.body for job in jobs):
        time.sleep(120)
    return run_batch(jobs)


def test_a_stuck_batch_is_abandoned_and_the_workers_replaced():
    service = ClassifierService(workers=1, timeout=60, stuck_after=3, batch_fn=hanging_batch)

    async def scenario():
        await service.judge(comment_job("warm up"))          # the worker has loaded its models
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await service.judge(comment_job(HANG))
        assert time.monotonic() - started < 30               # abandoned at stuck_after, not at 120 s
        assert service.stuck == 1 and service.restarts == 1
        # Later posts are judged by the new worker instead of queueing behind the stuck one.
        after = await service.judge(comment_job("I will shoot up the school tomorrow"))
        assert "threat" in after.posts[0].classification.labels

    try:
        asyncio.run(scenario())
    finally:
        service.close()


SITECUSTOMIZE = """
import os, sys, time
# Test hook (tests/addons/test_classifier_pool.py): a pool worker (spawned with --multiprocessing-fork)
# does not get past interpreter start-up, and so cannot load its models, until the test creates
# the file named here. Bounded: after 120 s it goes on anyway. With CG_TEST_HOLD_ONE set, only the
# first worker to create that file is held.
go = os.environ.get("CG_TEST_WORKER_GO")
one = os.environ.get("CG_TEST_HOLD_ONE")
held = bool(go) and "--multiprocessing-fork" in sys.argv
if held and one:
    try:
        os.close(os.open(one, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        held = False
if held:
    deadline = time.monotonic() + 120
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def held_loading(tmp_path, monkeypatch, only_one: bool = False):
    """Workers spawned from now on (only one of them with `only_one`) stay loading until the
    returned file exists (a slow import of large models on a busy machine, made deterministic): a
    `sitecustomize` module on PYTHONPATH, which spawned interpreters inherit and import at start.
    No hook in the product."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])))
    go = tmp_path / "go"
    monkeypatch.setenv("CG_TEST_WORKER_GO", str(go))
    if only_one:
        monkeypatch.setenv("CG_TEST_HOLD_ONE", str(tmp_path / "claimed"))
    return go


def test_a_slow_loading_worker_does_not_get_its_first_batch_abandoned(tmp_path, monkeypatch):
    """The stuck clock starts once the workers have loaded, not at submission: workers that
    load for longer than stuck_after judge their first batch instead of being replaced."""
    go = held_loading(tmp_path, monkeypatch)
    service = ClassifierService(workers=2, timeout=60, stuck_after=2)

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(2 * service.stuck_after, go.touch)     # the workers load for twice stuck_after
        started = time.monotonic()
        got = await asyncio.gather(service.judge(comment_job("I will shoot up the school tomorrow")),
                                   service.judge(comment_job("you are so ugly nobody likes you")))
        assert time.monotonic() - started >= 2 * service.stuck_after   # it did wait for the load
        assert "threat" in got[0].posts[0].classification.labels
        assert "bullying" in got[1].posts[0].classification.labels
        assert service.stuck == 0 and service.restarts == 0

    try:
        asyncio.run(scenario())
    finally:
        go.touch()
        service.close()


def test_a_batch_waits_for_loading_workers_only_up_to_the_startup_budget(tmp_path, monkeypatch, caplog):
    """Waiting for workers that are still loading is bounded by startup_budget: the batch fails
    open with its own log line, and the loading workers are kept (not stuck, not replaced)."""
    go = held_loading(tmp_path, monkeypatch)
    service = ClassifierService(workers=1, timeout=60, stuck_after=2, startup_budget=1)

    async def scenario():
        with caplog.at_level(logging.ERROR, logger="crossingguard.classifiers"):
            with pytest.raises(TimeoutError):
                await service.judge(comment_job("I will shoot up the school tomorrow"))
        assert "still loading" in caplog.text
        assert service.not_ready == 1 and service.stuck == 0 and service.restarts == 0
        pids = set(service._pool._processes)
        go.touch()                                    # the load finishes
        service.startup_budget = 120
        again = await service.judge(comment_job("I will shoot up the school tomorrow"))
        assert "threat" in again.posts[0].classification.labels
        assert set(service._pool._processes) == pids and service.restarts == 0   # the same worker

    try:
        asyncio.run(scenario())
    finally:
        go.touch()
        service.close()


def test_a_pool_is_ready_only_when_every_worker_has_loaded(tmp_path, monkeypatch):
    """One of two workers loads slowly. The first batch waits for both, so a post that sticks one
    worker afterwards cannot leave the posts sent with it waiting, on the stuck clock, for the
    other worker to finish loading (they would be abandoned as stuck)."""
    go = held_loading(tmp_path, monkeypatch, only_one=True)
    service = ClassifierService(workers=2, timeout=60, stuck_after=2, batch_fn=hanging_batch, solo_bytes=4096)

    async def scenario():
        asyncio.get_running_loop().call_later(2 * service.stuck_after, go.touch)
        started = time.monotonic()
        await service.judge(comment_job("warm up"))
        assert time.monotonic() - started >= 2 * service.stuck_after   # it waited for the held worker
        big = comment_job(HANG + " " + "x" * 8000)
        small = comment_job("I will shoot up the school tomorrow")
        got = await asyncio.gather(service.judge(big), service.judge(small), return_exceptions=True)
        assert isinstance(got[0], TimeoutError)
        assert "threat" in got[1].posts[0].classification.labels
        assert service.stuck == 1

    try:
        asyncio.run(scenario())
    finally:
        go.touch()
        service.close()


def recording_batch(jobs):
    """run_batch, noting the text of every job it was given in the file CG_TEST_BATCH_LOG names."""
    with open(os.environ["CG_TEST_BATCH_LOG"], "a", encoding="utf-8") as f:
        f.writelines(json.loads(job.body)["commentText"] + "\n" for job in jobs)
    return run_batch(jobs)


def test_a_batch_everyone_gave_up_on_while_the_workers_loaded_is_not_run(tmp_path, monkeypatch):
    """Posts that already failed open at the caller's timeout while the workers loaded are not
    judged afterwards: the loaded workers go to the posts still waiting."""
    go = held_loading(tmp_path, monkeypatch)
    ran = tmp_path / "ran.txt"
    monkeypatch.setenv("CG_TEST_BATCH_LOG", str(ran))
    service = ClassifierService(workers=1, timeout=1, stuck_after=2, batch_fn=recording_batch)

    async def scenario():
        with pytest.raises(TimeoutError):
            await service.judge(comment_job("given up on"))     # the caller's timeout passes first
        go.touch()
        service.timeout = 60
        got = await service.judge(comment_job("I will shoot up the school tomorrow"))
        assert "threat" in got.posts[0].classification.labels
        assert ran.read_text(encoding="utf-8").splitlines() == ["I will shoot up the school tomorrow"]
        assert service.not_ready == 0 and service.stuck == 0

    try:
        asyncio.run(scenario())
    finally:
        go.touch()
        service.close()


def test_a_large_post_is_judged_alone_and_cannot_take_others_down_with_it():
    """A huge post that sticks its worker fails only itself: the small posts sent with it are
    batched without it and judged on the other worker."""
    service = ClassifierService(workers=2, timeout=60, stuck_after=3, batch_fn=hanging_batch, solo_bytes=4096)

    async def scenario():
        await asyncio.gather(service.judge(comment_job("warm up")), service.judge(comment_job("warm up too")))
        big = comment_job(HANG + " " + "x" * 8000)
        small = [comment_job("I will shoot up the school tomorrow"), comment_job("you are so ugly nobody likes you")]
        got = await asyncio.gather(service.judge(big), *(service.judge(j) for j in small), return_exceptions=True)
        assert isinstance(got[0], TimeoutError)
        assert "threat" in got[1].posts[0].classification.labels
        assert "bullying" in got[2].posts[0].classification.labels

    try:
        asyncio.run(scenario())
    finally:
        service.close()


def _encoder_fallbacks() -> float:
    from agent.metrics import COUNTERS, ENCODER_FALLBACK
    return COUNTERS.values.get((ENCODER_FALLBACK, ()), 0.0)


def test_a_pool_without_the_encoder_is_counted_and_still_judges(tmp_path, monkeypatch):
    """Wrong weights (checksum mismatch): the workers score with the TF-IDF models alone, posts are
    still judged, and the proxy side counts the fallback once."""
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"tampered weights")
    monkeypatch.setenv("CROSSINGGUARD_ENCODER_WEIGHTS", str(fake))   # spawned workers inherit it
    before = _encoder_fallbacks()
    service = ClassifierService(workers=1, timeout=60)

    async def scenario():
        got = await service.judge(comment_job("I will shoot up the school tomorrow"))
        assert "threat" in got.posts[0].classification.labels
        for _ in range(100):               # the status answer arrives right after the warm-up
            if _encoder_fallbacks() > before:
                break
            await asyncio.sleep(0.05)

    try:
        asyncio.run(scenario())
    finally:
        service.close()
    assert _encoder_fallbacks() == before + 1


def test_a_pool_with_the_encoder_counts_no_fallback(monkeypatch):
    monkeypatch.delenv("CROSSINGGUARD_ENCODER_WEIGHTS", raising=False)
    before = _encoder_fallbacks()
    service = ClassifierService(workers=1, timeout=60)

    async def scenario():
        got = await service.judge(comment_job("see you at practice"))
        assert got.posts[0].classification.labels == []
        await asyncio.sleep(0.3)

    try:
        asyncio.run(scenario())
    finally:
        service.close()
    assert _encoder_fallbacks() == before
