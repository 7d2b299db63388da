from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.roster import ClassInfo, Roster
from tests.roster.helpers import CLASSES, DEMOGRAPHICS, ENROLLMENTS, ORGS, USERS, write_roster


def test_minimal_roster_loads_everything(tmp_path):
    roster = Roster.load(write_roster(tmp_path))
    assert roster.issues == []
    ann = roster.get("u1")
    assert ann.username == "ann.a" and ann.role == "student"
    assert (ann.given_name, ann.family_name, ann.email) == ("Ann", "Alpha", "ann@x.example")
    assert ann.birth_date == date(2013, 3, 10)
    assert ann.grades == ("07",) and ann.schools == ("s1",) and ann.classes == frozenset({"c1"})
    bob = roster.get("u2")
    assert bob.schools == ("s1", "s2")          # list inside one quoted field
    assert bob.email is None and bob.birth_date is None
    assert roster.get("u3").grades == ("09", "10")
    assert roster.school_name("s2") == "Test School Two"
    assert roster.school_name("nope") is None
    assert roster.class_info("c1") == ClassInfo("c1", "Science", "s1", frozenset({"u2"}), frozenset({"u1"}))
    assert {p.user_id for p in roster.people()} == {"u1", "u2", "u3"}


@pytest.mark.parametrize("ref, expected", [
    ("u1", "u1"),
    ("ann.a", "u1"),
    ("ANN.A", "u1"),
    ("Bob.B", "u2"),
    ("U1", None),          # sourcedIds are exact; only usernames ignore case
    ("nobody", None),
    ("", None),
    (None, None),
])
def test_get_by_sourcedid_or_username(tmp_path, ref, expected):
    roster = Roster.load(write_roster(tmp_path))
    person = roster.get(ref)
    assert (person.user_id if person else None) == expected


def _users_with(row: str) -> str:
    return USERS + row + "\n"


# (file to change, content, expected line, words expected in the message)
BAD_ROWS = [
    ("users", _users_with("u9,active,,true,s1,wizard,w.w,,W,W,,,,,,,,"), 5, "role 'wizard'"),
    ("users", _users_with("u9,active,,true,s1,student,,,W,W,,,,,,,,"), 5, "username is empty"),
    ("users", _users_with(",active,,true,s1,student,w.w,,W,W,,,,,,,,"), 5, "sourcedId is empty"),
    ("users", _users_with("u1,active,,true,s1,student,w.w,,W,W,,,,,,,,"), 5, "duplicate sourcedId 'u1' (first on line 2)"),
    ("users", _users_with("u9,active,,true,s1,student,ANN.A,,W,W,,,,,,,,"), 5, "username 'ANN.A' already used on line 2"),
    ("users", _users_with("u9,active,,true,s7,student,w.w,,W,W,,,,,,,,"), 5, "orgSourcedIds s7 not in orgs.csv"),
    ("users", _users_with("u9,active,,true,,student,w.w,,W,W,,,,,,,,"), 5, "orgSourcedIds is empty"),
    ("users", _users_with("u9,active,,maybe,s1,student,w.w,,W,W,,,,,,,,"), 5, "enabledUser 'maybe'"),
    ("users", _users_with("u9,deleted,,true,s1,student,w.w,,W,W,,,,,,,,"), 5, "status 'deleted'"),
    ("users", _users_with("u9,active,,true,s1,student,w.w,,Smith, Jr,W,,,,,,,,"), 5, "19 fields but the header has 18"),
    ("users", _users_with("u9,active,,true,s1,student,w.w"), 5, "7 fields"),
    ("users", _users_with("u9,active,,true,s1,student,w\x00w,,W,W,,,,,,,,"), 5, "NUL byte"),
    ("users", _users_with('u9,active,,true,s1,student,"w.w,,W,W,,,,,,,,\nu10,active'), 5, "fields but the header"),
    ("orgs", ORGS + "s9,active,,Odd,galaxy,,\n", 5, "type 'galaxy'"),
    ("orgs", ORGS + "s9,active,,,school,,\n", 5, "name is empty"),
    ("demographics", DEMOGRAPHICS + "u2,active,,2013-02-30,\n", 4, "'2013-02-30' is not a real date"),
    ("demographics", DEMOGRAPHICS + "u2,active,,03/10/2013,\n", 4, "expected YYYY-MM-DD"),
    ("demographics", DEMOGRAPHICS + "u8,active,,2013-01-01,\n", 4, "user 'u8' not in users.csv"),
    ("demographics", DEMOGRAPHICS + "u1,active,,2013-01-01,\n", 4, "duplicate sourcedId 'u1'"),
    ("classes", CLASSES + "c9,active,,Shop,,,,scheduled,,s7,,,,\n", 4, "schoolSourcedId 's7' not in orgs.csv"),
    ("classes", CLASSES + "c9,active,,,,,,scheduled,,s1,,,,\n", 4, "title is empty"),
    ("enrollments", ENROLLMENTS + "e9,active,,c1,s1,u8,student,false,,\n", 5, "user 'u8' not in users.csv"),
    ("enrollments", ENROLLMENTS + "e9,active,,c8,s1,u1,student,false,,\n", 5, "class 'c8' not in classes.csv"),
    ("enrollments", ENROLLMENTS + "e9,active,,c2,s2,u1,coach,false,,\n", 5, "role 'coach'"),
    ("enrollments", ENROLLMENTS + "e9,active,,c2,s2,u1,teacher,false,,\n", 5, "does not fit user 'u1' whose role is 'student'"),
    ("enrollments", ENROLLMENTS + "e9,active,,c2,s2,u2,student,false,,\n", 5, "does not fit user 'u2'"),
    ("enrollments", ENROLLMENTS + "e9,active,,c2,s2,u1,student,false,2026-13-01,\n", 5, "beginDate"),
    ("enrollments", ENROLLMENTS + "e1,active,,c2,s2,u1,student,false,,\n", 5, "duplicate sourcedId 'e1'"),
]


@pytest.mark.parametrize("key, content, line, words", BAD_ROWS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_ROWS)])
def test_bad_row_is_reported_with_file_and_line_and_skipped(tmp_path, key, content, line, words):
    roster = Roster.load(write_roster(tmp_path, **{key: content}))
    assert len(roster.issues) == 1, roster.issues
    issue = roster.issues[0]
    assert Path(issue.file) == tmp_path / f"{key}.csv"
    assert issue.line == line
    assert words in issue.message
    assert str(issue).startswith(f"{tmp_path / (key + '.csv')}:{line}: ")
    # the good rows are all still there, with their data
    assert {p.user_id for p in roster.people()} >= {"u1", "u2", "u3"}
    assert roster.get("u1").birth_date == date(2013, 3, 10)
    assert roster.class_info("c1").students == frozenset({"u1"})


def test_line_numbers_count_physical_lines_inside_quoted_fields(tmp_path):
    users = USERS + ('u4,active,,true,s1,student,dee.d,,"Dee\nMarie",Delta,,,,,,,,\n'
                     "u5,active,,true,s1,janitor,eve.e,,Eve,Eps,,,,,,,,\n")
    roster = Roster.load(write_roster(tmp_path, users=users))
    assert [(i.line, "janitor" in i.message) for i in roster.issues] == [(7, True)]
    assert roster.get("dee.d").given_name == "Dee\nMarie"


def test_several_bad_rows_each_reported_in_order(tmp_path):
    users = USERS + ("u4,active,,true,s1,wizard,d.d,,D,D,,,,,,,,\n"
                     "u5,active,,true,s1,student,e.e,,E,E,,,,,,,,\n"
                     "\n"
                     "u6,active,,true,s9,student,f.f,,F,F,,,,,,,,\n")
    roster = Roster.load(write_roster(tmp_path, users=users))
    assert [i.line for i in roster.issues] == [5, 8]
    assert roster.get("e.e") is not None and roster.get("d.d") is None and roster.get("f.f") is None


def test_a_bad_user_is_reported_once_not_again_for_each_reference(tmp_path):
    users = USERS + "u4,active,,true,s1,wizard,d.d,,D,D,,,,,,,,\n"
    demographics = DEMOGRAPHICS + "u4,active,,2012-01-01,\n"
    enrollments = ENROLLMENTS + "e4,active,,c1,s1,u4,student,false,,\n"
    classes = CLASSES + "c9,active,,Shop,,,,scheduled,,s7,,,,\n"
    enrollments += "e5,active,,c9,s1,u1,student,false,,\n"
    roster = Roster.load(write_roster(tmp_path, users=users, demographics=demographics,
                                      enrollments=enrollments, classes=classes))
    assert [(Path(i.file).name, i.line) for i in roster.issues] == [("users.csv", 5), ("classes.csv", 4)]


def test_bom_crlf_column_order_case_and_extra_columns(tmp_path):
    users = ("\ufeffUsername,ROLE,sourcedId,vendorExtra,givenName,familyName,orgSourcedIds,enabledUser,grades\r\n"
             "ann.a,Student,u1,x,Ann,Alpha,s1,TRUE,07\r\n"
             "bob.b,teacher,u2,y,Bob,Beta,\"s1,s2\",true,\r\n")
    demographics = "\ufeffbirthDate,sourcedId\r\n2013-03-10,u1\r\n"
    enrollments = ("userSourcedId,role,classSourcedId,schoolSourcedId,sourcedId,extra\r\n"
                   "u1,student,c1,s1,e1,\r\nu2,teacher,c1,s1,e2,\r\n")
    roster = Roster.load(write_roster(tmp_path, users=users.encode("utf-8"), demographics=demographics.encode(),
                                      enrollments=enrollments, classes=CLASSES.replace("\n", "\r\n")))
    assert roster.issues == []
    ann = roster.get("u1")
    assert ann.role == "student" and ann.username == "ann.a" and ann.grades == ("07",)
    assert ann.birth_date == date(2013, 3, 10)
    assert roster.get("u2").schools == ("s1", "s2")
    assert roster.class_info("c1").teachers == frozenset({"u2"})


def test_disabled_and_tobedeleted_are_skipped_quietly_with_their_references(tmp_path):
    users = USERS + ("u4,active,,false,s1,student,dee.d,,Dee,Delta,,,,,,,,\n"
                     "u5,tobedeleted,,true,s1,student,eve.e,,Eve,Eps,,,,,,,,\n")
    demographics = DEMOGRAPHICS + "u4,active,,2012-01-01,\nu5,active,,2012-01-01,\n"
    classes = CLASSES + "c3,tobedeleted,,Old,,,,scheduled,,s1,,,,\n"
    enrollments = ENROLLMENTS + ("e4,active,,c1,s1,u4,student,false,,\n"
                                 "e5,active,,c1,s1,u5,student,false,,\n"
                                 "e6,active,,c3,s1,u1,student,false,,\n"
                                 "e7,tobedeleted,,c2,s2,u1,student,false,,\n")
    roster = Roster.load(write_roster(tmp_path, users=users, demographics=demographics,
                                      classes=classes, enrollments=enrollments))
    assert roster.issues == []
    assert roster.get("u4") is None and roster.get("dee.d") is None and roster.get("eve.e") is None
    assert roster.class_info("c3") is None
    assert roster.class_info("c1").students == frozenset({"u1"})
    assert roster.get("u1").classes == frozenset({"c1"})


def test_enrollment_roles(tmp_path):
    users = USERS + "u4,active,,true,s2,aide,dee.d,,Dee,Delta,,,,,,,,\n"
    enrollments = ENROLLMENTS + ("e4,active,,c2,s2,u2,teacher,false,,\n"
                                 "e5,active,,c2,s2,u4,aide,false,,\n")
    roster = Roster.load(write_roster(tmp_path, users=users, enrollments=enrollments))
    assert roster.issues == []
    c2 = roster.class_info("c2")
    assert c2.teachers == frozenset({"u2"}) and c2.students == frozenset({"u3"})
    assert roster.get("u2").classes == frozenset({"c1", "c2"})       # teaching counts as a class
    assert roster.get("u4").classes == frozenset({"c2"})             # the aide is in the class
    assert "u4" not in c2.teachers | c2.students


def test_missing_birthdate_means_unknown_age(tmp_path):
    from datetime import datetime, timezone
    demographics = DEMOGRAPHICS + "u2,active,,,\n"
    roster = Roster.load(write_roster(tmp_path, demographics=demographics))
    assert roster.issues == []
    bob = roster.get("u2")
    assert bob.birth_date is None
    assert roster.age_on(bob, datetime(2026, 11, 28, tzinfo=timezone.utc), None) is None


def test_missing_demographics_file_is_an_issue_and_every_age_unknown(tmp_path):
    roster = Roster.load(write_roster(tmp_path, demographics=None))
    assert [(Path(i.file).name, i.line) for i in roster.issues] == [("demographics.csv", 0)]
    assert "under 13" in roster.issues[0].message
    assert all(p.birth_date is None for p in roster.people())


def test_classes_and_enrollments_are_optional(tmp_path):
    roster = Roster.load(write_roster(tmp_path, classes=None, enrollments=None))
    assert roster.issues == []
    assert roster.get("u1").classes == frozenset()


@pytest.mark.parametrize("missing", ["users", "orgs"])
def test_missing_required_file_is_a_config_error_naming_it(tmp_path, missing):
    with pytest.raises(ConfigError) as err:
        Roster.load(write_roster(tmp_path, **{missing: None}))
    assert err.value.file == str(tmp_path / f"{missing}.csv")
    assert "missing" in str(err.value)


@pytest.mark.parametrize("key, content, column", [
    ("users", USERS.replace(",role,", ",rank,", 1), "role"),
    ("users", USERS.replace("username,", "login,", 1), "username"),
    ("orgs", ORGS.replace(",type,", ",kind,", 1), "type"),
    ("demographics", DEMOGRAPHICS.replace("birthDate", "dob", 1), "birthDate"),
    ("classes", CLASSES.replace("schoolSourcedId", "school", 1), "schoolSourcedId"),
    ("enrollments", ENROLLMENTS.replace("userSourcedId", "user", 1), "userSourcedId"),
])
def test_missing_required_column_is_a_config_error(tmp_path, key, content, column):
    with pytest.raises(ConfigError) as err:
        Roster.load(write_roster(tmp_path, **{key: content}))
    assert (err.value.file, err.value.line, err.value.key) == (str(tmp_path / f"{key}.csv"), 1, column)


def test_duplicate_header_column_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        Roster.load(write_roster(tmp_path, orgs="sourcedId,name,type,name\nd1,D,district,E\n"))
    assert err.value.key == "name" and err.value.line == 1


def test_empty_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        Roster.load(write_roster(tmp_path, orgs=""))
    assert err.value.file.endswith("orgs.csv") and err.value.key == "header"


def test_non_utf8_byte_is_a_config_error_at_its_line(tmp_path):
    users = (USERS + "u4,active,,true,s1,student,jose.j,,Jos\xe9,J,,,,,,,,\n").encode("latin-1")
    with pytest.raises(ConfigError) as err:
        Roster.load(write_roster(tmp_path, users=users))
    assert (err.value.line, err.value.key) == (5, "encoding")
    assert "0xe9" in err.value.message


def test_roster_folder_must_exist(tmp_path):
    with pytest.raises(ConfigError) as err:
        Roster.load(tmp_path / "nope")
    assert err.value.file == str(tmp_path / "nope")


def test_empty_roster():
    roster = Roster.empty()
    assert roster.get("anyone") is None and list(roster.people()) == [] and roster.issues == []
    assert roster.class_info("c1") is None and roster.school_name("s1") is None
