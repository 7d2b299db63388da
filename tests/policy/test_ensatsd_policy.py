"""The shipped ENSATSD policy does what the district's procedures ask."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from agent.context import DEFAULT_POLICY
from agent.policy.engine import PolicyEngine
from agent.policy.loader import load_policy
from agent.policy.model import Subject
from agent.policy.sessions import TeacherSession

AT = datetime(2025, 10, 7, 14, 0, tzinfo=timezone.utc)   # a Tuesday, 10:00 in New York


@pytest.fixture(scope="module")
def engine():
    return PolicyEngine(load_policy(DEFAULT_POLICY), None)


def student(age, classes=("cls-1",)):
    return Subject("s", "student", age, ("09",), ("org-main",), frozenset(classes), "device", None)


TEACHER = Subject("t", "teacher", 35, (), ("org-main",), frozenset({"cls-1"}), "auth", None)
ADMIN = Subject("a", "administrator", 50, (), ("org-main",), frozenset(), "auth", None)


def yt_session(platform="youtube", class_id="cls-1"):
    return TeacherSession("ses-9", "t", class_id, platform, AT - timedelta(minutes=5), AT + timedelta(minutes=40))


def test_shipped_policy_loads_and_cites_known_clauses():
    policy = load_policy(DEFAULT_POLICY)
    assert policy.district_short == "ENSATSD" and policy.timezone.key == "America/New_York"
    assert policy.unknown_as == "under13"
    for rule in policy.rules:
        assert rule.guideline in policy.guidelines
        assert len(rule.reason) < 200 and "\n" not in rule.reason
    for clause in ("student.preamble", "student.10", "student.4", "student.5", "student.9", "staff.personal.9"):
        assert clause in policy.guidelines
    assert policy.fail_mode_for("student") == "block" and policy.fail_mode_for("unknown") == "block"
    assert policy.fail_mode_for("teacher") == "allow"
    assert policy.retention_days >= 1
    assert "social" in policy.activity_categories
    assert set(policy.incidents) == {"bullying", "threat", "self_harm", "pii", "impersonation"}


@pytest.mark.parametrize("age", [5, 11, 12, None])
def test_under_13_and_unknown_age_use_only_kids_platforms(engine, age):
    subjects = [student(age)] + ([engine.unknown_subject()] if age is None else [])
    for subject in subjects:
        for platform in engine.catalog:
            host = (platform.domains or platform.hosts)[0]
            d = engine.decide(subject, "www." + host if platform.domains else host, "GET", AT)
            if platform.category == "kids":
                assert d.verdict == "allow" and d.guideline == "student.preamble", platform.id
            elif platform.category == "search":
                assert d.verdict == "allow" and d.rule == "search", platform.id
            else:
                assert d.verdict == "block", (platform.id, d)
                assert d.guideline in ("student.preamble", "student.10", "student.1"), platform.id


@pytest.mark.parametrize("subject,host,method,sessions,verdict,rule,guideline", [
    # 15-year-old outside a session: approved platforms read-only, others blocked
    (student(15), "www.youtube.com", "GET", [], "allow", "approved-read-only", "student.preamble"),
    (student(15), "www.youtube.com", "POST", [], "block", "approved-read-only", "student.preamble"),
    (student(15), "www.pinterest.com", "GET", [], "allow", "approved-read-only", "student.preamble"),
    (student(15), "www.linkedin.com", "POST", [], "block", "approved-read-only", "student.preamble"),
    (student(15), "www.instagram.com", "GET", [], "block", "students-not-approved", "student.preamble"),
    (student(15), "discord.com", "GET", [], "block", "students-not-approved", "student.preamble"),
    (student(15), "web.whatsapp.com", "GET", [], "block", "students-not-approved", "student.preamble"),
    # inside a session for the student's class: may post on that platform only
    (student(15), "www.youtube.com", "POST", [yt_session()], "allow", "teacher-session", "student.preamble"),
    (student(15), "www.instagram.com", "POST", [yt_session()], "block", "students-not-approved", "student.preamble"),
    (student(15), "www.instagram.com", "POST", [yt_session("instagram")], "allow", "teacher-session",
     "student.preamble"),
    (student(15), "www.youtube.com", "POST", [yt_session(class_id="cls-other")], "block", "approved-read-only",
     "student.preamble"),
    # under 13 in a session on a non-kids platform: still blocked
    (student(12), "www.youtube.com", "POST", [yt_session()], "block", "under13-not-kids", "student.preamble"),
    (student(12), "www.youtube.com", "GET", [yt_session()], "block", "under13-not-kids", "student.preamble"),
    # YouTube Kids' media servers are read-only for the young
    (student(11), "rr5---sn-8xgp1vo-p5qs.googlevideo.com", "GET", [], "allow", "under13-kids-video",
     "student.preamble"),
    (student(11), "i.ytimg.com", "POST", [], "block", "under13-kids-video", "student.preamble"),
    # piracy and DoH blocked for everyone
    (student(17), "thepiratebay.org", "GET", [], "block", "file-sharing-students", "student.10"),
    (student(17), "mega.nz", "GET", [], "block", "file-sharing-students", "student.10"),
    (TEACHER, "1337x.to", "GET", [], "block", "file-sharing-everyone", "staff.content.3"),
    (student(17), "dns.google", "POST", [], "block", "doh-students", "student.1"),
    (student(17), "mozilla.cloudflare-dns.com", "GET", [], "block", "doh-students", "student.1"),
    (TEACHER, "dns.quad9.net", "GET", [], "block", "doh-everyone", "staff.content.3"),
    (ADMIN, "doh.opendns.com", "GET", [], "block", "doh-everyone", "staff.content.3"),
    # staff allowed and monitored
    (TEACHER, "www.instagram.com", "POST", [], "allow", "staff-monitored", "staff.general.1"),
    (ADMIN, "www.tiktok.com", "POST", [], "allow", "staff-monitored", "staff.general.1"),
    # search allowed (SafeSearch is added by the proxy)
    (student(15), "www.google.com", "GET", [], "allow", "search", "student.7"),
])
def test_ensatsd_decisions(engine, subject, host, method, sessions, verdict, rule, guideline):
    d = engine.decide(subject, host, method, AT, sessions)
    assert (d.verdict, d.rule, d.guideline) == (verdict, rule, guideline)


def test_monitor_flag_for_staff(engine):
    assert engine.decide(TEACHER, "www.instagram.com", "GET", AT).monitored


def test_safesearch_for_students_and_unknown_only(engine):
    assert engine.safesearch(student(11)) and engine.safesearch(student(16)) and engine.safesearch(student(None))
    assert engine.safesearch(engine.unknown_subject())
    assert not engine.safesearch(TEACHER)
    assert engine.policy.safesearch.youtube_header == "Strict"


def test_must_intercept_only_catalog_hosts(engine):
    assert engine.must_intercept("www.instagram.com") and engine.must_intercept("dns.google")
    assert engine.must_intercept("www.google.com")
    assert not engine.must_intercept("www.wikipedia.org") and not engine.must_intercept("docs.google.com")
    assert engine.is_ignored("courier.push.apple.com") and not engine.must_intercept("courier.push.apple.com")
    assert engine.is_ignored("p42-gateway.gateway.icloud.com")
