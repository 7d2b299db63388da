"""Age on the date of a request, in the district's time zone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from agent.roster import Person, Roster, age_on

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC = ZoneInfo("UTC")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


AGE_TABLE = [
    # birth, at, tz, age
    # New York is on daylight time (UTC-4) from 2026-03-08: local midnight of the 10th is 04:00Z.
    ("2013-03-10", "2026-03-10T03:59:59+00:00", NY, 12),
    ("2013-03-10", "2026-03-10T04:00:00+00:00", NY, 13),
    ("2013-03-10", "2026-03-10T04:59:59Z", NY, 13),
    # the same instants written with other offsets give the same answers
    ("2013-03-10", "2026-03-10T12:59:59+09:00", NY, 12),
    ("2013-03-10", "2026-03-10T13:00:00+09:00", NY, 13),
    ("2013-03-10", "2026-03-10T09:00:00+09:00", NY, 12),   # already the 10th in Tokyo, not in New York
    ("2013-03-09", "2026-03-09T23:59:59-04:00", NY, 13),
    ("2013-03-10", "2026-03-09T19:59:59-08:00", NY, 12),
    ("2013-03-10", "2026-03-09T20:00:00-08:00", NY, 13),
    # naive means UTC
    ("2013-03-10", "2026-03-10T03:59:59", NY, 12),
    ("2013-03-10", "2026-03-10T04:00:00", NY, 13),
    # winter: UTC-5
    ("2013-12-05", "2026-12-05T04:59:59Z", NY, 12),
    ("2013-12-05", "2026-12-05T05:00:00Z", NY, 13),
    ("2013-12-05", "2026-12-05T00:00:00-05:00", NY, 13),
    # another district zone
    ("2013-03-10", "2026-03-09T14:59:59Z", TOKYO, 12),
    ("2013-03-10", "2026-03-09T15:00:00Z", TOKYO, 13),
    ("2013-03-10", "2026-03-10T00:00:00Z", UTC, 13),
    ("2013-03-10", "2026-03-09T23:59:59Z", UTC, 12),
    # Feb 29 birthdays turn over on Mar 1 in common years, on Feb 29 in leap years
    ("2012-02-29", "2027-02-28T23:59:59-05:00", NY, 14),
    ("2012-02-29", "2027-03-01T04:59:59Z", NY, 14),
    ("2012-02-29", "2027-03-01T05:00:00Z", NY, 15),
    ("2012-02-29", "2028-02-28T12:00:00-05:00", NY, 15),
    ("2012-02-29", "2028-02-29T00:00:00-05:00", NY, 16),
    ("2012-02-29", "2028-02-29T04:59:59Z", NY, 15),
    # ordinary days either side of a birthday, and the year boundary
    ("2008-08-22", "2026-11-28T12:00:00Z", NY, 18),
    ("2015-06-14", "2027-06-13T23:59:59-04:00", NY, 11),
    ("2015-06-14", "2027-06-14T00:00:00-04:00", NY, 12),
    ("2013-01-01", "2026-01-01T04:59:59Z", NY, 12),
    ("2013-01-01", "2026-01-01T05:00:00Z", NY, 13),
]


@pytest.mark.parametrize("birth, at, tz, expected", AGE_TABLE)
def test_age_on(birth, at, tz, expected):
    assert age_on(date.fromisoformat(birth), _dt(at), tz) == expected


@pytest.mark.parametrize("birth, at, tz, expected", AGE_TABLE)
def test_roster_age_on_uses_the_same_rule(birth, at, tz, expected):
    person = Person("u1", "u", "student", "A", "B", None, date.fromisoformat(birth), (), (), frozenset())
    assert Roster.empty().age_on(person, _dt(at), tz) == expected


def test_default_zone_is_new_york():
    at = _dt("2026-03-10T03:59:59Z")
    assert age_on(date(2013, 3, 10), at) == 12
    assert age_on(date(2013, 3, 10), at, UTC) == 13


def test_unknown_birth_date_is_unknown_age():
    assert age_on(None, _dt("2026-03-10T12:00:00Z"), NY) is None
