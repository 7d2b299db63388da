"""Synthetic OneRoster 1.1 rosters and device registries written by tests (no real people).

Birth dates are computed from `today` so that ages stay what the test says whatever day it runs:
an 11-year-old, a 15-year-old enrolled in a class, and that class's teacher.
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

DISTRICT_TZ = ZoneInfo("America/New_York")

USERS = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
         "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
         "agentSourcedIds", "grades", "password"]
ORGS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
DEMOGRAPHICS = ["sourcedId", "status", "dateLastModified", "birthDate", "sex",
                "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
                "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation",
                "cityOfBirth", "publicSchoolResidenceStatus"]
CLASSES = ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
           "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"]
COURSES = ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
           "grades", "orgSourcedId", "subjects", "subjectCodes"]
SESSIONS = ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
            "parentSourcedId", "schoolYear"]
ENROLLMENTS = ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
               "userSourcedId", "role", "primary", "beginDate", "endDate"]


@dataclass(frozen=True)
class TestRoster:
    directory: Path
    school: str = "sch-test-hs"
    school_name: str = "Test Technical High School"
    young: str = "stu-young"       # 11 years old, no class
    teen: str = "stu-teen"         # 15 years old, in CLASS
    teacher: str = "tch-media"     # teaches CLASS
    class_id: str = "cls-media-101"


def birth_date_for_age(age: int, today: dt.date, days_past_birthday: int = 60) -> dt.date:
    """A birth date making someone `age` on `today`, their birthday `days_past_birthday` ago."""
    anchor = today - dt.timedelta(days=days_past_birthday)
    try:
        return anchor.replace(year=anchor.year - age)
    except ValueError:  # Feb 29
        return anchor.replace(year=anchor.year - age, day=28)


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})


def write_test_roster(directory: Path, today: dt.date | None = None) -> TestRoster:
    """Write users/orgs/demographics/classes/courses/academicSessions/enrollments CSVs."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    today = today or dt.datetime.now(DISTRICT_TZ).date()
    r = TestRoster(directory)
    stamp = "2026-01-01T00:00:00Z"
    base = {"status": "active", "dateLastModified": stamp}
    _write(directory / "orgs.csv", ORGS, [
        {**base, "sourcedId": "org-district", "name": "Test District", "type": "district"},
        {**base, "sourcedId": r.school, "name": r.school_name, "type": "school",
         "parentSourcedId": "org-district"},
    ])
    _write(directory / "users.csv", USERS, [
        {**base, "sourcedId": r.young, "enabledUser": "true", "orgSourcedIds": r.school, "role": "student",
         "username": "young.student", "givenName": "Ada", "familyName": "Example", "grades": "06",
         "email": "young.student@students.example.org"},
        {**base, "sourcedId": r.teen, "enabledUser": "true", "orgSourcedIds": r.school, "role": "student",
         "username": "teen.student", "givenName": "Bo", "familyName": "Sample", "grades": "10",
         "email": "teen.student@students.example.org"},
        {**base, "sourcedId": r.teacher, "enabledUser": "true", "orgSourcedIds": r.school, "role": "teacher",
         "username": "media.teacher", "givenName": "Cy", "familyName": "Placeholder",
         "email": "media.teacher@example.org"},
    ])
    _write(directory / "demographics.csv", DEMOGRAPHICS, [
        {**base, "sourcedId": r.young, "birthDate": birth_date_for_age(11, today).isoformat()},
        {**base, "sourcedId": r.teen, "birthDate": birth_date_for_age(15, today).isoformat()},
        {**base, "sourcedId": r.teacher, "birthDate": birth_date_for_age(40, today).isoformat()},
    ])
    _write(directory / "academicSessions.csv", SESSIONS, [
        {**base, "sourcedId": "term-1", "title": "School year", "type": "schoolYear",
         "startDate": f"{today.year - 1}-08-01", "endDate": f"{today.year + 1}-07-31",
         "schoolYear": str(today.year)},
    ])
    _write(directory / "courses.csv", COURSES, [
        {**base, "sourcedId": "crs-media", "schoolYearSourcedId": "term-1", "title": "Digital Media",
         "courseCode": "MEDIA", "grades": "10", "orgSourcedId": r.school},
    ])
    _write(directory / "classes.csv", CLASSES, [
        {**base, "sourcedId": r.class_id, "title": "Digital Media 101", "grades": "10",
         "courseSourcedId": "crs-media", "classCode": "MEDIA-101", "classType": "scheduled",
         "schoolSourcedId": r.school, "termSourcedIds": "term-1"},
    ])
    _write(directory / "enrollments.csv", ENROLLMENTS, [
        {**base, "sourcedId": "enr-1", "classSourcedId": r.class_id, "schoolSourcedId": r.school,
         "userSourcedId": r.teen, "role": "student", "primary": "false"},
        {**base, "sourcedId": "enr-2", "classSourcedId": r.class_id, "schoolSourcedId": r.school,
         "userSourcedId": r.teacher, "role": "teacher", "primary": "true"},
    ])
    return r


def write_devices(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """Device registry CSV: rows of (device_id, user_id, ip, mac)."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["device_id", "user_id", "ip", "mac"])
        w.writerows(rows)
    return path
