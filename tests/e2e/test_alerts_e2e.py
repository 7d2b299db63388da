"""A critical post through a running proxy reaches the people on call (end to end).

`crossingguard run --alert-webhook URL --alert-secret-file FILE` with a policy whose `alerts:`
e-mail the test school's on-call address through a local SMTP server (aiosmtpd). The
15-year-old, inside a teacher session on YouTube, posts a threat: the post is held, a critical
incident is written, and within 10 s the webhook receives the signed JSON and the on-call
address an e-mail with the link, neither with the post text. The delivered counts show on
/metrics. A second test stops the proxy with an alert pending and shows the restarted proxy
delivers it.
"""
from __future__ import annotations

import json
import time

import pytest

from agent.alerts.message import SIGNATURE_HEADER, verify
from tests.e2e.conftest import TEEN_IP
from tests.support import CrossingGuardProcess, free_port, proxied_client
from tests.support.policy import policy_with
from tests.support.receivers import SmtpReceiver, WebhookReceiver
from tests.support.scrape import scrape

pytestmark = pytest.mark.e2e

COMMENT_URL = "https://www.youtube.com/youtubei/v1/comment/create_comment"
THREAT = "I will shoot up the school tomorrow, everyone is going to pay"
SECRET = "alert-secret-for-tests"


def comment(text: str) -> dict:
    return {"context": {"client": {"clientName": "WEB", "clientVersion": "2.20261101"}},
            "createCommentParams": "Eg0SC2FiY2RlZmdoaWpr", "commentText": text}


def alert_policy(tmp_path, roster, smtp_port: int):
    return policy_with(tmp_path / "policy.yaml", alerts={
        "review_url": "http://127.0.0.1:8181",
        "email": {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "sender": "crossingguard@example.org"},
        "oncall": {roster.school: ["oncall@example.org"], "default": ["everyone@example.org"]},
    })


def start(tmp_path, district, upstream, policy, hook_urls, metrics_port=0, home=None):
    _, roster, devices = district
    _, forwarder = upstream
    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")          # the trailing newline is not part of the secret
    return CrossingGuardProcess(
        home or tmp_path / "home", policy=policy, roster=roster.directory, devices=devices,
        metrics_port=metrics_port,
        run_args=[*(a for url in ([hook_urls] if isinstance(hook_urls, str) else hook_urls)
                    for a in ("--alert-webhook", url)), "--alert-secret-file", str(secret)],
        mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                   "--set", "crossingguard_session_refresh_ms=500"])


def post_threat(proxy, roster) -> float:
    """Open a session, post the threat as the teen; returns when it was sent (time.time())."""
    opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                       "--platform", "youtube", "--minutes", "30")
    assert opened.returncode == 0, opened.stderr
    with proxied_client(proxy.url, proxy.ca_file, source_ip=TEEN_IP, timeout=30) as c:
        deadline = time.monotonic() + 30
        while True:
            r = c.post(COMMENT_URL, json=comment("Our class project video is up"))
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert r.status_code == 200, r.text[:300]
        sent = time.time()
        r = c.post(COMMENT_URL, json=comment(THREAT), headers={"Accept": "application/json"})
        assert r.status_code == 403 and r.json()["action"] == "hold", r.text[:300]
    return sent


def the_incident(proxy) -> dict:
    out = proxy.cli("incidents", "list")
    assert out.returncode == 0, out.stderr
    [inc] = [json.loads(x) for x in out.stdout.splitlines() if x.strip() and '"critical"' in x]
    return inc


def test_critical_post_alerts_webhook_and_oncall_email(tmp_path, district, upstream):
    _, roster, _ = district
    metrics_port = free_port()
    with WebhookReceiver() as hook, WebhookReceiver() as hook2, SmtpReceiver() as smtp:
        policy = alert_policy(tmp_path, roster, smtp.port)
        with start(tmp_path, district, upstream, policy, [hook.url, hook2.url], metrics_port) as proxy:
            sent = post_threat(proxy, roster)
            [got] = hook.wait_for(1, timeout=10)
            [got2] = hook2.wait_for(1, timeout=10)      # --alert-webhook is repeatable: both get it
            [mail] = smtp.wait_for(1, timeout=10)
            inc = the_incident(proxy)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                m = scrape(metrics_port)
                if m.value("crossingguard_alerts_delivered_total", channel="email") >= 1 and \
                        m.value("crossingguard_alerts_delivered_total", channel="webhook") >= 2:
                    break
                time.sleep(0.2)
    assert got.at - sent < 10 and mail.at - sent < 10
    assert verify(got.body, SECRET.encode(), got.headers[SIGNATURE_HEADER.lower()])
    body = json.loads(got.body)
    assert body == {"incident": inc["id"], "severity": "critical", "labels": inc["labels"],
                    "school": roster.school, "created": inc["created"],
                    "url": f"http://127.0.0.1:8181/incidents/{inc['id']}"}
    assert mail.rcpt_tos == ("oncall@example.org",)
    assert body["url"] in mail.message.get_content()
    for raw in (got.body.decode(), mail.message.as_string()):
        assert "shoot" not in raw and roster.teen not in raw        # never the text, never the student
    assert got2.body == got.body
    assert m.value("crossingguard_alerts_delivered_total", channel="webhook") == 2
    assert m.value("crossingguard_alerts_delivered_total", channel="email") == 1
    assert m.value("crossingguard_alert_delivery_failures_total") == 0


def test_alert_pending_at_shutdown_is_delivered_after_restart(tmp_path, district, upstream):
    _, roster, _ = district
    port = free_port()
    hook_url = f"http://127.0.0.1:{port}/hook"        # nobody listens yet: deliveries fail
    with SmtpReceiver() as smtp:
        policy = alert_policy(tmp_path, roster, smtp.port)
        home = tmp_path / "home"
        with start(tmp_path, district, upstream, policy, hook_url, home=home) as proxy:
            post_threat(proxy, roster)
            smtp.wait_for(1, timeout=10)                # e-mail went out; the webhook keeps failing
            inc = the_incident(proxy)
        with WebhookReceiver(port=port) as hook:
            with start(tmp_path, district, upstream, policy, hook_url, home=home):
                [got] = hook.wait_for(1, timeout=30)
    assert json.loads(got.body)["incident"] == inc["id"]
    assert len(smtp.messages) == 1                       # the delivered e-mail is not sent again
