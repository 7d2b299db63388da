"""The classifier process pool: real spawned workers, batching, and recovery from a dead worker."""
from __future__ import annotations

import asyncio
import json
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
