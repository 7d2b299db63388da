"""The incident judgement (agent/incidents.py, pure) and the policy's `incidents:` section.

Clauses per category, evidence clauses and help_seeking come from the policy file; judge() turns a
classification into the incident to write and whether the post is held."""
from __future__ import annotations

import pytest

from agent.errors import ConfigError
from agent.incidents import Outcome, hold_decision, judge, severity_of
from agent.policy import Decision, Subject
from agent.policy.loader import load_policy
from agent.policy.model import ROLES, STAFF_ROLES, default_fail_mode
from classifiers.types import Classification, Evidence, Post
from tests.config.test_policy_errors import BASE

GUIDELINES = """\
  student.4: Personal details.
  student.6: Mandated reporters.
  student.8: Lawful.
  student.9: Bullying.
  student.11: District accounts.
"""

ALLOWED = Decision(verdict="allow", action="allow", platform="youtube", category="video", rule="r-allow",
                   guideline="student.preamble", reason="ok", cohort="teens")
TEEN = Subject(user_id="stu-1", role="student", age=15, schools=("sch-1",))


def policy_with(tmp_path, incidents: str):
    text = BASE.replace("  student.10: No piracy.\n", "  student.10: No piracy.\n" + GUIDELINES) + incidents
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


FULL = """\
incidents:
  bullying:
    action: flag
    guidelines: [student.9]
  threat:
    action: hold
    guidelines: [student.6, student.8]
  pii: hold
  evidence:
    district: [student.11]
  help_seeking: ignore
"""


def classification(*labels, help_seeking=False, evidence=()):
    scores = {c: (0.9 if c in labels else 0.01) for c in ("bullying", "threat", "self_harm", "pii", "impersonation")}
    return Classification(scores=scores, labels=list(labels), evidence=list(evidence), help_seeking=help_seeking)


def test_the_policy_holds_the_clauses_and_help_seeking(tmp_path):
    policy = policy_with(tmp_path, FULL)
    assert policy.incidents == {"bullying": "flag", "threat": "hold", "self_harm": "flag", "pii": "hold",
                                "impersonation": "flag"}
    assert policy.incident_guidelines["threat"] == ("student.6", "student.8")
    assert policy.incident_guidelines["pii"] == ()          # short form: no clauses
    assert policy.evidence_guidelines == {"district": ("student.11",)}
    assert policy.help_seeking == "ignore"


def test_without_an_incidents_section_everything_is_flagged_without_clauses(tmp_path):
    policy = policy_with(tmp_path, "")
    assert set(policy.incidents.values()) == {"flag"}
    assert set(policy.incident_guidelines.values()) == {()}
    assert policy.help_seeking == "checkin"


@pytest.mark.parametrize("incidents, where", [
    ("incidents:\n  threat:\n    action: hold\n    guidelines: [student.99]\n",
     "incidents.threat.guidelines[0]: unknown guideline clause 'student.99'"),
    ("incidents:\n  help_seeking: maybe\n", "incidents.help_seeking: expected one of checkin, ignore; got 'maybe'"),
    ("incidents:\n  threat:\n    action: delete\n", "incidents.threat.action: expected one of flag, hold; got 'delete'"),
    ("incidents:\n  threat:\n    guidelines: [student.6]\n", "incidents.threat.action: required key is missing"),
    ("incidents:\n  evidence:\n    logo: [student.77]\n", "incidents.evidence.logo[0]: unknown guideline clause"),
    ("incidents:\n  threats: hold\n", "incidents.threats: unknown key (did you mean 'threat'?)"),
])
def test_mistakes_in_the_incidents_section_are_located(tmp_path, incidents, where):
    with pytest.raises(ConfigError) as info:
        policy_with(tmp_path, incidents)
    err = info.value
    assert err.line is not None and err.line > 30            # after BASE, on the offending line
    assert f"{err.key}: {err.message}".startswith(where), str(err)


def test_the_shipped_policy_cites_the_clauses_it_used_to_hard_code():
    from agent.context import AppContext
    policy = AppContext().policy
    assert policy.incident_guidelines == {"bullying": ("student.9",), "threat": ("student.6", "student.8"),
                                          "self_harm": ("student.6",), "pii": ("student.4",),
                                          "impersonation": ("student.5",)}
    assert policy.evidence_guidelines == {"district": ("student.11", "student.13"), "logo": ("student.12",)}
    assert policy.help_seeking == "checkin"


@pytest.mark.parametrize("labels, severity", [
    ((), "low"), (("pii",), "medium"), (("bullying", "pii"), "high"), (("impersonation", "threat"), "critical"),
])
def test_severity(labels, severity):
    assert severity_of(labels) == severity


def test_a_post_without_labels_comes_to_nothing(tmp_path):
    assert judge(classification(), Post("comment", "hello"), TEEN, ALLOWED, policy_with(tmp_path, FULL)) == Outcome()


def test_a_flagged_post_becomes_an_incident_and_is_not_held(tmp_path):
    c = classification("bullying", "impersonation",
                       evidence=[Evidence("impersonation", "district", "Essex Tech Hawks"),
                                 Evidence("pii", "district", "not this category")])
    out = judge(c, Post("profile", "official", account="Essex Tech Hawks"), TEEN, ALLOWED,
                policy_with(tmp_path, FULL), request_id="r-1")
    assert (out.labels, out.severity, out.held) == (("bullying", "impersonation"), "high", ())
    # category clauses first, then the clauses the evidence kinds add (only for labelled categories)
    assert out.guidelines == ("student.9", "student.11")
    inc = out.incident
    assert (inc.user, inc.platform, inc.kind, inc.school, inc.request_id) == ("stu-1", "youtube", "profile", "sch-1", "r-1")
    assert inc.text == "[Essex Tech Hawks] official" and inc.guidelines == out.guidelines
    assert hold_decision(ALLOWED, [out]) is None


def test_a_held_threat_cites_the_mandated_reporter_clause(tmp_path):
    policy = policy_with(tmp_path, FULL)
    outs = [judge(classification("bullying", "threat"), Post("comment", "x"), TEEN, ALLOWED, policy)]
    assert outs[0].held == ("threat",) and outs[0].held_guidelines == ("student.6", "student.8")
    held = hold_decision(ALLOWED, outs)
    assert (held.verdict, held.action, held.rule, held.guideline) == ("block", "hold", "incident-hold:threat",
                                                                      "student.6")
    assert "threat of violence" in held.reason and held.platform == "youtube"


@pytest.mark.parametrize("help_seeking, labels, expected", [
    ("ignore", ("self_harm",), ()),                       # no incident for a student asking for help
    ("ignore", ("self_harm", "pii"), ("pii",)),           # personal information still counts
    ("checkin", ("self_harm",), ("self_harm",)),          # a supportive check-in incident
])
def test_help_seeking_follows_the_policy(tmp_path, help_seeking, labels, expected):
    policy = policy_with(tmp_path, FULL.replace("help_seeking: ignore", f"help_seeking: {help_seeking}"))
    out = judge(classification(*labels, help_seeking=True), Post("post", "please help"), TEEN, ALLOWED, policy)
    assert out.labels == expected
    assert (out.incident is None) == (not expected)


def test_an_unknown_subject_is_written_as_unknown(tmp_path):
    out = judge(classification("pii"), Post("post", "x"), None, ALLOWED, policy_with(tmp_path, FULL))
    assert (out.incident.user, out.incident.school, out.held) == ("unknown", None, ("pii",))


@pytest.mark.parametrize("role", ROLES)
def test_fail_mode_default_blocks_everyone_not_proven_staff(tmp_path, role):
    expected = "allow" if role in STAFF_ROLES else "block"
    assert default_fail_mode(role) == expected
    assert policy_with(tmp_path, "").fail_mode_for(role) == expected
    from proxy_addons.failmode import fail_mode_for
    assert fail_mode_for(None, role) == "block"               # nothing loaded: nobody is proven staff
    assert fail_mode_for(policy_with(tmp_path, ""), role) == expected


def test_check_config_reports_an_unknown_incident_clause(tmp_path, capsys):
    from agent.cli import main
    text = BASE + "incidents:\n  threat:\n    action: hold\n    guidelines: [student.99]\n"
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    rc = main(["check-config", str(path)])
    err = capsys.readouterr().err
    assert rc == 2
    line = text.splitlines().index("    guidelines: [student.99]") + 1
    assert f"{path}:{line}: incidents.threat.guidelines[0]: unknown guideline clause 'student.99'" in err
