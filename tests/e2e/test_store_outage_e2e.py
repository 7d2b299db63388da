"""PostgreSQL goes away for 30 s while a running proxy keeps creating incidents: every incident
arrives in the database exactly once after it returns (the spool, replayed by id), and a
critical incident during the outage is still alerted at once (the alert outbox is not the
database).

A real `crossingguard run` whose policy points `store.url` at the throw-away cluster
(tests/support/postgres.py); the 15-year-old posts bullying comments on YouTube inside an open
teacher session, before, during and after the outage.
"""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.e2e.conftest import TEEN_IP
from tests.support import CrossingGuardProcess, proxied_client
from tests.support.policy import policy_with
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.e2e

COMMENT_URL = "https://www.youtube.com/youtubei/v1/comment/create_comment"
OUTAGE_SECONDS = 30


def comment(text: str) -> dict:
    return {"context": {"client": {"clientName": "WEB", "clientVersion": "2.20261101"}},
            "createCommentParams": "Eg0SC2FiY2RlZmdoaWpr", "commentText": text}


def bullying(n: int) -> str:
    return f"you are so ugly and stupid, nobody at this school likes you, loser number {n}"


def test_postgresql_outage_loses_and_doubles_nothing(tmp_path, district, upstream, postgres_cluster,
                                                     postgres_url):
    base, roster, devices = district
    _, forwarder = upstream
    policy = policy_with(tmp_path / "policy.yaml", store={"url": postgres_url})
    secret = tmp_path / "secret"
    secret.write_text("outage-secret")
    hook = WebhookReceiver()
    proxy = CrossingGuardProcess(
        tmp_path / "home", policy=policy, roster=roster.directory, devices=devices,
        run_args=["--alert-webhook", hook.url, "--alert-secret-file", str(secret)],
        mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                   "--set", "crossingguard_session_refresh_ms=500",
                   "--set", "crossingguard_spool_replay_ms=500"])
    with hook, proxy:
        opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                           "--platform", "youtube", "--minutes", "30")
        assert opened.returncode == 0, opened.stderr
        with proxied_client(proxy.url, proxy.ca_file, source_ip=TEEN_IP, timeout=30) as c:
            deadline = time.monotonic() + 30          # the proxy picks the session up within 0.5 s
            while True:
                r = c.post(COMMENT_URL, json=comment("Our class project video is up"))
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.25)
            assert r.status_code == 200, r.text[:300]

            sent: list[str] = []

            def post(n: int) -> None:
                text = bullying(n)
                r = c.post(COMMENT_URL, json=comment(text))
                assert r.status_code == 200, r.text[:300]   # flagged, delivered
                sent.append(text)

            for n in range(3):
                post(n)
            postgres_cluster.stop()
            down_at = time.monotonic()
            threat = "I will shoot up the school tomorrow, everyone is going to pay"
            held = c.post(COMMENT_URL, json=comment(threat), headers={"Accept": "application/json"})
            assert held.status_code == 403, held.text[:300]
            sent.append(threat)
            alerts = hook.wait_for(1, timeout=10)
            assert len(alerts) == 1 and time.monotonic() - down_at < 15    # alerted with the database down
            n = 3
            while time.monotonic() - down_at < OUTAGE_SECONDS:
                post(n)
                n += 1
                time.sleep(1.0)
            spool = list((proxy.home / "spool").glob("*.jsonl"))
            assert spool, "nothing was spooled during the outage"
            postgres_cluster.start()
            for m in range(n, n + 2):
                post(m)

        # The replayer drains the spool without further traffic; then every text is there once.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and list((proxy.home / "spool").glob("[0-9]*.jsonl")):
            time.sleep(0.5)
        listed = proxy.cli("incidents", "list", "--with-text")
        assert listed.returncode == 0, listed.stderr
        texts = Counter(json.loads(line)["text"] for line in listed.stdout.splitlines() if line.strip())
        assert n - 3 >= 5, "too few posts during the outage to show anything"
        missing = [t for t in sent if texts[t] == 0]
        doubled = [t for t in sent if texts[t] > 1]
        assert missing == [] and doubled == [], (missing, doubled, proxy.output()[-3000:])
        [alert] = hook.received
        critical = [json.loads(line) for line in listed.stdout.splitlines() if threat in line]
        assert json.loads(alert.body)["incident"] == critical[0]["id"]
