"""Pure functions: which incidents alert, what an alert says, how it is signed, when to retry.

Privacy: an alert carries the incident's id, severity, labels, school, time and a link to the
review app, never the post text or the student's name. Whoever must act signs in to read it
(and that read is audited).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from email.message import EmailMessage

ALERT_SEVERITIES = frozenset({"critical"})
SIGNATURE_HEADER = "X-CrossingGuard-Signature"
PAYLOAD_KEYS = ("incident", "severity", "labels", "school", "created", "url")

# Seconds to wait before attempt n+1 (n = attempts made so far), then the last value: the first
# retries come quickly (a receiver restarting), later ones back off to a few minutes.
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
MAX_ATTEMPTS = 30          # about two hours of trying before a delivery is given up (and counted)


def needs_alert(severity: str) -> bool:
    return severity in ALERT_SEVERITIES


def incident_url(review_url: str, incident_id: str) -> str:
    return f"{review_url.rstrip('/')}/incidents/{incident_id}"


def alert_payload(incident, review_url: str) -> dict:
    """The webhook body (DESIGN.md): exactly these keys, no post text."""
    from agent.store.incident import iso
    return {
        "incident": incident.id,
        "severity": incident.severity,
        "labels": list(incident.labels),
        "school": incident.school,
        "created": iso(incident.created),
        "url": incident_url(review_url, incident.id),
    }


def body_bytes(payload: dict) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON with sorted keys."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(body: bytes, secret: bytes) -> str:
    """X-CrossingGuard-Signature value: sha256=<hex HMAC-SHA256 of the body under the secret>."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: bytes, header: str) -> bool:
    """What a receiver does (documented in docs/alerts.md; used by the tests)."""
    return hmac.compare_digest(sign(body, secret), header or "")


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed attempts."""
    return BACKOFF[min(max(attempts - 1, 0), len(BACKOFF) - 1)]


LABEL_WORDS = {"threat": "a possible threat of violence", "self_harm": "a student who may be at risk of self-harm"}


def email_message(payload: dict, to: tuple[str, ...] | list[str], sender: str, district: str = "") -> EmailMessage:
    """The on-call e-mail: what kind of incident, where, and the link; never the post text."""
    what = " and ".join(LABEL_WORDS.get(label, label.replace("_", " ")) for label in payload["labels"]) \
        or "an incident"
    msg = EmailMessage()
    msg["Subject"] = f"[CrossingGuard] {payload['severity'].upper()} incident needs action now"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["X-CrossingGuard-Incident"] = payload["incident"]
    lines = [
        f"CrossingGuard{' (' + district + ')' if district else ''} flagged {what}.",
        "",
        f"  Incident:  {payload['incident']}",
        f"  Severity:  {payload['severity']}",
        f"  School:    {payload['school'] or 'unknown'}",
        f"  Created:   {payload['created']}",
        "",
        "Open it in the review app (sign in required) and pick it up:",
        f"  {payload['url']}",
        "",
        "All staff are mandated reporters (student guideline 6): follow the district's procedure.",
        "This message deliberately does not contain what the student wrote.",
    ]
    msg.set_content("\n".join(lines))
    return msg
