"""The roster's records: plain frozen dataclasses that cross package boundaries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Person:
    user_id: str                  # OneRoster sourcedId
    username: str                 # = the proxy-auth username
    role: str                     # student | teacher | administrator | aide | guardian | ...
    given_name: str
    family_name: str
    email: str | None
    birth_date: date | None       # None -> age unknown -> the policy treats it as under 13
    grades: tuple[str, ...]
    schools: tuple[str, ...]      # org sourcedIds
    classes: frozenset[str]       # class sourcedIds (enrolled or teaching)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class RosterIssue:
    """A row that was skipped, located by file name and the CSV line it starts on."""
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ClassInfo:
    class_id: str
    title: str
    school: str                   # org sourcedId
    teachers: frozenset[str]      # user sourcedIds
    students: frozenset[str]


@dataclass(frozen=True)
class Org:
    org_id: str
    name: str
    type: str                     # district | school | ...
    parent: str | None
