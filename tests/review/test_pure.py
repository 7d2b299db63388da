"""Pure pieces of the review app, as tables: access rules, highlighting, CSV safety, label rows,
filters, the throttle and the session registry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from agent.review import access
from agent.review.auth import (LoginThrottle, SessionRegistry, ThrottleRule, hash_password, needs_rehash,
                               verify_password)
from agent.review.present import (BadFilter, csv_cell, export_csv, highlight, label_rows, parse_filter,
                                  parse_limit, waited)
from agent.store import Incident
from agent.store.lifecycle import Account, IncidentFilter

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


def acct(role, schools=(), disabled=False):
    return Account("x", role, tuple(schools), None, disabled, NOW)


def inc(school="s1", kind="post", status="open", labels=("bullying",), text="t"):
    return Incident(id="inc-1", created=NOW, user="u", platform="x", kind=kind, text=text, labels=labels,
                    status=status, school=school)


@pytest.mark.parametrize("account, incident, sees", [
    (acct("admin"), inc(), True),
    (acct("admin"), inc(kind="bypass"), True),
    (acct("counselor", ["s1"]), inc(), True),
    (acct("counselor", ["s1"]), inc(school="s2"), False),
    (acct("counselor", ["s1"]), inc(school=None), False),
    (acct("counselor", ["s1"]), inc(kind="bypass"), False),
    (acct("counselor", ["s1"]), inc(kind="report"), True),
    (acct("counselor", ["s1"], disabled=True), inc(), False),
    (acct("it"), inc(kind="bypass", school="s9"), True),
    (acct("it"), inc(kind="system"), True),
    (acct("it"), inc(), False),
    (acct("auditor"), inc(), False),
    (acct("auditor"), inc(kind="bypass"), False),
])
def test_can_see(account, incident, sees):
    assert access.can_see(account, incident) is sees


@pytest.mark.parametrize("role, lists, audit, text", [
    ("admin", True, True, True), ("counselor", True, False, True),
    ("it", True, False, False), ("auditor", False, True, False),
])
def test_role_capabilities(role, lists, audit, text):
    a = acct(role, ["s1"] if role == "counselor" else [])
    assert (access.may_list_incidents(a), access.may_read_audit(a), access.may_see_text(a)) == (lists, audit, text)


@pytest.mark.parametrize("text, evidence, pieces", [
    ("abc", [], [("abc", None)]),
    ("", [], [("", None)]),
    ("I will hurt you", [{"start": 7, "end": 11, "category": "threat"}],
     [("I will ", None), ("hurt", "threat"), (" you", None)]),
    ("abcdef", [{"start": 0, "end": 3, "category": "a"}, {"start": 2, "end": 5, "category": "b"}],
     [("abcde", "a"), ("f", None)]),
    ("abc", [{"start": 2, "end": 9, "category": "a"}, {"start": -1, "end": 1}, {"start": 1, "end": 1},
             {"text": "no offsets"}], [("abc", None)]),
    ("abcdef", [{"start": 4, "end": 6, "category": "x"}, {"start": 0, "end": 1, "category": ""}],
     [("a", "evidence"), ("bcd", None), ("ef", "x")]),
])
def test_highlight(text, evidence, pieces):
    assert highlight(text, evidence) == pieces
    assert "".join(p for p, _ in highlight(text, evidence)) == text


@pytest.mark.parametrize("delta, shown", [
    (timedelta(seconds=5), "5 s"), (timedelta(minutes=4, seconds=59), "4 min"),
    (timedelta(hours=2, minutes=5), "2 h 5 min"), (timedelta(days=3, hours=1, minutes=9), "3 d 1 h"),
    (timedelta(seconds=-30), "0 s"),
])
def test_waited(delta, shown):
    assert waited(NOW - delta, NOW) == shown


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM", "'@SUM"),
    ("\tx", "'\tx"), ("plain", "plain"), (None, ""), ("a=b", "a=b"),
])
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_export_csv_has_no_text_and_neutralises_formulas():
    out = export_csv([Incident(id="inc-1", created=NOW, user="=cmd|calc", platform="x", kind="post",
                               text="secret words", labels=("bullying", "pii"), school="s1")])
    assert "secret words" not in out and "'=cmd|calc" in out and "bullying;pii" in out


def test_label_rows():
    rows = label_rows([
        inc(status="closed", labels=("bullying", "pii"), text="a"),
        inc(status="dismissed", labels=("threat",), text="b"),
        inc(status="open", labels=("threat",), text="c"),
        inc(status="closed", labels=(), text="d"),
        inc(status="closed", labels=("bullying",), text="  "),
        inc(status="closed", labels=("weird",), text="e"),
    ])
    assert rows == [("a", "bullying", 1), ("a", "pii", 1), ("b", "threat", 0)]


TZ = ZoneInfo("America/New_York")


@pytest.mark.parametrize("args, want", [
    ({}, IncidentFilter(schools=("s1",))),
    ({"status": "open", "category": "threat", "school": "s2", "platform": " x "},
     IncidentFilter(schools=("s1",), status="open", category="threat", school="s2", platform="x")),
    ({"since": "2026-11-02", "until": "2026-11-02"},
     IncidentFilter(schools=("s1",), since=datetime(2026, 11, 2, 5, 0, tzinfo=timezone.utc),
                    until=datetime(2026, 11, 3, 5, 0, tzinfo=timezone.utc))),
    ({"since": "2026-11-02T10:00:00"}, IncidentFilter(schools=("s1",), since=datetime(2026, 11, 2, 10, tzinfo=timezone.utc))),
])
def test_parse_filter_keeps_the_role_scope(args, want):
    assert parse_filter(args, IncidentFilter(schools=("s1",)), TZ) == want


@pytest.mark.parametrize("args", [{"status": "gone"}, {"severity": "huge"}, {"category": "spam"},
                                  {"since": "last week"}, {"school": "x" * 300}])
def test_parse_filter_refuses(args):
    with pytest.raises(BadFilter):
        parse_filter(args, IncidentFilter(), TZ)


@pytest.mark.parametrize("value, n", [(None, 50), ("", 50), ("1", 1), ("500", 500)])
def test_parse_limit(value, n):
    assert parse_limit(value) == n


@pytest.mark.parametrize("value", ["0", "501", "-3", "ten", "1.5"])
def test_parse_limit_refuses(value):
    with pytest.raises(BadFilter):
        parse_limit(value)


def test_passwords():
    h = hash_password("a fine long password")
    assert h.startswith("$argon2id$") and not needs_rehash(h)
    assert verify_password(h, "a fine long password")
    assert not verify_password(h, "a fine long passwore")
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")
    with pytest.raises(ValueError):
        hash_password("short")


def test_throttle_window_and_lockout():
    t = [0.0]
    th = LoginThrottle(ThrottleRule(3, 60, 100), ThrottleRule(5, 60, 100), clock=lambda: t[0])
    for _ in range(2):
        th.failed("Ann", "1.1.1.1")
    t[0] = 61.0          # the first two failures leave the window
    th.failed("ann", "1.1.1.1")
    assert th.retry_after("ann", "2.2.2.2") == 0
    th.failed("ann", "1.1.1.1")
    th.failed("ANN ", "1.1.1.1")      # usernames compare case-blind, trimmed
    assert th.retry_after("ann", "2.2.2.2") == pytest.approx(100)
    assert th.retry_after("bob", "1.1.1.1") == 0          # address has 5 in window? no: 3 + 2 old
    th.succeeded("ann", "1.1.1.1")
    assert th.retry_after("ann", "2.2.2.2") == pytest.approx(100)   # a lock is not lifted by success
    t[0] = 162.0
    assert th.retry_after("ann", "2.2.2.2") == 0


def test_sessions_idle_timeout_and_end():
    t = [0.0]
    reg = SessionRegistry(idle_seconds=60, clock=lambda: t[0])
    s = reg.create("ann")
    t[0] = 59
    assert reg.get(s.sid) is s
    t[0] = 118           # touched at 59: still alive
    assert reg.get(s.sid) is s
    t[0] = 179
    assert reg.get(s.sid) is None
    s2, s3 = reg.create("ann"), reg.create("bob")
    assert s2.sid != s3.sid and s2.csrf != s3.csrf
    assert reg.end_user("ann") == 1 and reg.get(s2.sid) is None and reg.get(s3.sid) is s3
    assert reg.get(None) is None and reg.end("nope") is None
