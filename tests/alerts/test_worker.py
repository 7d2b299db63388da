"""The delivery worker against a real local webhook receiver and a real SMTP server (aiosmtpd):
delivered within seconds, signed, retried with backoff, counted, and still pending after a restart."""
from __future__ import annotations

import json
import stat
import time
from datetime import datetime, timezone

import pytest

from agent.alerts.message import SIGNATURE_HEADER, verify
from agent.alerts.outbox import Outbox
from agent.alerts.settings import AlertSettings, EmailSettings
from agent.alerts.worker import AlertWorker
from agent.metrics import ALERT_FAILURES, ALERTS_DELIVERED, ALERTS_PENDING, COUNTERS, STATE
from agent.store import Incident
from tests.support import make_pki
from tests.support.receivers import SmtpReceiver, WebhookReceiver

SECRET = b"test-secret"
TEXT = "words only a counselor may read"


def critical(school="org-main", **kw) -> Incident:
    return Incident.new(user="stu-1", platform="instagram", kind="comment", text=TEXT,
                        labels=("threat",), severity=kw.pop("severity", "critical"), school=school, **kw)


def counted(name, channel) -> float:
    return COUNTERS.values.get((name, (channel,)), 0.0)


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "alerts.db")
    yield box
    box.close()


def run_worker(outbox, **settings) -> AlertWorker:
    return AlertWorker(outbox, AlertSettings(secret=SECRET, **settings), poll=0.2).start()


def test_webhook_delivered_signed_without_text(outbox, tmp_path):
    before = counted(ALERTS_DELIVERED, "webhook")
    with WebhookReceiver() as hook:
        worker = run_worker(outbox, webhooks=(hook.url,))
        try:
            inc = critical()
            t0 = time.time()
            assert worker.enqueue_incident(inc) == 1
            [got] = hook.wait_for(1, timeout=10)
        finally:
            worker.stop()
    assert got.at - t0 < 10
    assert verify(got.body, SECRET, got.headers[SIGNATURE_HEADER.lower()])
    body = json.loads(got.body)
    assert body["incident"] == inc.id and body["url"].endswith(f"/incidents/{inc.id}")
    assert TEXT.encode() not in got.body
    assert got.headers["content-type"] == "application/json"
    assert counted(ALERTS_DELIVERED, "webhook") == before + 1
    assert outbox.rows()[0]["state"] == "delivered"
    assert stat.S_IMODE((tmp_path / "alerts.db").stat().st_mode) == 0o600


def test_non_critical_and_repeated_incidents_are_not_alerted_twice(outbox):
    worker = AlertWorker(outbox, AlertSettings(secret=SECRET, webhooks=("http://127.0.0.1:9/x",)))
    assert worker.enqueue_incident(critical(severity="high")) == 0
    inc = critical()
    assert worker.enqueue_incident(inc) == 1
    assert worker.enqueue_incident(inc) == 0          # same incident again (a replay): no new delivery
    assert len(outbox.rows()) == 1


def test_receiver_failing_three_times_gets_it_on_the_fourth(outbox):
    failures = counted(ALERT_FAILURES, "webhook")
    with WebhookReceiver(fail_first=3) as hook:
        worker = run_worker(outbox, webhooks=(hook.url,))
        try:
            inc = critical()
            worker.enqueue_incident(inc)
            [got] = hook.wait_for(1, timeout=30)       # backoff 1 s, 2 s, 4 s
        finally:
            worker.stop()
    assert [a.status for a in hook.attempts] == [500, 500, 500, 200]
    gaps = [b.at - a.at for a, b in zip(hook.attempts, hook.attempts[1:])]
    assert gaps[0] >= 0.9 and gaps[1] >= 1.9 and gaps[2] >= 3.9, gaps     # it backed off
    assert len({a.body for a in hook.attempts}) == 1                      # the same alert each time
    assert counted(ALERT_FAILURES, "webhook") == failures + 3
    [row] = outbox.rows()
    assert row["state"] == "delivered" and row["attempts"] == 4


def test_pending_alert_survives_a_restart(tmp_path):
    """The receiver is down while the proxy runs; the proxy stops; after a restart the pending
    alert is delivered (nothing kept only in memory)."""
    box = Outbox(tmp_path / "alerts.db")
    dead = WebhookReceiver()          # take a free port ...
    url = dead.url
    dead.stop()                       # ... and close it: nothing listens there, connection refused
    worker = run_worker(box, webhooks=(url,))
    inc = critical()
    worker.enqueue_incident(inc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and box.rows()[0]["attempts"] < 1:
        time.sleep(0.05)
    worker.stop()
    box.close()
    [row] = Outbox(tmp_path / "alerts.db").rows()
    assert row["state"] == "pending" and row["attempts"] >= 1 and row["last_error"]

    with WebhookReceiver(port=dead.port) as hook:     # the receiver is back, the proxy restarts
        box2 = Outbox(tmp_path / "alerts.db")
        worker2 = run_worker(box2, webhooks=(url,))
        try:
            [got] = hook.wait_for(1, timeout=20)
        finally:
            worker2.stop()
        assert json.loads(got.body)["incident"] == inc.id
        assert box2.rows()[0]["state"] == "delivered"
        box2.close()


def test_email_to_the_schools_oncall_addresses(outbox):
    with SmtpReceiver() as smtp:
        email = EmailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port, sender="cg@example.org")
        worker = run_worker(outbox, email=email, oncall={"org-main": ("a@example.org", "b@example.org"),
                                                         "default": ("all@example.org",)})
        try:
            main, other = critical(school="org-main"), critical(school="org-elsewhere")
            worker.enqueue_incident(main)
            worker.enqueue_incident(other)
            mails = smtp.wait_for(2, timeout=15)
        finally:
            worker.stop()
    by_incident = {m.message["X-CrossingGuard-Incident"]: m for m in mails}
    assert set(by_incident[main.id].rcpt_tos) == {"a@example.org", "b@example.org"}
    assert by_incident[other.id].rcpt_tos == ("all@example.org",)
    for inc, m in ((main, by_incident[main.id]), (other, by_incident[other.id])):
        body = m.message.get_content()
        assert f"http://127.0.0.1:8181/incidents/{inc.id}" in body
        assert TEXT not in m.message.as_string()
        assert m.tls is False                          # this server offers no STARTTLS


def test_email_uses_starttls_when_offered(outbox, tmp_path):
    pki = make_pki(tmp_path / "pki")
    with SmtpReceiver(tls_cert=pki.leaf_cert, tls_key=pki.leaf_key, require_starttls=True) as smtp:
        email = EmailSettings(smtp_host="localhost", smtp_port=smtp.port, sender="cg@example.org",
                              ca_file=str(pki.ca_cert))
        worker = run_worker(outbox, email=email, oncall={"default": ("a@example.org",)})
        try:
            worker.enqueue_incident(critical())
            [m] = smtp.wait_for(1, timeout=15)
        finally:
            worker.stop()
    assert m.tls is True


def test_starttls_required_but_not_offered_is_a_failure(outbox):
    failures = counted(ALERT_FAILURES, "email")
    with SmtpReceiver() as smtp:
        email = EmailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port, sender="cg@example.org",
                              starttls="required")
        worker = run_worker(outbox, email=email, oncall={"default": ("a@example.org",)})
        try:
            worker.enqueue_incident(critical())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and counted(ALERT_FAILURES, "email") == failures:
                time.sleep(0.05)
        finally:
            worker.stop()
        assert smtp.messages == []
    [row] = outbox.rows()
    assert row["state"] == "pending" and "STARTTLS" in row["last_error"]


def test_pending_gauge_registered_while_running(outbox):
    worker = AlertWorker(outbox, AlertSettings(secret=SECRET, webhooks=("http://127.0.0.1:9/x",)), poll=5)
    worker.enqueue_incident(critical())
    worker.start()
    try:
        kind, _help, fn = STATE.sources[ALERTS_PENDING]
        assert kind == "gauge" and fn() == 1
    finally:
        worker.stop()
    assert ALERTS_PENDING not in STATE.sources


def test_a_redirect_is_a_failed_attempt_not_a_repost(outbox):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    seen = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):   # noqa: N802
            seen.append(self.command)
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        worker = run_worker(outbox, webhooks=(f"http://127.0.0.1:{server.server_address[1]}/hook",))
        try:
            worker.enqueue_incident(critical())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not outbox.rows()[0]["last_error"]:
                time.sleep(0.05)
        finally:
            worker.stop()
    finally:
        server.shutdown()
        server.server_close()
    [row] = outbox.rows()
    assert row["state"] == "pending" and row["last_error"] == "HTTP 302"
    assert set(seen) == {"POST"}


def test_claimed_but_unsent_deliveries_are_released_on_stop(outbox):
    """Stopping with deliveries claimed but not yet attempted hands their leases back."""
    worker = AlertWorker(outbox, AlertSettings(secret=SECRET, webhooks=("http://127.0.0.1:9/x",)))
    incs = [critical() for _ in range(3)]
    for inc in incs:
        worker.enqueue_incident(inc)
    claimed = outbox.claim_due(lease=600)
    assert len(claimed) == 3 and outbox.claim_due() == []          # leased: nobody else takes them
    worker._inflight.update(d.id for d in claimed)                   # as if queued in the pool
    worker.stop()
    assert len(outbox.claim_due()) == 3                              # free again
