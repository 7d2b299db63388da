"""`crossingguard decide` and `crossingguard check-config` as IT uses them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from agent.context import DEFAULT_POLICY

KEYS = ["verdict", "action", "platform", "category", "rule", "guideline", "reason"]


def run_cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def decide(capsys, home, *argv):
    rc, out, err = run_cli(capsys, "decide", "--home", str(home), *argv)
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert list(obj) == KEYS
    return obj


def test_decide_unknown_user_instagram(capsys, tmp_path):
    obj = decide(capsys, tmp_path, "--user", "unknown", "--url", "https://www.instagram.com/p/abc?x=1")
    assert obj["verdict"] == "block" and obj["platform"] == "instagram" and obj["category"] == "social"
    assert obj["rule"] == "under13-not-kids" and obj["guideline"] == "student.preamble"
    assert not (tmp_path / "crossingguard.db").exists()      # a simulation leaves no state behind


def test_decide_outside_catalog(capsys, tmp_path):
    obj = decide(capsys, tmp_path, "--user", "unknown", "--url", "https://en.wikipedia.org/wiki/Owl")
    assert obj == {"verdict": "allow", "action": "allow", "platform": None, "category": None, "rule": "default",
                   "guideline": "", "reason": obj["reason"]}


def _demo_people():
    from agent.context import DEFAULT_ROSTER
    from agent.roster import Roster
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    roster = Roster.load(DEFAULT_ROSTER)
    at = datetime(2026, 10, 6, 14, 0, tzinfo=timezone.utc)
    tz = ZoneInfo("America/New_York")
    teen = next(p for p in roster.people() if p.role == "student" and (roster.age_on(p, at, tz) or 0) >= 14
                and p.classes)
    young = next(p for p in roster.people() if p.role == "student" and roster.age_on(p, at, tz) is not None
                 and roster.age_on(p, at, tz) <= 11)
    cls = sorted(teen.classes)[0]
    info = roster.class_info(cls)
    teacher = sorted(info.teachers)[0]
    return at, teen, young, cls, teacher


def test_decide_with_demo_roster_and_teacher_session(capsys, tmp_path):
    pytest.importorskip("agent.roster")
    at, teen, young, cls, teacher = _demo_people()
    at_s = at.isoformat()
    base = ["--user", teen.user_id, "--url", "https://www.youtube.com/youtubei/v1/comment/create_comment",
            "--at", at_s]
    assert decide(capsys, tmp_path, *base)["verdict"] == "allow"                       # GET: read-only passes
    post = decide(capsys, tmp_path, *base, "--method", "POST")
    assert (post["verdict"], post["action"], post["rule"]) == ("block", "read_only", "approved-read-only")
    by_name = decide(capsys, tmp_path, "--user", teen.username, "--url", "www.youtube.com", "--method", "post",
                     "--at", at_s)
    assert by_name["verdict"] == "block"

    young_obj = decide(capsys, tmp_path, "--user", young.user_id, "--url", "https://www.youtubekids.com/",
                       "--at", at_s)
    assert young_obj["verdict"] == "allow" and young_obj["category"] == "kids"

    pytest.importorskip("agent.store")
    rc, out, err = run_cli(capsys, "session", "--home", str(tmp_path), "open", "--teacher", teacher, "--class", cls,
                           "--platform", "youtube", "--minutes", "30", "--at", at_s)
    assert rc == 0, err
    inside = decide(capsys, tmp_path, *base, "--method", "POST")
    assert (inside["verdict"], inside["rule"]) == ("allow", "teacher-session")
    later = (at.replace(minute=31)).isoformat()
    expired = decide(capsys, tmp_path, "--user", teen.user_id, "--url", "https://www.youtube.com/x",
                     "--method", "POST", "--at", later)
    assert expired["verdict"] == "block"


@pytest.mark.parametrize("argv,message", [
    (["--user", "nobody-here", "--url", "https://x.com/"], "no user 'nobody-here' in the roster"),
    (["--user", "unknown", "--url", "https:///nohost"], "--url: expected a URL with a host"),
    (["--user", "unknown", "--url", "https://x.com/", "--at", "yesterday"], "--at: expected an ISO 8601 date-time"),
    (["--user", "unknown", "--url", "https://x.com/", "--method", "G E T"], "--method: expected an HTTP method"),
])
def test_decide_usage_errors(capsys, tmp_path, argv, message):
    rc, out, err = run_cli(capsys, "decide", "--home", str(tmp_path), *argv)
    assert rc == 2 and out == ""
    assert err.startswith("crossingguard decide: ") and message in err


def test_check_config_ok(capsys):
    rc, out, err = run_cli(capsys, "check-config", str(DEFAULT_POLICY))
    assert rc == 0 and err == ""
    summary = json.loads(out)
    assert summary["ok"] is True and summary["district"] == "ENSATSD" and summary["platforms"] >= 25
    assert len(out.splitlines()) == 1


def test_check_config_error_is_located(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8").replace("action: read_only", "action: readonly", 1)
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    action: readonly") + 1
    rc, out, err = run_cli(capsys, "check-config", str(bad))
    assert rc == 2 and out == ""
    idx = next(i for i, r in enumerate(_rule_lines(text)) if "readonly" in r)
    assert err.strip() == (f"crossingguard check-config: {bad}:{line}: rules[{idx}].action: expected one of allow, "
                           f"block, read_only, monitor; got 'readonly' (did you mean 'read_only'?)")


def _rule_lines(text: str) -> list[str]:
    """The rules section split per rule (to find the index of the mutated one)."""
    body = text.split("\nrules:\n", 1)[1].split("\nsafesearch:", 1)[0]
    return body.split("\n  - id:")[1:]


@pytest.mark.e2e
def test_cli_subprocess_exit_codes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("district:\n  name: X\n  short_name: X\n  timezone: Mars/Olympus\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "check-config", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{bad}:4: district.timezone: expected an IANA time zone" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "decide", "--home", str(tmp_path), "--user", "unknown",
                           "--url", "https://dns.google/dns-query", "--method", "POST"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert (obj["verdict"], obj["category"], obj["rule"]) == ("block", "doh", "doh-students")


def test_check_config_on_the_shipped_catalog(capsys):
    from agent.policy.catalog import CATALOG_PATH
    rc, out, err = run_cli(capsys, "check-config", str(CATALOG_PATH))
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["kind"] == "catalog" and summary["platforms"] >= 25 and "doh" in summary["categories"]
