"""Posts addon: what is judged, flag vs hold, and the fail choices.

The classifier process pool is replaced by a stand-in that returns a fixed judgement (the real
pool, extraction and models run end to end in tests/e2e/test_posts_e2e.py); the store is the
real SQLite store under the test's home.
"""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from agent.metrics import ADDON_ERRORS, COUNTERS, INCIDENTS
from classifiers.jobs import JobResult, JudgedPost
from classifiers.types import Classification, Post
from proxy_addons.posts import Posts, should_judge
from proxy_addons.verdict import KEY
from tests.addons.conftest import TEACHER_IP, TEEN_IP, make_flow

URL_HOST = "www.youtube.com"
PATH = "/youtubei/v1/comment/create_comment"


class FakeService:
    def __init__(self, labels=(), error: Exception | None = None):
        self.labels, self.error, self.jobs = list(labels), error, []

    async def judge(self, job):
        self.jobs.append(job)
        if self.error:
            raise self.error
        c = Classification(scores={k: (0.9 if k in self.labels else 0.01)
                                   for k in ("bullying", "threat", "self_harm", "pii", "impersonation")},
                           labels=list(self.labels))
        return JobResult(platform="youtube", posts=[JudgedPost(Post(kind="comment", text="synthetic text"), c)])


class BrokenStore:
    def add_incident(self, incident):
        raise sqlite3.IntegrityError("simulated constraint failure")


@pytest.fixture
def posts(stack):
    p = Posts(stack.core)
    COUNTERS.reset()
    return p


def judged(stack, posts, service, ip=TEACHER_IP, method="POST"):
    posts.service = service
    f = stack.send(make_flow(ip, URL_HOST, method=method, path=PATH, content=b'{"commentText": "x"}'))
    asyncio.run(posts.request(f))
    return f


@pytest.mark.parametrize("method, verdict, platform, expected", [
    ("POST", "allow", "youtube", True),
    ("PUT", "allow", "youtube", True),
    ("PATCH", "allow", "youtube", True),
    ("GET", "allow", "youtube", False),
    ("POST", "block", "youtube", False),
    ("POST", "allow", None, False),
])
def test_should_judge(method, verdict, platform, expected):
    class D:
        pass
    d = D()
    d.verdict, d.platform = verdict, platform
    assert should_judge(method, d) is expected


def test_flagged_post_goes_through_and_becomes_an_incident(stack, posts):
    f = judged(stack, posts, FakeService(["bullying"]))
    assert f.response is None
    incidents = stack.state.context.store.incidents()
    assert [(i.labels, i.severity, i.platform) for i in incidents] == [(("bullying",), "high", "youtube")]
    assert "student.9" in incidents[0].guidelines
    assert sum(v for (name, _), v in COUNTERS.values.items() if name == INCIDENTS) == 1


def test_held_post_gets_the_page_and_an_incident(stack, posts):
    f = judged(stack, posts, FakeService(["pii"]))
    assert f.response is not None and f.response.status_code == 403
    assert f.metadata[KEY].decision.action == "hold"
    assert b"personal information" in f.response.content
    assert [i.labels for i in stack.state.context.store.incidents()] == [("pii",)]


def test_a_failing_store_never_publishes_a_held_post(stack, posts):
    stack.state.context.__dict__["store"] = BrokenStore()
    f = judged(stack, posts, FakeService(["pii"]))
    assert f.response is not None and f.response.status_code == 403
    assert COUNTERS.values[(ADDON_ERRORS, ("posts",))] == 1
    assert not any(name == INCIDENTS for name, _ in COUNTERS.values)   # nothing was recorded


def test_classifier_failure_fails_open_and_is_counted(stack, posts):
    f = judged(stack, posts, FakeService(error=RuntimeError("worker died")))
    assert f.response is None
    assert COUNTERS.values[(ADDON_ERRORS, ("posts",))] == 1


def test_reads_are_not_judged(stack, posts):
    service = FakeService(["threat"])
    f = judged(stack, posts, service, method="GET")
    assert f.response is None and service.jobs == []


def test_blocked_writes_are_not_judged(stack, posts):
    service = FakeService(["threat"])
    f = judged(stack, posts, service, ip=TEEN_IP)      # read-only outside a session: Enforce blocks
    assert f.metadata[KEY].decision.verdict == "block"
    assert service.jobs == []
