"""The shipped demo roster: loads cleanly and has what the examples and e2e tests rely on."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.context import DEFAULT_ROSTER
from agent.identity import DeviceRegistry
from agent.roster import Roster

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load(DEFAULT_ROSTER)


def test_loads_with_zero_issues(roster):
    assert roster.issues == []


def test_two_schools_in_one_district(roster):
    schools = [o for o in roster.orgs() if o.type == "school"]
    districts = [o for o in roster.orgs() if o.type == "district"]
    assert len(schools) == 2 and len(districts) == 1
    assert all(s.parent == districts[0].org_id for s in schools)
    students = [p for p in roster.people() if p.role == "student"]
    assert {s for p in students for s in p.schools} == {s.org_id for s in schools}


def test_students_span_11_to_18_on_every_day_of_the_school_year(roster):
    students = [p for p in roster.people() if p.role == "student"]
    day, last = date(2026, 8, 31), date(2027, 6, 18)
    while day <= last:
        when = datetime.combine(day, time(12), NY)
        ages = {roster.age_on(p, when, NY) for p in students}
        assert set(range(11, 19)) <= ages, day
        assert None in ages            # one student has no birthDate
        day += timedelta(days=1)


def test_special_birthdays_present(roster):
    students = [p for p in roster.people() if p.role == "student"]
    assert any(p.birth_date and (p.birth_date.month, p.birth_date.day) == (2, 29) for p in students)
    assert any(p.birth_date is None for p in students)


def test_staff_and_classes(roster):
    roles = [p.role for p in roster.people()]
    assert roles.count("teacher") >= 3 and "administrator" in roles
    classes = list(roster.classes())
    assert len(classes) >= 4
    for c in classes:
        assert c.teachers and c.students, c
        assert all(roster.get(t).role == "teacher" for t in c.teachers)
        assert all(roster.get(s).role == "student" for s in c.students)


@pytest.mark.parametrize("user, username, age", [
    ("stu-1001", "mila.harrow", 11),
    ("stu-1004", "owen.pike", 13),
    ("stu-1005", "nora.quill", 14),
    ("stu-1006", "eli.marsh", 15),
    ("stu-1010", "caleb.frostwood", 18),
    ("stu-1011", "kai.winterbourne", None),
])
def test_documented_users(roster, user, username, age):
    person = roster.get(user)
    assert person.username == username
    assert roster.age_on(person, datetime.fromisoformat("2026-11-28T12:00:00-05:00"), NY) == age


def test_documented_15_year_old_is_taught_by_documented_teacher(roster):
    dmp = roster.class_info("cls-main-dmp")
    assert "stu-1006" in dmp.students and "tch-2001" in dmp.teachers


def test_disabled_demo_users_are_not_loaded(roster):
    assert roster.get("stu-1012") is None and roster.get("stu-1013") is None


def test_sample_devices_load_and_every_device_user_is_in_the_roster(roster):
    registry = DeviceRegistry.load(DEFAULT_ROSTER / "devices.csv")
    entries = registry.entries()
    assert len(registry) >= 10
    for device_id, user_id, ip, mac in entries:
        assert roster.get(user_id) is not None, device_id
        assert ip is None or ip.startswith("127.0.0.")
    assert registry.by_ip("127.0.0.1") is None    # the default test client stays unknown
    assert registry.by_ip("127.0.0.11") == ("cb-mila", "stu-1001")
