"""agent.alerts.message: what an alert says (never the post text), its signature, the backoff."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest

from agent.alerts.message import (BACKOFF, PAYLOAD_KEYS, alert_payload, backoff, body_bytes, email_message,
                                  incident_url, needs_alert, sign, verify)
from agent.store import Incident

SECRET_TEXT = "the student wrote something only counselors may read"


def incident(**kw) -> Incident:
    base = dict(user="stu-1006", platform="instagram", kind="comment", text=SECRET_TEXT,
                created=datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc), labels=("threat",),
                severity="critical", guidelines=("student.6",), school="org-main")
    base.update(kw)
    return Incident.new(**base)


@pytest.mark.parametrize("severity, alerts", [
    ("critical", True), ("high", False), ("medium", False), ("low", False), ("", False)])
def test_only_critical_incidents_alert(severity, alerts):
    assert needs_alert(severity) is alerts


def test_payload_has_exactly_the_contract_keys_and_no_text():
    inc = incident()
    p = alert_payload(inc, "http://127.0.0.1:8181")
    assert tuple(p) == PAYLOAD_KEYS == ("incident", "severity", "labels", "school", "created", "url")
    assert p == {"incident": inc.id, "severity": "critical", "labels": ["threat"], "school": "org-main",
                 "created": "2026-03-02T14:00:00.000000+00:00",
                 "url": f"http://127.0.0.1:8181/incidents/{inc.id}"}
    body = body_bytes(p)
    assert SECRET_TEXT.encode() not in body and b"stu-1006" not in body
    assert json.loads(body) == p


@pytest.mark.parametrize("base, expect", [
    ("http://127.0.0.1:8181", "http://127.0.0.1:8181/incidents/inc-1"),
    ("http://127.0.0.1:8181/", "http://127.0.0.1:8181/incidents/inc-1"),
    ("https://review.example.org/cg", "https://review.example.org/cg/incidents/inc-1"),
])
def test_incident_url(base, expect):
    assert incident_url(base, "inc-1") == expect


def test_signature_is_hmac_sha256_of_the_exact_body():
    body = body_bytes(alert_payload(incident(), "http://x"))
    secret = b"s3cret"
    expect = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert sign(body, secret) == expect
    assert verify(body, secret, expect)
    assert not verify(body + b" ", secret, expect)          # any change to the body
    assert not verify(body, b"other", expect)               # another secret
    assert not verify(body, secret, "")


@pytest.mark.parametrize("attempts, seconds", [
    (0, 1.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 300.0), (50, 300.0)])
def test_backoff_grows_then_caps(attempts, seconds):
    assert backoff(attempts) == seconds
    assert list(BACKOFF) == sorted(BACKOFF)


def test_email_has_the_link_and_never_the_text():
    inc = incident(labels=("self_harm",))
    p = alert_payload(inc, "http://127.0.0.1:8181")
    msg = email_message(p, ["a@example.org", "b@example.org"], "cg@example.org", "ENSATSD")
    text = msg.get_content()
    assert p["url"] in text and inc.id in text and "self-harm" in text
    assert SECRET_TEXT not in msg.as_string() and "stu-1006" not in msg.as_string()
    assert msg["To"] == "a@example.org, b@example.org" and msg["From"] == "cg@example.org"
    assert "CRITICAL" in msg["Subject"]
