"""The policy file's `alerts:` section: parsed into AlertSettings, mistakes located (check-config)."""
from __future__ import annotations

import pytest

from agent.context import DEFAULT_POLICY
from agent.errors import ConfigError
from agent.policy.loader import load_policy
from tests.config.test_policy_errors import BASE

BASE_LINES = BASE.count("\n")   # the alerts section starts on the next line

GOOD = """\
alerts:
  review_url: https://review.example.org
  email:
    smtp_host: mail.example.org
    smtp_port: 587
    sender: cg@example.org
    starttls: required
  oncall:
    org-main: [a@example.org, b@example.org]
    default: c@example.org
"""


def load(tmp_path, text):
    path = tmp_path / "policy.yaml"
    path.write_text(BASE + text)
    return load_policy(path), path


def test_alerts_section_parsed(tmp_path):
    policy, _ = load(tmp_path, GOOD)
    a = policy.alerts
    assert a.review_url == "https://review.example.org"
    assert (a.email.smtp_host, a.email.smtp_port, a.email.sender, a.email.starttls) == \
        ("mail.example.org", 587, "cg@example.org", "required")
    assert a.recipients("org-main") == ("a@example.org", "b@example.org")
    assert a.recipients("org-other") == ("c@example.org",) == a.recipients(None)
    assert a.enabled


def test_no_alerts_section_means_defaults(tmp_path):
    policy, _ = load(tmp_path, "")
    assert policy.alerts.review_url == "http://127.0.0.1:8181"
    assert policy.alerts.email is None and not policy.alerts.enabled


def test_shipped_policy_has_example_oncall_addresses():
    a = load_policy(DEFAULT_POLICY).alerts
    assert a.email is not None
    for school in ("org-main", "org-mid", "default"):
        assert a.recipients(school) and all(x.endswith("@example.org") for x in a.recipients(school))


@pytest.mark.parametrize("text, line, key, words", [
    ("alerts:\n  oncall:\n    org-main: [not-an-address]\n", 3, "alerts.oncall.org-main[0]", "e-mail address"),
    ("alerts:\n  email:\n    smtp_host: m\n    sender: x@example.org\n    starttls: maybe\n", 5,
     "alerts.email.starttls", "auto, required, off"),
    ("alerts:\n  email:\n    sender: x@example.org\n", 3, "alerts.email.smtp_host", "required"),
    ("alerts:\n  review_url: ftp://x\n", 2, "alerts.review_url", "http"),
    ("alerts:\n  oncall:\n    org-main: a@example.org\n", 2, "alerts.oncall", "alerts.email"),
    ("alerts:\n  emial: {}\n", 2, "alerts.emial", "did you mean 'email'"),
    ("alerts:\n  email:\n    smtp_host: m\n    sender: x@example.org\n    smtp_port: 70000\n", 5,
     "alerts.email.smtp_port", ""),
    ("alerts:\n  email:\n    smtp_host: m\n    sender: x@example.org\n    username: u\n", 5, "alerts.email",
     "together"),
])
def test_alert_mistakes_are_located(tmp_path, text, line, key, words):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    err = info.value
    assert (err.line, err.key) == (BASE_LINES + line, key), str(err)
    assert words in err.message


def test_schools_without_oncall(tmp_path):
    policy, _ = load(tmp_path, GOOD.replace("    default: c@example.org\n", ""))
    assert policy.alerts.schools_without_oncall(["org-main", "org-mid", "org-x"]) == ["org-mid", "org-x"]
    policy, _ = load(tmp_path, GOOD)
    assert policy.alerts.schools_without_oncall(["org-main", "org-mid"]) == []     # `default` covers them
