"""PolicyEngine on a small test policy: every action, schedules, sessions, subjects."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from agent.errors import UsageError
from agent.policy.engine import OUTSIDE_CATALOG, PolicyEngine
from agent.policy.loader import load_policy
from agent.policy.model import Subject
from agent.policy.sessions import TeacherSession

POLICY = """\
district: {name: Test District, short_name: TD, timezone: America/New_York}
guidelines:
  student.preamble: Teacher-directed learning only; under 13 only kids services.
  student.7: Age-appropriate content.
  student.10: No piracy.
  staff.general.1: Monitored.
cohorts:
  staff: {roles: [teacher, administrator]}
  young: {roles: [student, unknown], age_max: 12}
  teens: {roles: [student], age_min: 13}
  grade9: {roles: [student], grades: ["09"]}
  north: {roles: [student], schools: [org-north]}
schedules:
  lunch:
    days: [mon, tue, wed, thu, fri]
    windows: ["11:30-12:15"]
  weekend: {days: weekend, windows: ["00:00-24:00"]}
rules:
  - {id: piracy, categories: file_sharing, action: block, guideline: student.10, reason: No piracy.}
  - {id: staff, cohorts: staff, action: monitor, guideline: staff.general.1, reason: Watched.}
  - {id: young-kids, cohorts: young, categories: kids, action: allow, guideline: student.preamble, reason: Kids ok.}
  - {id: young-media, cohorts: young, hosts: [googlevideo.com], action: read_only, guideline: student.preamble,
     reason: Media only.}
  - {id: young-block, cohorts: young, action: block, guideline: student.preamble, reason: Too young.}
  - {id: north-pinterest, cohorts: north, platforms: pinterest, action: allow, guideline: student.7, reason: North ok.}
  - {id: lunch-tiktok, cohorts: teens, platforms: tiktok, schedule: lunch, action: read_only,
     guideline: student.7, reason: Lunch look.}
  - {id: weekend-reddit, cohorts: teens, platforms: reddit, schedule: weekend, action: monitor,
     guideline: student.7, reason: Weekend reddit watched.}
  - {id: session, cohorts: teens, teacher_session: true, action: allow, guideline: student.preamble,
     reason: Session open.}
  - {id: grade9-read, cohorts: grade9, platforms: [linkedin], action: read_only, guideline: student.7, reason: G9.}
  - {id: teens-read, cohorts: teens, platforms: [youtube, pinterest], action: read_only, guideline: student.preamble,
     reason: Look only.}
  - {id: tiktok-block, cohorts: teens, platforms: tiktok, action: block, guideline: student.7, reason: Not now.}
  - {id: outside-session-only, cohorts: teens, platforms: [discord], teacher_session: false, action: block,
     guideline: student.preamble, reason: No chat without a session.}
safesearch: {cohorts: [young, teens]}
ignore_hosts: [push.apple.com, "regex:.*\\\\.pinned\\\\.example", www.instagram.com]
"""

NY = ZoneInfo("America/New_York")
# Wednesday 2025-03-05 10:00 in New York
WED_10 = datetime(2025, 3, 5, 10, 0, tzinfo=NY)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("pol") / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return PolicyEngine(load_policy(path), FakeRoster())


def student(age, *, classes=("cls-a",), grades=("10",), schools=("org-south",), uid="s1") -> Subject:
    return Subject(uid, "student", age, tuple(grades), tuple(schools), frozenset(classes), "device", "dev-1")


TEACHER = Subject("t1", "teacher", 40, (), ("org-south",), frozenset({"cls-a"}), "auth", None)


# --------------------------------------------------------------------------- actions

@pytest.mark.parametrize("subject,host,method,verdict,action,rule,guideline", [
    # block
    (student(11), "www.instagram.com", "GET", "block", "block", "young-block", "student.preamble"),
    (student(15), "thepiratebay.org", "GET", "block", "block", "piracy", "student.10"),
    (TEACHER, "1337x.to", "GET", "block", "block", "piracy", "student.10"),
    # allow
    (student(11), "www.youtubekids.com", "POST", "allow", "allow", "young-kids", "student.preamble"),
    (student(15, schools=("org-north",)), "www.pinterest.com", "POST", "allow", "allow", "north-pinterest",
     "student.7"),
    # monitor = allowed and flagged
    (TEACHER, "www.instagram.com", "POST", "allow", "monitor", "staff", "staff.general.1"),
    # read_only: reads pass, writes are blocked
    (student(15), "www.youtube.com", "GET", "allow", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "HEAD", "allow", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "OPTIONS", "allow", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "get", "allow", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "POST", "block", "read_only", "teens-read", "student.preamble"),
    (student(15), "youtubei.googleapis.com", "PUT", "block", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "DELETE", "block", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "PATCH", "block", "read_only", "teens-read", "student.preamble"),
    (student(15), "www.youtube.com", "PROPFIND", "block", "read_only", "teens-read", "student.preamble"),
    # hosts narrowing: only googlevideo.com of YouTube is read-only for the young
    (student(11), "rr1---sn-x.googlevideo.com", "GET", "allow", "read_only", "young-media", "student.preamble"),
    (student(11), "rr1---sn-x.googlevideo.com", "POST", "block", "read_only", "young-media", "student.preamble"),
    (student(11), "i.ytimg.com", "GET", "block", "block", "young-block", "student.preamble"),
    # cohorts by grade and school
    (student(15, grades=("09",)), "www.linkedin.com", "POST", "block", "read_only", "grade9-read", "student.7"),
    (student(15, grades=("09",)), "www.linkedin.com", "GET", "allow", "read_only", "grade9-read", "student.7"),
    # catalog platform no rule matches -> allowed by the default rule
    (student(15), "www.linkedin.com", "POST", "allow", "allow", "default", ""),
    # teacher_session: false applies outside a session
    (student(15), "discord.com", "GET", "block", "block", "outside-session-only", "student.preamble"),
])
def test_actions(engine, subject, host, method, verdict, action, rule, guideline):
    d = engine.decide(subject, host, method, WED_10)
    assert (d.verdict, d.action, d.rule, d.guideline) == (verdict, action, rule, guideline)
    assert d.platform == engine.catalog.match(host).id
    assert d.category == engine.catalog.match(host).category
    assert d.reason


def test_hosts_outside_catalog_are_allowed_by_default(engine):
    for host in ("example.com", "docs.google.com", "10.0.0.5", "notinstagram.com"):
        d = engine.decide(student(11), host, "POST", WED_10)
        assert d is OUTSIDE_CATALOG
        assert d.to_json() == {"verdict": "allow", "action": "allow", "platform": None, "category": None,
                               "rule": "default", "guideline": "",
                               "reason": "This site is not on the district's social media list."}


def test_decision_json_has_exactly_the_contract_keys(engine):
    d = engine.decide(student(11), "instagram.com", "GET", WED_10)
    assert list(d.to_json()) == ["verdict", "action", "platform", "category", "rule", "guideline", "reason"]
    assert d.to_json(extended=True)["cohort"] == "young"


# --------------------------------------------------------------------------- unknown subjects and ages

def test_unknown_subject_and_unknown_age_are_treated_as_under_13(engine):
    for subject in (engine.unknown_subject(), student(None)):
        assert engine.cohorts_of(subject)[0] == "young"
        assert engine.decide(subject, "www.tiktok.com", "GET", WED_10).rule == "young-block"
        assert engine.decide(subject, "pbskids.org", "GET", WED_10).verdict == "allow"
        assert engine.safesearch(subject)


def test_unknown_subject_setting_teen(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(POLICY + "unknown_subject: teen\n", encoding="utf-8")
    eng = PolicyEngine(load_policy(path), None)
    assert eng.cohorts_of(eng.unknown_subject()) == ("teens",)
    assert eng.decide(eng.unknown_subject(), "www.youtube.com", "GET", WED_10).rule == "teens-read"


@pytest.mark.parametrize("age,cohorts", [(12, ("young",)), (13, ("teens",)), (0, ("young",)), (18, ("teens",))])
def test_age_bands_are_inclusive(engine, age, cohorts):
    assert engine.cohorts_of(student(age)) == cohorts


def test_staff_are_not_safesearched(engine):
    assert not engine.safesearch(TEACHER)
    assert engine.fail_mode(TEACHER) == "allow"
    assert engine.fail_mode(student(15)) == "block"
    assert engine.fail_mode(engine.unknown_subject()) == "block"


# --------------------------------------------------------------------------- schedules

@pytest.mark.parametrize("at,verdict,rule", [
    (datetime(2025, 3, 5, 11, 30, tzinfo=NY), "allow", "lunch-tiktok"),       # window start is inclusive
    (datetime(2025, 3, 5, 12, 14, 59, tzinfo=NY), "allow", "lunch-tiktok"),
    (datetime(2025, 3, 5, 12, 15, tzinfo=NY), "block", "tiktok-block"),             # end is exclusive
    (datetime(2025, 3, 5, 11, 29, tzinfo=NY), "block", "tiktok-block"),
    (datetime(2025, 3, 5, 16, 45, tzinfo=timezone.utc), "allow", "lunch-tiktok"),   # 11:45 EST written in UTC
    (datetime(2025, 3, 5, 16, 45), "allow", "lunch-tiktok"),                   # naive = UTC
    (datetime(2025, 7, 9, 15, 45, tzinfo=timezone.utc), "allow", "lunch-tiktok"),   # 11:45 EDT (summer)
    (datetime(2025, 7, 9, 16, 45, tzinfo=timezone.utc), "block", "tiktok-block"),   # 12:45 EDT
    (datetime(2025, 3, 8, 11, 45, tzinfo=NY), "block", "tiktok-block"),             # Saturday
    (datetime(2025, 3, 7, 11, 45, tzinfo=timezone(timedelta(hours=9))), "block", "tiktok-block"),  # Thu 22:45 NY
])
def test_schedule_windows_in_district_time(engine, at, verdict, rule):
    d = engine.decide(student(15), "www.tiktok.com", "GET", at)
    assert (d.verdict, d.rule) == (verdict, rule)


def test_weekend_schedule_monitors(engine):
    sat = datetime(2025, 3, 8, 23, 59, tzinfo=NY)
    assert engine.decide(student(15), "www.reddit.com", "POST", sat).action == "monitor"
    sun_late_utc = datetime(2025, 3, 10, 3, 59, tzinfo=timezone.utc)   # Sun 23:59 EDT
    assert engine.decide(student(15), "www.reddit.com", "POST", sun_late_utc).rule == "weekend-reddit"
    mon = datetime(2025, 3, 10, 4, 1, tzinfo=timezone.utc)             # Mon 00:01 EDT
    assert engine.decide(student(15), "www.reddit.com", "POST", mon).rule == "default"


# --------------------------------------------------------------------------- teacher sessions

def session(**kw) -> TeacherSession:
    base = dict(id="ses-1", teacher="t1", class_id="cls-a", platform="youtube",
                starts=WED_10 - timedelta(minutes=10), ends=WED_10 + timedelta(minutes=30), closed=None)
    base.update(kw)
    return TeacherSession(**base)


@pytest.mark.parametrize("subject,sessions,verdict,rule,session_id", [
    (student(15), [session()], "allow", "session", "ses-1"),                               # inside
    (student(15), [], "block", "teens-read", None),                                       # no session
    (student(15), [session(ends=WED_10)], "block", "teens-read", None),                    # just expired
    (student(15), [session(starts=WED_10 + timedelta(seconds=1))], "block", "teens-read", None),   # not started
    (student(15), [session(closed=WED_10 - timedelta(minutes=1))], "block", "teens-read", None),   # closed early
    (student(15), [session(class_id="cls-b")], "block", "teens-read", None),               # other class
    (student(15), [session(platform="instagram")], "block", "teens-read", None),           # other platform
    (student(15, classes=()), [session()], "block", "teens-read", None),                   # in no class
    (student(15), [session(class_id="cls-b", id="ses-b"), session(id="ses-2")], "allow", "session", "ses-2"),
    (student(11), [session()], "block", "young-block", None),                              # under 13, not kids
    (student(None), [session()], "block", "young-block", None),                            # age unknown
])
def test_teacher_sessions_for_posting(engine, subject, sessions, verdict, rule, session_id):
    d = engine.decide(subject, "www.youtube.com", "POST", WED_10, sessions)
    assert (d.verdict, d.rule, d.session) == (verdict, rule, session_id)


def test_under_13_session_on_kids_platform_is_allowed(engine):
    s = session(platform="youtube_kids")
    d = engine.decide(student(11), "www.youtubekids.com", "POST", WED_10, [s])
    assert d.verdict == "allow" and d.rule == "young-kids"


def test_session_false_rule_yields_inside_a_session(engine):
    s = session(platform="discord")
    assert engine.decide(student(15), "discord.com", "POST", WED_10, [s]).rule == "session"
    assert engine.decide(student(15), "discord.com", "POST", WED_10 + timedelta(hours=1), [s]).rule \
        == "outside-session-only"


def test_session_active_at_boundaries():
    s = session()
    assert s.active_at(s.starts) and not s.active_at(s.ends)
    assert not s.active_at(s.starts - timedelta(microseconds=1))
    naive_utc = (s.starts + timedelta(minutes=1)).astimezone(timezone.utc).replace(tzinfo=None)
    assert s.active_at(naive_utc)


# --------------------------------------------------------------------------- compiled rules

def test_rules_are_compiled_per_platform(engine):
    assert [r.id for r in engine.rules_for("instagram")] == ["staff", "young-block", "session"]
    assert [r.id for r in engine.rules_for("youtube")] == ["staff", "young-media", "young-block", "session",
                                                          "teens-read"]
    assert [r.id for r in engine.rules_for("pbs_kids")] == ["staff", "young-kids", "young-block", "session"]
    assert [r.id for r in engine.rules_for("the_pirate_bay")] == ["piracy", "staff", "young-block", "session"]


# --------------------------------------------------------------------------- proxy questions

@pytest.mark.parametrize("host,intercept,ignored", [
    ("www.youtube.com", True, False), ("dns.google", True, False), ("example.com", False, False),
    ("1.1.1.1", True, False), ("192.0.2.80", False, False), ("push.apple.com", False, True), ("a.push.apple.com", False, True),
    ("x.pinned.example", False, True), ("pinned.example", False, False),
    ("www.instagram.com", False, True), ("i.instagram.com", True, False),
])
def test_must_intercept_and_ignore(engine, host, intercept, ignored):
    assert engine.must_intercept(host) is intercept
    assert engine.is_ignored(host) is ignored


# --------------------------------------------------------------------------- subjects from the roster

class FakeRoster:
    """The two calls the engine makes on a Roster (docs/interfaces.md)."""

    def __init__(self):
        self.people = {
            "stu-1": SimpleNamespace(user_id="stu-1", username="ana.b", role="student", birth_date=date(2012, 3, 5),
                                     grades=("07",), schools=("org-north",), classes=frozenset({"cls-a"})),
            "stu-2": SimpleNamespace(user_id="stu-2", username="no.birth", role="student", birth_date=None,
                                     grades=("08",), schools=("org-south",), classes=frozenset()),
            "tch-1": SimpleNamespace(user_id="tch-1", username="t.one", role="teacher", birth_date=None,
                                     grades=(), schools=("org-north",), classes=frozenset({"cls-a"})),
        }

    def get(self, ref):
        if ref in self.people:
            return self.people[ref]
        return next((p for p in self.people.values() if p.username == ref.lower()), None)

    def age_on(self, person, at, tz):
        if person.birth_date is None:
            return None
        local = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(tz).date()
        b = person.birth_date
        return local.year - b.year - ((local.month, local.day) < (b.month, b.day))


def test_subject_for_user_computes_age_in_district_time(engine):
    # 13th birthday starts at local midnight in New York: 05:00 UTC on 2025-03-05
    before = engine.subject_for_user("stu-1", datetime(2025, 3, 5, 4, 59, tzinfo=timezone.utc))
    after = engine.subject_for_user("ana.b", datetime(2025, 3, 5, 5, 0, tzinfo=timezone.utc))
    assert (before.age, after.age) == (12, 13)
    assert before.user_id == after.user_id == "stu-1"
    assert after.classes == frozenset({"cls-a"}) and after.schools == ("org-north",)
    assert engine.cohorts_of(before) == ("young", "north")
    assert engine.cohorts_of(after) == ("teens", "north")
    assert engine.decide(before, "www.instagram.com", "GET", WED_10).verdict == "block"


def test_subject_for_user_unknown_and_missing(engine):
    u = engine.subject_for_user("unknown", WED_10)
    assert (u.user_id, u.role, u.age) == ("unknown", "unknown", None)
    assert engine.subject_for_user("stu-2", WED_10).age is None
    with pytest.raises(UsageError, match="no user 'nobody' in the roster"):
        engine.subject_for_user("nobody", WED_10)


def test_subject_from_identity(engine):
    ident = SimpleNamespace(user_id="tch-1", source="auth", device="10.0.0.9")
    s = engine.subject(ident, WED_10)
    assert (s.user_id, s.role, s.source, s.device) == ("tch-1", "teacher", "auth", "10.0.0.9")
    gone = engine.subject(SimpleNamespace(user_id="stu-404", source="device", device="d9"), WED_10)
    assert (gone.user_id, gone.role, gone.device) == ("unknown", "unknown", "d9")
    anon = engine.subject(SimpleNamespace(user_id="unknown", source="unknown", device="10.0.0.7"), WED_10)
    assert anon.role == "unknown" and anon.device == "10.0.0.7"
