"""The loaded roster: O(1) lookups for the proxy's hot path, and age on a date."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from agent.roster.importer import import_roster
from agent.roster.model import ClassInfo, Org, Person, RosterIssue

DEFAULT_TZ = ZoneInfo("America/New_York")


def age_on(birth_date, at: datetime, tz: ZoneInfo | None = None) -> int | None:
    """Whole years from `birth_date` to the local date of `at` in `tz`.

    `at` may carry any offset; a naive `at` is UTC. Only the local calendar date
    matters, so a birthday starts at local midnight. A Feb 29 birthday compares as
    (2, 29) > (2, 28), so in common years it turns over on Mar 1.
    """
    if birth_date is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    local = at.astimezone(tz or DEFAULT_TZ).date()
    years = local.year - birth_date.year
    if (local.month, local.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class Roster:
    def __init__(self, people: dict[str, Person] | None = None, orgs: dict[str, Org] | None = None,
                 classes: dict[str, ClassInfo] | None = None, issues: list[RosterIssue] | None = None,
                 source: Path | None = None):
        self._by_id: dict[str, Person] = dict(people or {})
        self._by_username: dict[str, Person] = {p.username.lower(): p for p in self._by_id.values()}
        self._orgs: dict[str, Org] = dict(orgs or {})
        self._classes: dict[str, ClassInfo] = dict(classes or {})
        self.issues: list[RosterIssue] = list(issues or [])
        self.source = source

    @classmethod
    def load(cls, directory: Path) -> "Roster":
        result = import_roster(Path(directory))
        return cls(result.people, result.orgs, result.classes, result.issues, Path(directory))

    @classmethod
    def empty(cls) -> "Roster":
        return cls()

    def get(self, ref: str | None) -> Person | None:
        """By sourcedId (exact), else by username ignoring case; two dict lookups."""
        if not ref:
            return None
        person = self._by_id.get(ref)
        if person is None:
            person = self._by_username.get(ref.lower())
        return person

    def age_on(self, person: Person, at: datetime, tz: ZoneInfo | None = None) -> int | None:
        return age_on(person.birth_date, at, tz)

    def school_name(self, org_id: str) -> str | None:
        org = self._orgs.get(org_id)
        return org.name if org else None

    def org(self, org_id: str) -> Org | None:
        return self._orgs.get(org_id)

    def orgs(self) -> Iterator[Org]:
        return iter(self._orgs.values())

    def class_info(self, class_id: str) -> ClassInfo | None:
        return self._classes.get(class_id)

    def classes(self) -> Iterator[ClassInfo]:
        return iter(self._classes.values())

    def people(self) -> Iterator[Person]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, ref: str) -> bool:
        return self.get(ref) is not None
