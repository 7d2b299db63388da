"""Bodies addon (issue 11, resources): which large bodies are streamed, which refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from mitmproxy.test import taddons

from agent.policy import TeacherSession

from proxy_addons.bodies import Bodies
from tests.addons.conftest import TEACHER_IP, TEACHER_USER, TEEN_IP, YOUNG_IP, make_flow

BIG = str(3 * 1024 * 1024)


@pytest.fixture
def bodies(stack, district):
    _, roster, _ = district
    now = datetime.now(timezone.utc)   # the 15-year-old's class is in a YouTube session: writes allowed
    stack.sessions.snapshot = (TeacherSession("s-1", roster.teacher, roster.class_id, "youtube",
                                              now - timedelta(minutes=5), now + timedelta(hours=1)),)
    b = Bodies(stack.core)
    with taddons.context(b) as tctx:
        tctx.configure(b, crossingguard_stream_bodies="2m")
        yield b


def sent(stack, bodies, ip, host, method="POST", ctype="application/json", length=BIG, auth=None):
    f = make_flow(ip, host, method=method, path="/youtubei/v1/comment/create_comment",
                  headers={"Content-Type": ctype, "Content-Length": length}, auth=auth)
    for addon in stack.chain:            # what mitmproxy does before the body: requestheaders
        hook = getattr(addon, "requestheaders", None)
        if hook:
            hook(f)
    bodies.requestheaders(f)
    return f


def test_a_large_media_upload_is_streamed(stack, bodies):
    f = sent(stack, bodies, TEEN_IP, "www.youtube.com", ctype="image/jpeg")
    assert f.request.stream is True and f.error is None


def test_a_large_text_post_by_a_student_is_refused_unread(stack, bodies):
    f = sent(stack, bodies, TEEN_IP, "www.youtube.com")          # allowed in the session, but unreadable
    assert f.error is not None and not f.request.stream


def test_a_large_blocked_upload_is_closed_not_buffered(stack, bodies):
    f = sent(stack, bodies, YOUNG_IP, "www.instagram.com", ctype="image/jpeg")   # blocked for the 11-year-old
    assert f.error is not None and f.response is None


def test_a_large_text_post_by_staff_is_streamed(stack, bodies):
    f = sent(stack, bodies, TEACHER_IP, "x.com", auth=TEACHER_USER)
    assert f.request.stream is True and f.error is None


def test_small_bodies_are_left_alone(stack, bodies):
    f = sent(stack, bodies, YOUNG_IP, "www.youtubekids.com", length="100")
    assert not f.request.stream and f.error is None
