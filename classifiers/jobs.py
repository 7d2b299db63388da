"""The records a classifier worker receives and returns, and the pure work it does on a batch.

The process pool that runs this (spawned workers, batching, timeouts, restarts) is runtime, not
classification: it lives with the proxy that runs it, `proxy_addons/classifier_pool.py`. This
module only turns jobs into judged posts, with what the caller hands it: a `Classifier` (built
with the district's facts and roster) and the platform the policy already decided.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from classifiers.types import Classification, Post, PostInput


@dataclass(frozen=True)
class Job:
    """One write request (or WebSocket message) to read and judge."""
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    author: str | None = None
    platform: str | None = None    # the policy decision's platform id (no second host lookup)
    websocket: bool = False


@dataclass
class JudgedPost:
    post: Post
    classification: Classification


@dataclass
class JobResult:
    platform: str | None
    posts: list[JudgedPost] = field(default_factory=list)
    error: str | None = None       # extraction error (malformed body): counted, no posts
    skipped: str | None = None     # e.g. "too_large": logged as skipped, never parsed
    seconds: float = 0.0           # classifier time for this job's posts


def judge_jobs(classifier, jobs: list[Job], max_bytes: int = 1_000_000) -> list[JobResult]:
    """Extract every job's posts, classify all posts of the batch in one call.

    `classifier`: a `classifiers.pipeline.Classifier` (anything with `classify(list[PostInput])`).
    Each job's platform is the one the caller decided (the policy's catalog, so a platform a
    district added is read too); extraction never looks hosts up in a table of its own.
    """
    from classifiers.extract import extract_request, extract_websocket

    results: list[JobResult] = []
    inputs: list[PostInput] = []
    owners: list[tuple[JobResult, Post]] = []
    for job in jobs:
        try:
            if job.websocket:
                parts = urlsplit(job.url)
                ex = extract_websocket(parts.hostname or "", parts.path, job.body, max_bytes=max_bytes,
                                       platform=job.platform)
            else:
                ex = extract_request(job.method, job.url, dict(job.headers), job.body, max_bytes=max_bytes,
                                     platform=job.platform)
        except Exception as exc:  # extractors promise not to raise; a bug must not lose the batch
            results.append(JobResult(platform=None, error=f"extractor crashed: {type(exc).__name__}"))
            continue
        result = JobResult(platform=ex.platform or job.platform, error=ex.error, skipped=ex.skipped)
        results.append(result)
        for post in ex.posts:
            inputs.append(PostInput(text=post.text, author=job.author, platform=ex.platform, kind=post.kind,
                                    account=post.account, attachments=post.attachments))
            owners.append((result, post))
    if inputs:
        started = time.perf_counter()
        judged = classifier.classify(inputs)
        elapsed = time.perf_counter() - started
        per_post = elapsed / len(inputs)
        for (result, post), classification in zip(owners, judged):
            result.posts.append(JudgedPost(post, classification))
            result.seconds += per_post
    return results
