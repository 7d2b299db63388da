"""check-config reports every mistake of a file in one run, each as FILE:LINE: KEY: message."""
from __future__ import annotations

import re
import subprocess

import pytest

from agent.config import ListOf, Record, Field, Str, collecting
from agent.errors import ConfigError, ConfigErrors
from agent.policy.loader import load_policy
from tests.support import crossingguard_argv

# Line numbers matter below: keep this text's layout stable.
SEVERAL_MISTAKES = """\
version: 1
district:
  name: Test District
  short_name: TD
  timezone: America/Nowhere
guidelines:
  student.1: Be kind.
  student.2: Stay safe.
cohorts:
  teens:
    roles: [student]
    age_min: 13
  kids:
    roles: [studnet]
    age_max: 12
rules:
  - id: one
    cohorts: teens
    action: blok
    guideline: student.1
    reason: No.
  - id: two
    cohorts: [teenz, kids]
    platforms: instagram
    action: block
    guideline: student.9
    reason: No.
  - id: three
    actoin: allow
    guideline: student.2
    reason: Yes.
  - id: two
    action: allow
    guideline: student.2
    reason: Again.
fail_mode:
  student: maybe
"""

EXPECTED = [   # (line, key, start of the message)
    (5, "district.timezone", "expected an IANA time zone"),
    (14, "cohorts.kids.roles[0]", "expected one of student,"),
    (19, "rules[0].action", "expected one of allow, block"),
    (23, "rules[1].cohorts[0]", "unknown cohort 'teenz'"),
    (26, "rules[1].guideline", "unknown guideline clause 'student.9'"),
    (29, "rules[2].actoin", "unknown key (did you mean 'action'?)"),
    (32, "rules[3].id", "duplicate rule id 'two' (first used on line 22)"),
    (37, "fail_mode.student", "expected one of block, allow; got 'maybe'"),
]
LINE = re.compile(r"crossingguard check-config: (?P<file>[^:]+):(?P<line>\d+): (?P<key>[^:]+): (?P<message>.+)")


def test_check_config_reports_every_mistake_in_one_run(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(SEVERAL_MISTAKES, encoding="utf-8")
    r = subprocess.run(crossingguard_argv("check-config", str(path)), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    found = []
    for line in r.stderr.splitlines():
        m = LINE.fullmatch(line)
        assert m, f"not FILE:LINE: KEY: message: {line!r}"
        assert m["file"] == str(path)
        found.append((int(m["line"]), m["key"], m["message"]))
    assert [(n, k) for n, k, _ in found] == [(n, k) for n, k, _ in EXPECTED], r.stderr
    for (_, _, message), (_, _, start) in zip(found, EXPECTED):
        assert message.startswith(start), message
    # `kids` had a mistake of its own: rules naming it are not reported a second time
    assert "unknown cohort 'kids'" not in r.stderr


def test_load_policy_raises_all_of_them_at_once(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(SEVERAL_MISTAKES, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_policy(path)
    assert [(e.line, e.key) for e in info.value.errors] == [(n, k) for n, k, _ in EXPECTED]
    assert (info.value.line, info.value.key) == (5, "district.timezone")   # the first, as a ConfigError


def test_one_mistake_is_still_a_plain_config_error(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(SEVERAL_MISTAKES.split("fail_mode:")[0].replace("America/Nowhere", "America/New_York")
                    .replace("[studnet]", "[student]").replace("blok", "block").replace("teenz", "teens")
                    .replace("student.9", "student.1").replace("actoin", "action").replace("id: two\n    action",
                                                                                          "id: four\n    action"),
                    encoding="utf-8")
    assert load_policy(path).rules[1].cohorts == ("teens", "kids")
    path.write_text(path.read_text().replace("[student]", "[studnet]", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert type(info.value) is ConfigError and info.value.key == "cohorts.teens.roles[0]"


def test_without_a_collector_the_first_mistake_raises():
    """Other loaders (device registry, catalog) keep first-error behaviour unless they collect."""
    schema = ListOf(Record({"a": Field(Str(pattern="x+"), required=True)}))
    with pytest.raises(ConfigError) as info:
        schema.check([{"a": "y"}, {"a": "z"}], "f.yaml", "items", 1)
    assert info.value.key == "items[0].a"
    with collecting() as errors:
        with pytest.raises(Exception):
            schema.check([{"a": "y"}, {"a": "z"}], "f.yaml", "items", 1)
    assert [e.key for e in errors] == ["items[0].a", "items[1].a"]
