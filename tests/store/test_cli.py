"""`crossingguard session` and `crossingguard incidents list` through agent.cli.main, with the
shipped ENSATSD policy and the synthetic demo roster (tch-2001 teaches cls-main-dmp)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from agent.cli import main
from agent.store import Incident, open_store

AT = "2026-03-02T09:00:00-05:00"


@pytest.fixture
def cg(backend, capsys):
    """Run the CLI in-process against the backend's store (SQLite, PostgreSQL: tests/store/conftest.py);
    returns (exit code, JSON lines on stdout, stderr)."""
    def run(*argv):
        rc = main([*argv, *backend.cli_args])
        out, err = capsys.readouterr()
        return rc, [json.loads(x) for x in out.splitlines()], err
    return run


def test_session_open_list_close(cg, backend):
    rc, [s], err = cg("session", "open", "--teacher", "tch-2001", "--class", "cls-main-dmp",
                      "--platform", "youtube", "--minutes", "45", "--at", AT)
    assert rc == 0
    assert list(s) == ["id", "teacher", "class", "platform", "starts", "ends", "not_applied_to"]
    # stu-1011 has no birth date (treated as under 13): the session does not apply to them
    assert [x["user"] for x in s["not_applied_to"]] == ["stu-1011"] and "stu-1011" in err
    assert (s["teacher"], s["class"], s["platform"]) == ("tch-2001", "cls-main-dmp", "youtube")
    assert s["starts"] == "2026-03-02T14:00:00+00:00" and s["ends"] == "2026-03-02T14:45:00+00:00"

    rc, listed, _ = cg("session", "list", "--at", "2026-03-02T14:30:00Z")
    assert rc == 0 and [x["id"] for x in listed] == [s["id"]] and listed[0]["active"] is True
    rc, listed, _ = cg("session", "list", "--at", "2026-03-02T14:45:00Z")   # expired by itself
    assert rc == 0 and listed == []
    rc, listed, _ = cg("session", "list", "--all", "--at", "2026-03-02T14:45:00Z")
    assert [x["id"] for x in listed] == [s["id"]] and listed[0]["active"] is False

    rc, [closed], _ = cg("session", "close", s["id"], "--at", "2026-03-02T14:10:00Z")
    assert rc == 0 and closed["closed"] == "2026-03-02T14:10:00+00:00"
    rc, listed, _ = cg("session", "list", "--at", "2026-03-02T14:20:00Z")
    assert listed == []

    store = backend.open()
    assert [(e["actor"], e["action"], e["target"]) for e in store.audit_entries()] == [
        ("tch-2001", "session.open", s["id"]), ("cli", "session.close", s["id"])]
    assert store.verify_audit() == []
    store.close()


def test_session_open_by_username_and_administrator(cg):
    rc, [s], _ = cg("session", "open", "--teacher", "dana.whitlock", "--class", "cls-main-dmp",
                    "--platform", "instagram", "--minutes", "10")
    assert rc == 0 and s["teacher"] == "tch-2001"
    rc, [s], _ = cg("session", "open", "--teacher", "adm-3001", "--class", "cls-mid-sci7",
                    "--platform", "youtube", "--minutes", "10")
    assert rc == 0 and s["teacher"] == "adm-3001"


@pytest.mark.parametrize("argv, message", [
    (["--teacher", "nobody", "--class", "cls-main-dmp", "--platform", "youtube", "--minutes", "30"],
     "--teacher 'nobody': no such user"),
    (["--teacher", "tch-2001", "--class", "cls-nope", "--platform", "youtube", "--minutes", "30"],
     "--class 'cls-nope': no such class"),
    (["--teacher", "tch-2003", "--class", "cls-main-dmp", "--platform", "youtube", "--minutes", "30"],
     "does not teach class 'cls-main-dmp'"),
    (["--teacher", "stu-1001", "--class", "cls-mid-sci7", "--platform", "youtube", "--minutes", "30"],
     "(student) does not teach class"),
    (["--teacher", "tch-2001", "--class", "cls-main-dmp", "--platform", "myspace", "--minutes", "30"],
     "--platform 'myspace': not in the platform catalog"),
    (["--teacher", "tch-2001", "--class", "cls-main-dmp", "--platform", "youtube", "--minutes", "0"],
     "--minutes 0: expected 1 to 480"),
    (["--teacher", "tch-2001", "--class", "cls-main-dmp", "--platform", "youtube", "--minutes", "481"],
     "--minutes 481"),
    (["--teacher", "tch-2001", "--class", "cls-main-dmp", "--platform", "youtube", "--minutes", "5",
      "--at", "next tuesday"], "--at 'next tuesday' is not an ISO 8601"),
])
def test_session_open_rejects(cg, backend, argv, message):
    rc, out, err = cg("session", "open", *argv)
    assert rc == 2 and out == []
    assert message in err
    store = backend.open()
    assert store.sessions() == [] and store.audit_entries() == []
    store.close()


def test_session_close_unknown(cg):
    rc, out, err = cg("session", "close", "ses-nope")
    assert rc == 1 and out == [] and "no session 'ses-nope'" in err


def test_common_options_before_the_action(tmp_path, capsys):
    assert main(["session", "--home", str(tmp_path), "open", "--teacher", "tch-2001", "--class",
                 "cls-main-dmp", "--platform", "youtube", "--minutes", "5"]) == 0
    capsys.readouterr()
    assert (tmp_path / "crossingguard.db").exists()


# ---------------------------------------------------------------- incidents list

def add_incidents(backend):
    store = backend.open()
    t0 = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)
    incs = [Incident.new(user=f"stu-100{i}", platform="instagram", kind="comment", text=f"synthetic post {i}",
                         created=t0 + timedelta(hours=i), labels=("bullying",), severity="medium",
                         guidelines=("student.5",), status="open" if i < 2 else "closed")
            for i in range(3)]
    for inc in incs:
        store.add_incident(inc)
    store.close()
    return incs


def test_incidents_list_contract(cg, backend):
    incs = add_incidents(backend)
    rc, out, _ = cg("incidents", "list")
    assert rc == 0
    assert [o["id"] for o in out] == [i.id for i in incs]
    assert list(out[0]) == ["id", "created", "user", "platform", "kind", "labels", "severity", "guidelines",
                            "status"]
    assert out[0]["labels"] == ["bullying"] and out[0]["guidelines"] == ["student.5"]
    store = backend.open()
    assert store.audit_entries() == []        # no text shown: not a view of post text
    store.close()


def test_incidents_list_filters(cg, backend):
    incs = add_incidents(backend)
    rc, out, _ = cg("incidents", "list", "--since", "2026-03-02T10:00:00-05:00")
    assert [o["id"] for o in out] == [i.id for i in incs[1:]]
    rc, out, _ = cg("incidents", "list", "--status", "closed")
    assert [o["id"] for o in out] == [incs[2].id]
    rc, out, err = cg("incidents", "list", "--status", "bogus")
    assert rc == 2 and "--status 'bogus'" in err


def test_incidents_with_text_is_audited(cg, backend):
    incs = add_incidents(backend)
    rc, out, _ = cg("incidents", "list", "--with-text", "--status", "open")
    assert rc == 0 and [o["text"] for o in out] == ["synthetic post 0", "synthetic post 1"]
    store = backend.open()
    [entry] = store.audit_entries()
    assert (entry["actor"], entry["action"]) == ("cli", "incidents.view_text")
    assert entry["detail"]["ids"] == [incs[0].id, incs[1].id] and entry["detail"]["status"] == "open"
    store.close()


def test_incidents_list_as_a_subprocess(backend):
    add_incidents(backend)
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "incidents", "list", *backend.cli_args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3


def test_session_open_names_the_students_under_13_it_does_not_apply_to(cg, tmp_path):
    """cls-mid-media (demo roster) has students 12 and under: a YouTube session cannot let them
    post (COPPA rule first). They are named on stderr and listed in the JSON output."""
    from agent.context import AppContext

    rc, [s], err = cg("session", "open", "--teacher", "tch-2004", "--class", "cls-mid-media",
                      "--platform", "youtube", "--minutes", "30")
    assert rc == 0
    listed = {x["user"]: x for x in s["not_applied_to"]}
    assert "stu-1001" in listed                                  # 11 in the demo roster
    ctx = AppContext(str(tmp_path), None, None, None)
    now = datetime.now(timezone.utc)
    for user in ctx.roster.class_info("cls-mid-media").students:
        age = ctx.engine.subject_for_user(user, now).age
        under13 = age is None or age < 13
        assert (user in listed) == under13, (user, age)
        if under13:
            assert listed[user]["rule"] == "under13-not-kids" and listed[user]["age"] == age
            assert user in err and listed[user]["username"] in err
    assert err.startswith("warning: this session does not let") and "made for kids" in err
    # the session itself is open for the others (read back from the backend's own store)
    rc, listed, _ = cg("session", "list")
    assert rc == 0 and [x["id"] for x in listed] == [s["id"]] and listed[0]["active"] is True


def test_session_open_on_a_kids_platform_leaves_nobody_out(cg):
    rc, [s], err = cg("session", "open", "--teacher", "tch-2004", "--class", "cls-mid-media",
                      "--platform", "youtube_kids", "--minutes", "30")
    assert rc == 0 and "not_applied_to" not in s and err == ""
