"""Time windows on days of the week, in the district's time zone.

A schedule is written as days plus `HH:MM-HH:MM` windows; `24:00` may end a window.
A window never crosses midnight (write two windows instead): that keeps "which day
does 23:00-02:00 belong to" out of the policy file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from agent.policy.sessions import aware

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS = {"weekdays": DAYS[:5], "weekend": DAYS[5:], "every_day": DAYS}
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")


def parse_time(text: str) -> int | None:
    """'07:30' -> minutes since midnight (0..1440); None when it is not a time of day."""
    m = _TIME_RE.fullmatch(text.strip())
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi != 0):
        return None
    return h * 60 + mi


def parse_window(text: str) -> tuple[int, int] | str:
    """'07:30-14:30' -> (450, 870), or a message saying what was expected."""
    parts = str(text).split("-")
    if len(parts) != 2:
        return f"expected a time window like 07:30-14:30; got {text!r}"
    start, end = parse_time(parts[0]), parse_time(parts[1])
    for raw, val in ((parts[0], start), (parts[1], end)):
        if val is None:
            return f"expected a time of day HH:MM from 00:00 to 24:00; got {raw.strip()!r} in {text!r}"
    if end <= start:
        return (f"expected the window to end after it starts (windows do not cross midnight; "
                f"write two windows); got {text!r}")
    return (start, end)


@dataclass(frozen=True)
class Schedule:
    name: str
    days: frozenset[int]                     # 0 = Monday
    windows: tuple[tuple[int, int], ...]     # minutes since local midnight, [start, end)
    tz: ZoneInfo

    def contains(self, at: datetime) -> bool:
        local = aware(at).astimezone(self.tz)
        if local.weekday() not in self.days:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.windows)
