"""OneRoster 1.1 CSV import: turns the files of one roster folder into records.

Each file is read by header name (see csvfile.py). A bad row becomes a
RosterIssue with its file and starting line and is skipped; the import itself
never fails on row content. Only a missing required file or column, or a file
that is not UTF-8 CSV, is fatal (ConfigError): then nothing in it can be trusted.

Skipping is the safe direction here: a student whose row is skipped is not in
the roster, so the proxy sees an `unknown` subject and gives it the most
protective treatment (as under 13).

Values a row cannot do without: sourcedId everywhere; users: enabledUser (true or
false), role, username (unique ignoring case: it is the proxy login), orgSourcedIds
(known orgs); orgs: name, type; classes: title, schoolSourcedId (a known school);
enrollments: classSourcedId, userSourcedId, role (and a student user for a student
enrollment, a non-student for any other). Names may be empty; a missing birthDate
means the age is unknown (the policy treats it as under 13), not a bad row.

Rows with status `tobedeleted` (or 1.0's `inactive`), and users with enabledUser=false, are dropped
without an issue: that is how an SIS says "gone". References to them from later
files (demographics, enrollments) are dropped quietly too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from agent.errors import ConfigError
from agent.roster.csvfile import Row, read_rows
from agent.roster.model import ClassInfo, Org, Person, RosterIssue

# OneRoster 1.1 role vocabularies (lower-cased; the spec's values are camel case).
USER_ROLES = frozenset({"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"})
ENROLLMENT_ROLES = frozenset({"administrator", "aide", "proctor", "student", "teacher"})
ORG_TYPES = frozenset({"department", "school", "district", "local", "state", "national"})
STATUSES = frozenset({"", "active", "tobedeleted", "inactive"})

REQUIRED_FILES = ("orgs.csv", "users.csv")

USERS_COLUMNS = ("sourcedId", "enabledUser", "orgSourcedIds", "role", "username", "givenName", "familyName")
ORGS_COLUMNS = ("sourcedId", "name", "type")
DEMOGRAPHICS_COLUMNS = ("sourcedId", "birthDate")
CLASSES_COLUMNS = ("sourcedId", "title", "schoolSourcedId")
ENROLLMENTS_COLUMNS = ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class _BadRow(Exception):
    """Raised inside a row parser: the row is reported and skipped."""


def _date(value: str, column: str) -> date:
    if not _DATE.match(value):
        raise _BadRow(f"{column} {value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _BadRow(f"{column} {value!r} is not a real date") from None


def _list(value: str) -> tuple[str, ...]:
    """A OneRoster list field: comma-separated inside one (quoted) CSV field."""
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _required(row: Row, column: str) -> str:
    value = row.values.get(column.lower(), "")
    if not value:
        raise _BadRow(f"{column} is empty")
    return value


@dataclass
class _UserRow:
    line: int
    user_id: str
    username: str
    role: str
    given_name: str
    family_name: str
    email: str | None
    grades: tuple[str, ...]
    schools: tuple[str, ...]
    birth_date: date | None = None
    classes: set[str] = field(default_factory=set)


@dataclass
class ImportResult:
    people: dict[str, Person]
    orgs: dict[str, Org]
    classes: dict[str, ClassInfo]
    issues: list[RosterIssue]


class _Importer:
    def __init__(self, directory: Path):
        self.dir = directory
        self.issues: list[RosterIssue] = []
        self.orgs: dict[str, Org] = {}
        self.users: dict[str, _UserRow] = {}
        self.usernames: dict[str, _UserRow] = {}
        # disabled, tobedeleted or already-reported rows: references to them are dropped quietly
        self.gone_users: set[str] = set()
        self.gone_classes: set[str] = set()
        self.class_rows: dict[str, tuple[str, str]] = {}   # id -> (title, school)
        self.teachers: dict[str, set[str]] = {}
        self.students: dict[str, set[str]] = {}

    # -- helpers -------------------------------------------------------------
    def _rows(self, name: str, columns: tuple[str, ...], seen: dict[str, int]):
        """Rows of one file that pass the checks common to every file.

        Yields (row, sourcedId); handles field-count errors, empty or duplicate
        sourcedIds and statuses. `seen` maps sourcedId -> first line.
        """
        path = self.dir / name
        for row in read_rows(path, columns):
            if row.width_error:
                self.issue(name, row.line, row.width_error)
                continue
            sid = row.values.get("sourcedid", "")
            if not sid:
                self.issue(name, row.line, "sourcedId is empty")
                continue
            if sid in seen:
                self.issue(name, row.line, f"duplicate sourcedId {sid!r} (first on line {seen[sid]})")
                continue
            seen[sid] = row.line
            status = row.values.get("status", "").lower()
            if status not in STATUSES:
                self.issue(name, row.line, f"status {row.values['status']!r} is not active or tobedeleted")
                continue
            yield row, sid, status in ("tobedeleted", "inactive")

    def issue(self, name: str, line: int, message: str) -> None:
        self.issues.append(RosterIssue(str(self.dir / name), line, message))

    def _each(self, name: str, columns: tuple[str, ...], parse, failed: set[str] | None = None) -> None:
        seen: dict[str, int] = {}
        for row, sid, gone in self._rows(name, columns, seen):
            try:
                parse(row, sid, gone)
            except _BadRow as exc:
                self.issue(name, row.line, str(exc))
                if failed is not None:
                    # Already reported once: later files' references to it are dropped quietly
                    # instead of repeating the same problem on every enrollment line.
                    failed.add(sid)

    # -- files ---------------------------------------------------------------
    def run(self) -> ImportResult:
        if not self.dir.is_dir():
            raise ConfigError(str(self.dir), None, "roster", "not a directory; expected a OneRoster 1.1 CSV folder")
        for name in REQUIRED_FILES:
            if not (self.dir / name).is_file():
                raise ConfigError(str(self.dir / name), None, "file",
                                  "required OneRoster file is missing from the roster folder")
        self._each("orgs.csv", ORGS_COLUMNS, self._org)
        self._each("users.csv", USERS_COLUMNS, self._user, self.gone_users)
        if (self.dir / "demographics.csv").is_file():
            self._each("demographics.csv", DEMOGRAPHICS_COLUMNS, self._demographic)
        else:
            # Not fatal: every age is then unknown, which the policy treats as under 13.
            self.issue("demographics.csv", 0, "file not found: every age is unknown (treated as under 13)")
        if (self.dir / "classes.csv").is_file():
            self._each("classes.csv", CLASSES_COLUMNS, self._class, self.gone_classes)
        if (self.dir / "enrollments.csv").is_file():
            self._each("enrollments.csv", ENROLLMENTS_COLUMNS, self._enrollment)
        return self._result()

    def _org(self, row: Row, sid: str, gone: bool) -> None:
        if gone:
            return
        name = _required(row, "name")
        otype = _required(row, "type").lower()
        if otype not in ORG_TYPES:
            raise _BadRow(f"type {row.values['type']!r} is not one of {', '.join(sorted(ORG_TYPES))}")
        self.orgs[sid] = Org(sid, name, otype, row.values.get("parentsourcedid") or None)

    def _user(self, row: Row, sid: str, gone: bool) -> None:
        v = row.values
        if gone:
            self.gone_users.add(sid)
            return
        enabled = v.get("enableduser", "").lower()
        if enabled not in ("true", "false"):
            raise _BadRow(f"enabledUser {v.get('enableduser', '')!r} is not true or false")
        if enabled == "false":
            self.gone_users.add(sid)
            return
        role = _required(row, "role").lower()
        if role not in USER_ROLES:
            raise _BadRow(f"role {v['role']!r} is not one of {', '.join(sorted(USER_ROLES))}")
        username = _required(row, "username")
        key = username.lower()
        if key in self.usernames:
            raise _BadRow(f"username {username!r} already used on line {self.usernames[key].line} "
                          "(usernames are the proxy login and must be unique, ignoring case)")
        schools = _list(v.get("orgsourcedids", ""))
        if not schools:
            raise _BadRow("orgSourcedIds is empty")
        unknown = [o for o in schools if o not in self.orgs]
        if unknown:
            raise _BadRow(f"orgSourcedIds {', '.join(unknown)} not in orgs.csv")
        user = _UserRow(row.line, sid, username, role, v.get("givenname", ""), v.get("familyname", ""),
                        v.get("email") or None, _list(v.get("grades", "")), schools)
        self.users[sid] = user
        self.usernames[key] = user

    def _user_ref(self, user_id: str) -> _UserRow | None:
        """The user a later file refers to; None = quietly drop (user is gone)."""
        user = self.users.get(user_id)
        if user is None and user_id not in self.gone_users:
            raise _BadRow(f"user {user_id!r} not in users.csv")
        return user

    def _demographic(self, row: Row, sid: str, gone: bool) -> None:
        if gone:
            return
        user = self._user_ref(sid)
        value = row.values.get("birthdate", "")
        birth = _date(value, "birthDate") if value else None
        if user is not None:
            user.birth_date = birth

    def _class(self, row: Row, sid: str, gone: bool) -> None:
        if gone:
            self.gone_classes.add(sid)
            return
        title = _required(row, "title")
        school = _required(row, "schoolSourcedId")
        if school not in self.orgs:
            raise _BadRow(f"schoolSourcedId {school!r} not in orgs.csv")
        self.class_rows[sid] = (title, school)
        self.teachers[sid] = set()
        self.students[sid] = set()

    def _enrollment(self, row: Row, sid: str, gone: bool) -> None:
        if gone:
            return
        v = row.values
        class_id = _required(row, "classSourcedId")
        user_id = _required(row, "userSourcedId")
        role = _required(row, "role").lower()
        if role not in ENROLLMENT_ROLES:
            raise _BadRow(f"role {v['role']!r} is not one of {', '.join(sorted(ENROLLMENT_ROLES))}")
        for column in ("begindate", "enddate"):
            if v.get(column):
                _date(v[column], "beginDate" if column == "begindate" else "endDate")
        if class_id not in self.class_rows:
            if class_id in self.gone_classes:
                return
            raise _BadRow(f"class {class_id!r} not in classes.csv")
        user = self._user_ref(user_id)
        if user is None:
            return
        # A student enrolled as a teacher could open teacher sessions: refuse the row.
        if (role == "student") != (user.role == "student"):
            raise _BadRow(f"enrollment role {role!r} does not fit user {user_id!r} whose role is {user.role!r}")
        if role == "student":
            self.students[class_id].add(user_id)
        elif role == "teacher":
            self.teachers[class_id].add(user_id)
        user.classes.add(class_id)

    def _result(self) -> ImportResult:
        people = {
            u.user_id: Person(u.user_id, u.username, u.role, u.given_name, u.family_name, u.email,
                              u.birth_date, u.grades, u.schools, frozenset(u.classes))
            for u in self.users.values()
        }
        classes = {
            cid: ClassInfo(cid, title, school, frozenset(self.teachers[cid]), frozenset(self.students[cid]))
            for cid, (title, school) in self.class_rows.items()
        }
        return ImportResult(people, self.orgs, classes, self.issues)


def import_roster(directory: Path) -> ImportResult:
    return _Importer(Path(directory)).run()
