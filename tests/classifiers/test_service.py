"""The classifier process pool: real spawned workers, batching, and recovery from a dead worker."""
from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest

from classifiers.service import ClassifierService, Job

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
