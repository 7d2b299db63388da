"""Bodies addon (issue 11, resources): which large bodies are streamed, which refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from mitmproxy.test import taddons

from agent.policy import TeacherSession

from agent.incidents import UNREADABLE_RULE
from proxy_addons.bodies import LIMIT_KEY, Bodies, over_limit
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


def chunked(stack, bodies, ip, host, ctype="application/json", auth=None, method="POST"):
    f = make_flow(ip, host, method=method, path="/youtubei/v1/comment/create_comment",
                  headers={"Content-Type": ctype, "Transfer-Encoding": "chunked"}, auth=auth)
    for addon in stack.chain:
        hook = getattr(addon, "requestheaders", None)
        if hook:
            hook(f)
    bodies.requestheaders(f)
    return f


def test_a_chunked_body_is_marked_for_the_limit_not_streamed_yet(stack, bodies):
    f = chunked(stack, bodies, TEEN_IP, "www.youtube.com")
    assert f.metadata[LIMIT_KEY] == 2 * 1024 * 1024 and not f.request.stream and f.error is None
    g = sent(stack, bodies, TEEN_IP, "www.youtube.com", length="100")   # a declared length: not marked
    assert LIMIT_KEY not in g.metadata


@pytest.mark.parametrize("ip,host,ctype,auth,closed,held", [
    (TEEN_IP, "www.youtube.com", "application/json", None, True, True),        # a student's text post: held
    (TEEN_IP, "www.youtube.com", "image/jpeg", None, False, False),           # media: streamed
    (TEEN_IP, "www.youtube.com", "multipart/form-data", None, False, False),  # upload form: read while streamed
    (TEACHER_IP, "x.com", "application/json", TEACHER_USER, False, False),    # staff: streamed
    (YOUNG_IP, "www.instagram.com", "image/jpeg", None, True, False),         # blocked: closed
    (TEEN_IP, "www.example.org", "application/json", None, False, False),     # not a platform: streamed
])
def test_a_chunked_body_past_the_limit(stack, bodies, ip, host, ctype, auth, closed, held):
    f = chunked(stack, bodies, ip, host, ctype, auth)
    assert bodies.body_over_limit(f, 2 * 1024 * 1024 + 1) is closed
    assert (f.error is not None) is closed and f.response is None
    decision = f.metadata["crossingguard"].decision
    assert (decision is not None and decision.rule == UNREADABLE_RULE and decision.action == "hold") is held


@pytest.mark.parametrize("method,platform,role,mime,answered,expected", [
    ("POST", "youtube", "student", "application/json", False, "hold"),
    ("PUT", "youtube", "unknown", "text/plain", False, "hold"),
    ("POST", "youtube", "student", "", False, "hold"),                  # untyped: text until shown otherwise
    ("POST", "youtube", "student", "video/mp4", False, "stream"),
    ("POST", "youtube", "student", "application/octet-stream", False, "stream"),
    ("POST", "youtube", "teacher", "application/json", False, "stream"),
    ("GET", "youtube", "student", "application/json", False, "stream"),  # an allowed read (writes were blocked)
    ("POST", None, "student", "application/json", False, "stream"),
    ("POST", "youtube", "student", "image/png", True, "close"),
    ("POST", "youtube", "student", "multipart/form-data", False, "read"),    # its text read while it streams
    ("PATCH", "youtube", "unknown", "multipart/related", False, "read"),
    ("POST", "youtube", "teacher", "multipart/form-data", False, "stream"),   # staff: streamed unread
    ("GET", "youtube", "student", "multipart/form-data", False, "stream"),
    ("POST", None, "student", "multipart/form-data", False, "stream"),        # off the catalog
])
def test_over_limit_table(method, platform, role, mime, answered, expected):
    from agent.policy.model import Decision
    decision = Decision(verdict="allow", action="allow", platform=platform, category="video", rule="r",
                        guideline="", reason="")
    got = over_limit(method, decision, role, mime, answered)
    assert (got if isinstance(got, str) else got.action) == expected
    assert over_limit(method, None, role, mime, answered) == ("close" if answered else "stream")


def test_an_http2_body_without_a_length_is_marked_too(stack, bodies):
    f = make_flow(TEEN_IP, "www.youtube.com", method="POST", path="/youtubei/v1/comment/create_comment",
                  headers={"Content-Type": "application/json"})
    f.request.http_version = "HTTP/2.0"
    bodies.requestheaders(f)
    assert f.metadata[LIMIT_KEY] == 2 * 1024 * 1024
    g = make_flow(TEEN_IP, "www.youtube.com", headers={"Content-Type": "application/json"})   # HTTP/1.1, no body
    bodies.requestheaders(g)
    assert LIMIT_KEY not in g.metadata


def test_a_student_multipart_upload_over_the_limit_is_read_while_it_streams(stack, bodies):
    from proxy_addons.streamread import READER_KEY, StreamedPost
    f = sent(stack, bodies, TEEN_IP, "www.youtube.com", ctype="multipart/form-data; boundary=b1")
    post = f.metadata[READER_KEY]
    assert isinstance(post, StreamedPost) and f.request.stream is post and f.error is None
    body = (b'--b1\r\nContent-Disposition: form-data; name="caption"\r\n\r\nhi\r\n'
            b'--b1\r\nContent-Disposition: form-data; name="p"; filename="p.jpg"\r\n\r\n' + b"\xff" * 5000
            + b"\r\n--b1--\r\n")
    out = b"".join(f.request.stream(body[i:i + 999]) for i in range(0, len(body), 999)) + f.request.stream(b"")
    post.finish()
    assert out + post.tail == body and post.tail == b"\r\n--b1--\r\n" and post.error is None
    bodies.request(f)                                   # readable: nothing for Bodies to hold
    assert post.page is None
    g = sent(stack, bodies, TEACHER_IP, "x.com", ctype="multipart/form-data; boundary=b1", auth=TEACHER_USER)
    assert g.request.stream is True and READER_KEY not in g.metadata          # staff: streamed unread


@pytest.mark.parametrize("body,ctype,reason", [
    (b"--b1\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhi\r\n", "multipart/form-data; boundary=b1",
     "truncated_multipart"),                                                  # no closing delimiter
    (b"no parts here " * 1000, "multipart/form-data", "multipart_no_boundary"),
])
def test_a_streamed_multipart_body_that_cannot_be_read_is_held_as_unreadable(stack, bodies, body, ctype, reason):
    from agent.metrics import COUNTERS, UNREADABLE_POSTS
    from proxy_addons.streamread import READER_KEY
    f = sent(stack, bodies, TEEN_IP, "www.youtube.com", ctype=ctype)
    post = f.metadata[READER_KEY]
    f.request.stream(body)
    post.finish()
    held_before = COUNTERS.values.get((UNREADABLE_POSTS, ("youtube", "held")), 0)
    bodies.request(f)
    assert post.error == reason and post.tail == b""
    decision = f.metadata["crossingguard"].decision
    assert decision.rule == UNREADABLE_RULE and decision.action == "hold"
    assert post.page is not None and post.page.status_code == 403
    assert COUNTERS.values.get((UNREADABLE_POSTS, ("youtube", "held")), 0) == held_before + 1


def test_a_streamed_multipart_body_compressed_on_the_wire_is_held_as_unreadable(stack, bodies):
    from proxy_addons.streamread import READER_KEY
    f = make_flow(TEEN_IP, "www.youtube.com", method="POST", path="/youtubei/v1/comment/create_comment",
                  headers={"Content-Type": "multipart/form-data; boundary=b1", "Content-Encoding": "gzip",
                           "Content-Length": BIG})
    for addon in stack.chain:
        hook = getattr(addon, "requestheaders", None)
        if hook:
            hook(f)
    bodies.requestheaders(f)
    post = f.metadata[READER_KEY]
    assert post(b"\x1f\x8b" + b"\x00" * 5000) == b""          # nothing is sent on
    post.finish()
    bodies.request(f)
    assert post.error == "bad_encoding" and post.page is not None


def test_a_failure_inside_the_stream_callable_never_escapes_into_mitmproxy_and_holds_the_post(stack, bodies):
    """The callable runs inside mitmproxy's HTTP layer: an exception there would break the
    connection. A failing judgment starter (or a reader bug) fails closed: held as unreadable."""
    from agent.metrics import ADDON_ERRORS, COUNTERS
    from proxy_addons.streamread import CLASSIFY_KEY, READER_KEY
    f = sent(stack, bodies, TEEN_IP, "www.youtube.com", ctype="multipart/form-data; boundary=b1")
    post = f.metadata[READER_KEY]

    def broken(flow, body):
        raise RuntimeError("pool gone")
    f.metadata[CLASSIFY_KEY] = broken
    errors = COUNTERS.values.get((ADDON_ERRORS, ("streamread",)), 0)
    body = (b'--b1\r\nContent-Disposition: form-data; name="caption"\r\n\r\nhi\r\n'
            b'--b1\r\nContent-Disposition: form-data; name="p"; filename="p.jpg"\r\n\r\n' + b"\xff" * 100)
    assert isinstance(post(body), bytes)
    post(b"\r\n--b1--\r\n")
    post.finish()
    bodies.request(f)
    assert post.error == "internal_error" and post.tail == b"" and post.page is not None
    assert COUNTERS.values.get((ADDON_ERRORS, ("streamread",)), 0) == errors + 1
