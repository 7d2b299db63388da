"""Teacher-directed sessions: a teacher lets one class use one platform fully, for a while.

The store (agent/store) keeps them; the engine only asks whether one applies to a
request. They expire by themselves: `active_at` compares times, nothing has to run
to close them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


def aware(at: datetime) -> datetime:
    """Naive datetimes are UTC throughout CrossingGuard (docs/interfaces.md)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class TeacherSession:
    id: str
    teacher: str          # roster user id of the teacher who opened it
    class_id: str         # roster class sourcedId; its students are covered
    platform: str         # catalog platform id
    starts: datetime
    ends: datetime
    closed: datetime | None = None   # set when closed early

    def active_at(self, at: datetime) -> bool:
        """Open from `starts` (inclusive) until `ends` or `closed`, whichever comes first (exclusive)."""
        at = aware(at)
        if at < aware(self.starts) or at >= aware(self.ends):
            return False
        return self.closed is None or at < aware(self.closed)
