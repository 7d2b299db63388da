"""`crossingguard users`: listing and --check."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import common_parser
from agent.commands import users
from agent.context import DEFAULT_ROSTER
from agent.errors import CrossingGuardError
from tests.roster.helpers import USERS, write_roster

DEMO_DEVICES = DEFAULT_ROSTER / "devices.csv"


def run_users(argv, tmp_path):
    """Parse and run `users` alone (other commands' modules are not imported here).

    --policy points at a missing file so that ages use the documented fallback zone
    (America/New_York) whatever state the shipped policy is in.
    """
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    users.register(sub, common_parser())
    args = parser.parse_args(["users", "--home", str(tmp_path / "home"),
                              "--policy", str(tmp_path / "no-policy.yaml"), *argv])
    try:
        return args.func(args)
    except CrossingGuardError as exc:
        print(f"crossingguard users: {exc}", file=sys.stderr)
        return exc.exit_code


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_lists_people_with_age_on_the_date(tmp_path, capsys):
    assert run_users(["--at", "2026-11-28"], tmp_path) == 0
    rows = {r["id"]: r for r in _lines(capsys.readouterr().out)}
    mila = rows["stu-1001"]
    assert mila == {"id": "stu-1001", "username": "mila.harrow", "role": "student", "name": "Mila Harrow",
                    "age": 11, "schools": ["org-mid"], "grades": ["06"], "classes": ["cls-mid-media"]}
    assert rows["stu-1011"]["age"] is None
    assert rows["tch-2001"]["classes"] == ["cls-main-dmp", "cls-main-eng10"]
    assert {r["role"] for r in rows.values()} >= {"student", "teacher", "administrator"}


def test_role_filter(tmp_path, capsys):
    assert run_users(["--role", "Teacher", "--at", "2026-11-28"], tmp_path) == 0
    rows = _lines(capsys.readouterr().out)
    assert rows and {r["role"] for r in rows} == {"teacher"}


@pytest.mark.parametrize("at, age", [
    ("2026-03-10T03:59:59Z", 12),          # 23:59:59 on the 9th in New York (EDT)
    ("2026-03-10T04:00:00Z", 13),
    ("2026-03-10T12:59:59+09:00", 12),
    ("2026-03-10T13:00:00+09:00", 13),
    ("2026-03-10T03:59:59", 12),           # naive = UTC
    ("2026-03-09", 12),                    # a bare date is that local day
    ("2026-03-10", 13),
    ("20260310", 13),                      # basic ISO 8601 date
])
def test_age_uses_the_district_zone_whatever_the_offset(tmp_path, capsys, at, age):
    assert run_users(["--role", "student", "--at", at], tmp_path) == 0
    rows = {r["id"]: r for r in _lines(capsys.readouterr().out)}
    assert rows["stu-1004"]["age"] == age          # owen.pike, born 2013-03-10


def test_check_demo_roster_and_devices_is_clean(tmp_path, capsys):
    assert run_users(["--check", "--devices", str(DEMO_DEVICES)], tmp_path) == 0
    assert capsys.readouterr().out == ""


def test_check_reports_each_issue_with_file_and_line(tmp_path, capsys):
    roster = write_roster(tmp_path / "r", users=USERS + "u9,active,,true,s1,wizard,w.w,,W,W,,,,,,,,\n"
                                                   + "u10,active,,true,s8,student,x.x,,X,X,,,,,,,,\n")
    assert run_users(["--check", "--roster", str(roster)], tmp_path) == 1
    issues = _lines(capsys.readouterr().out)
    assert [(Path(i["file"]).name, i["line"]) for i in issues] == [("users.csv", 5), ("users.csv", 6)]
    assert "wizard" in issues[0]["message"]


def test_check_reports_device_errors_and_unknown_device_users(tmp_path, capsys):
    devices = tmp_path / "devices.csv"
    devices.write_text("device_id,user_id,ip,mac\nd1,stu-1001,127.0.0.50,\nd2,stu-9999,127.0.0.51,\n"
                       "d3,stu-1002,nope,\n")
    assert run_users(["--check", "--devices", str(devices)], tmp_path) == 1
    issues = _lines(capsys.readouterr().out)
    assert {(i["line"], i["key"]) for i in issues} == {(4, "ip"), (None, "user_id")}
    assert any("stu-9999" in i["message"] for i in issues)
    assert all(i["file"] == str(devices) for i in issues)


def test_check_missing_required_file_is_reported(tmp_path, capsys):
    roster = write_roster(tmp_path / "r", users=None)
    assert run_users(["--check", "--roster", str(roster)], tmp_path) == 1
    (issue,) = _lines(capsys.readouterr().out)
    assert issue["file"] == str(roster / "users.csv")


def test_listing_a_missing_roster_is_a_clear_error(tmp_path, capsys):
    assert run_users(["--roster", str(tmp_path / "nope")], tmp_path) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nope") in err and "not a directory" in err


@pytest.mark.parametrize("argv", [["--at", "yesterday"], ["--role", "wizard"]])
def test_bad_options_are_usage_errors(tmp_path, capsys, argv):
    assert run_users(argv, tmp_path) == 2
    assert argv[1] in capsys.readouterr().err


def test_console_script_end_to_end(tmp_path):
    """The installed `crossingguard` entry point wires `users` in."""
    env = {**os.environ, "CROSSINGGUARD_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "users", "--role", "student", "--at", "2026-11-28",
                           "--devices", str(DEMO_DEVICES)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    ages = sorted((r["age"] for r in _lines(proc.stdout) if r["age"] is not None))
    assert ages[0] == 11 and ages[-1] == 18
