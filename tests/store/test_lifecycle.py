"""The incident lifecycle in the store (agent/store/lifecycle.py): keyset paging in queue order,
filters and role scopes, transitions with history and audit, accounts. Runs on SQLite, and on a
throw-away PostgreSQL where the `postgres_url` fixture exists (tests/support/postgres.py)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from agent.store import Incident, open_store
from agent.store.lifecycle import (SEVERITIES_DESC, ActionRefused, IncidentFilter, NotFound, decode_cursor,
                                   encode_cursor)

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def lstore(request, tmp_path):
    url = None
    if request.param == "postgresql":
        try:
            url = request.getfixturevalue("postgres_url")
        except pytest.FixtureLookupError:
            pytest.skip("no postgres_url fixture in this checkout (tests/support/postgres.py)")
    s = open_store(url, tmp_path)
    yield s
    s.close()


def seed(store, n=120, seed=3):
    rng = random.Random(seed)
    made = []
    for i in range(n):
        sev = rng.choice(SEVERITIES_DESC)
        inc = Incident.new(user=f"stu-{rng.randrange(5)}", platform=rng.choice(["x", "tiktok"]),
                           kind=rng.choice(["post", "post", "bypass"]), text=f"t{i}",
                           labels=(rng.choice(["bullying", "threat", "self_harm"]),) if sev != "low" else (),
                           severity=sev, school=rng.choice(["s1", "s2", "s3"]),
                           # some share a timestamp: the id breaks the tie
                           created=NOW - timedelta(minutes=rng.randrange(40)))
        store.add_incident(inc)
        made.append(inc)
    return made


def expected(incs):
    # most severe first, then newest, then id descending (the keyset's tie-break)
    return [i.id for i in sorted(incs, key=lambda i: (SEVERITIES_DESC.index(i.severity),
                                                       -i.created.timestamp(), _neg(i.id)))]


def _neg(s):
    return tuple(-ord(c) for c in s)


def walk(store, f, limit):
    ids, cursor, pages = [], None, 0
    while True:
        items, cursor = store.incident_page(f, limit=limit, cursor=cursor)
        ids += [i.id for i in items]
        pages += 1
        assert pages < 1000
        if cursor is None:
            return ids


@pytest.mark.parametrize("limit", [1, 7, 50, 500])
def test_paging_walks_the_whole_queue_in_order_without_gaps_or_repeats(lstore, limit):
    made = seed(lstore)
    assert walk(lstore, IncidentFilter(), limit) == expected(made)


@pytest.mark.parametrize("f, keep", [
    (IncidentFilter(school="s1"), lambda i: i.school == "s1"),
    (IncidentFilter(schools=("s1", "s2"), exclude_kinds=("bypass",)),
     lambda i: i.school in ("s1", "s2") and i.kind != "bypass"),
    (IncidentFilter(kinds=("bypass",)), lambda i: i.kind == "bypass"),
    (IncidentFilter(schools=()), lambda i: False),
    (IncidentFilter(category="self_harm"), lambda i: "self_harm" in i.labels),
    (IncidentFilter(severity="high", platform="x"), lambda i: i.severity == "high" and i.platform == "x"),
    (IncidentFilter(since=NOW - timedelta(minutes=10), until=NOW - timedelta(minutes=2)),
     lambda i: NOW - timedelta(minutes=10) <= i.created < NOW - timedelta(minutes=2)),
])
def test_filters(lstore, f, keep):
    made = seed(lstore)
    assert walk(lstore, f, 13) == expected([i for i in made if keep(i)])


def test_category_filter_is_exact_not_a_substring(lstore):
    lstore.add_incident(Incident.new(user="u", platform="x", kind="post", text="a", labels=("self_harm",),
                                     severity="critical", school="s1"))
    lstore.add_incident(Incident.new(user="u", platform="x", kind="post", text="b", labels=("harm",),
                                     severity="critical", school="s1"))
    items, _ = lstore.incident_page(IncidentFilter(category="harm"))
    assert [i.text for i in items] == ["b"]


def test_status_filter_follows_actions(lstore):
    made = seed(lstore, 20)
    lstore.add_account("c", "admin", ())
    lstore.apply_action(made[0].id, "close", "c")
    items, _ = lstore.incident_page(IncidentFilter(status="closed"))
    assert [i.id for i in items] == [made[0].id]


def test_bad_cursor_is_a_value_error():
    for bad in ("", "x", "!!!", encode_cursor("critical", "t", "i")[:-3]):
        with pytest.raises(ValueError):
            decode_cursor(bad)
    assert decode_cursor(encode_cursor("high", "2026", "inc-1")) == ("high", "2026", "inc-1")


def test_unacknowledged_criticals_oldest_first(lstore):
    made = seed(lstore)
    crit_open = [i for i in made if i.severity == "critical"]
    lstore.add_account("c", "admin", ())
    lstore.apply_action(crit_open[0].id, "note", "c", note="seen")
    items, count = lstore.unacknowledged(IncidentFilter(), limit=5)
    assert count == len(crit_open) - 1
    rest = sorted(crit_open[1:], key=lambda i: (i.created, i.id))
    assert [i.id for i in items] == [i.id for i in rest[:5]]


def test_actions_history_and_audit_in_one_chain(lstore):
    inc = Incident.new(user="u", platform="x", kind="post", text="t", severity="high", school="s1")
    lstore.add_incident(inc)
    lstore.add_account("ann", "counselor", ("s1",))
    assert lstore.apply_action(inc.id, "assign", "ann", assignee="ann").status == "reviewing"
    assert lstore.apply_action(inc.id, "escalate", "ann").status == "escalated"
    with pytest.raises(ActionRefused):
        lstore.apply_action(inc.id, "escalate", "ann")
    assert lstore.apply_action(inc.id, "dismiss", "ann", note="lyrics").status == "dismissed"
    with pytest.raises(ActionRefused):
        lstore.apply_action(inc.id, "close", "ann")
    got = lstore.apply_action(inc.id, "reopen", "ann")
    assert (got.status, got.assignee) == ("reviewing", "ann")
    with pytest.raises(NotFound):
        lstore.apply_action("inc-missing", "close", "ann")
    hist = lstore.history(inc.id)
    assert [(h.action, h.detail["from"], h.detail["to"]) for h in hist] == [
        ("assign", "open", "reviewing"), ("escalate", "reviewing", "escalated"),
        ("dismiss", "escalated", "dismissed"), ("reopen", "dismissed", "reviewing")]
    assert hist[2].detail["note"] == "lyrics"
    audit = [e for e in lstore.audit_entries() if e["target"] == inc.id]
    assert [e["action"] for e in audit] == ["incident.assign", "incident.escalate", "incident.dismiss",
                                            "incident.reopen"]
    assert audit[2]["detail"] == {"from": "escalated", "to": "dismissed", "note_chars": 6}
    assert lstore.verify_audit() == []
    assert lstore.incident(inc.id).assignee == "ann"


def test_accounts(lstore):
    a = lstore.add_account("ann", "counselor", ("s1", "s2"), "$argon2id$x")
    assert (a.role, a.schools, a.disabled) == ("counselor", ("s1", "s2"), False)
    with pytest.raises(ValueError, match="already exists"):
        lstore.add_account("ann", "admin", ())
    with pytest.raises(ValueError, match="role"):
        lstore.add_account("bob", "janitor", ())
    assert lstore.set_account("ann", disabled=True).disabled is True
    with pytest.raises(NotFound):
        lstore.set_account("nobody", disabled=True)
    assert [x.username for x in lstore.accounts()] == ["ann"]
    assert "$argon2id$x" not in str(a.to_json())
    assert [e["action"] for e in lstore.audit_entries()] == ["account.add", "account.change"]


def test_user_incidents_respect_scope(lstore):
    a = Incident.new(user="u1", platform="x", kind="post", text="a", school="s1", created=NOW)
    b = Incident.new(user="u1", platform="x", kind="post", text="b", school="s2", created=NOW - timedelta(hours=1))
    c = Incident.new(user="u1", platform="x", kind="post", text="c", school="s1", created=NOW - timedelta(hours=2))
    for i in (a, b, c):
        lstore.add_incident(i)
    got = lstore.user_incidents("u1", before=a, f=IncidentFilter(schools=("s1",)))
    assert [i.id for i in got] == [c.id]
