"""agent.reports: tokens, the rate limit and the form, as tables."""
from __future__ import annotations

import stat

import pytest

from agent.reports import (RateLimiter, check_token, issue_token, load_or_create_key, parse_form, readers,
                           report_incident)

KEY = b"k" * 32
PLATFORMS = {"instagram", "tiktok"}


@pytest.mark.parametrize("who_issued, who_checks, issued, checked, ok", [
    ("stu-1", "stu-1", 1000, 1000, True),
    ("stu-1", "stu-1", 1000, 1000 + 4 * 3600, True),         # a form left open all morning
    ("stu-1", "stu-1", 1000, 1000 + 4 * 3600 + 1, False),    # too old
    ("stu-1", "stu-2", 1000, 1000, False),                   # another student's form
    ("stu-1", "stu-1", 2000, 1000, False),                   # from the future
])
def test_tokens(who_issued, who_checks, issued, checked, ok):
    assert check_token(KEY, who_checks, issue_token(KEY, who_issued, issued), checked) is ok


@pytest.mark.parametrize("token", ["", "abc", "1000.", ".abc", "1000.0000", "x.y.z"])
def test_malformed_tokens_refused(token):
    assert check_token(KEY, "stu-1", token, 1000) is False


def test_key_created_private_once(tmp_path):
    a = load_or_create_key(tmp_path / "report.key")
    assert load_or_create_key(tmp_path / "report.key") == a and len(a) == 32
    assert stat.S_IMODE((tmp_path / "report.key").stat().st_mode) == 0o600


def test_rate_limit_window():
    r = RateLimiter(limit=2, window=600)
    assert r.wait_seconds("a", 0) == 0
    r.record("a", 0)
    r.record("a", 100)
    assert r.wait_seconds("a", 101) == pytest.approx(499)     # until the first one leaves the window
    assert r.wait_seconds("b", 101) == 0                       # per student
    assert r.wait_seconds("a", 600) == 0                       # the first one aged out


@pytest.mark.parametrize("fields, ok, platform, link", [
    ({"what": "they keep posting about me"}, True, None, None),
    ({"what": "x", "platform": "Instagram"}, True, "instagram", None),
    ({"what": "x", "platform": "other"}, True, "other", None),
    ({"what": "x", "platform": "myspace"}, False, None, None),
    ({"what": "   "}, False, None, None),
    ({"what": "x" * 5001}, False, None, None),
    ({"what": "x", "link": "https://tiktok.com/@a/video/1"}, True, None, "https://tiktok.com/@a/video/1"),
    ({"what": "x", "link": "tiktok.com/@a/video/1"}, True, None, "https://tiktok.com/@a/video/1"),
    ({"what": "x", "link": "javascript:alert(1)"}, False, None, None),
    ({"what": "x", "link": "data:text/html,hi"}, False, None, None),
    ({"what": "x", "link": "file:///etc/passwd"}, False, None, None),
    ({"what": "x", "link": "not a link"}, False, None, None),
])
def test_parse_form(fields, ok, platform, link):
    form, problems = parse_form(fields, PLATFORMS)
    assert (form is not None) is ok, problems
    if ok:
        assert (form.platform, form.link) == (platform, link)
    else:
        assert problems


def test_report_incident_fields():
    form, _ = parse_form({"what": "mean posts", "platform": "other", "link": "https://x.com/a"}, PLATFORMS)
    inc = report_incident(form, "stu-1", "org-main")
    assert (inc.kind, inc.severity, inc.labels, inc.guidelines, inc.school, inc.platform) == \
        ("report", "high", ("bullying",), ("student.9",), "org-main", None)
    assert inc.text == "mean posts\n\nLink: https://x.com/a"


def test_readers_named_plainly():
    assert "counselors of Main High read every report" in readers("Main High", True)
    assert "student services" in readers(None, False)
