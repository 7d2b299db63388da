"""A post through the running proxy becomes an incident (issue 3, end to end).

A real `crossingguard run` with the classifier process pool, the 15-year-old inside an open
teacher session on YouTube, posting InnerTube comments. The shipped ENSATSD policy flags
bullying (the comment goes through, an incident is written) and holds threats and personal
information (the comment is not sent; the student sees why).
"""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import COMMENT_URL, TEEN_IP, comment

pytestmark = pytest.mark.e2e


def incidents(proxy, *extra: str) -> list[dict]:
    out = proxy.cli("incidents", "list", *extra)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_benign_comment_passes_without_an_incident(poster, proxy, district):
    _, roster, _ = district
    r = poster.post(COMMENT_URL, json=comment("Great video about volcanoes, I learned a lot"))
    assert r.status_code == 200
    mine = [i for i in incidents(proxy, "--with-text") if "volcanoes" in i.get("text", "")]
    assert mine == []


def test_bullying_comment_is_flagged_and_delivered(poster, proxy, district):
    _, roster, _ = district
    text = "you are so ugly and stupid, nobody at this school likes you, loser"
    r = poster.post(COMMENT_URL, json=comment(text))
    assert r.status_code == 200, r.text[:300]          # flag: delivered
    assert r.json()["method"] == "POST"
    found = [i for i in incidents(proxy, "--with-text") if i.get("text") == text]
    assert len(found) == 1, incidents(proxy, "--with-text")
    inc = found[0]
    assert "bullying" in inc["labels"]
    assert inc["severity"] in ("high", "critical")
    assert inc["user"] == roster.teen and inc["platform"] == "youtube" and inc["kind"] == "comment"
    assert "student.9" in inc["guidelines"]
    # Without --with-text the listing carries no post text (privacy by default).
    plain = [i for i in incidents(proxy) if i["id"] == inc["id"]]
    assert plain and "text" not in plain[0]
    # The incident says which device the post came from and how the student was known
    # (the review app shows it; the listing's keys are a contract and stay as they are).
    from agent.store import open_store
    store = open_store(None, proxy.home)
    try:
        stored = next(i for i in store.incidents() if i.id == inc["id"])
    finally:
        store.close()
    assert (stored.device, stored.identified_by) == ("dev-teen", "device")


def test_threat_is_held_with_a_page_and_becomes_a_critical_incident(poster, proxy):
    text = "I will shoot up the school tomorrow, everyone is going to pay"
    r = poster.post(COMMENT_URL, json=comment(text), headers={"Accept": "application/json"})
    assert r.status_code == 403, r.text[:300]
    body = r.json()
    assert body["blocked"] is True and body["action"] == "hold"
    assert "not sent" in body["reason"]
    found = [i for i in incidents(proxy, "--with-text") if i.get("text") == text]
    assert len(found) == 1
    assert "threat" in found[0]["labels"] and found[0]["severity"] == "critical"
    assert "student.6" in found[0]["guidelines"]


def test_held_post_is_in_the_activity_log_as_held(poster, proxy, district):
    _, roster, _ = district
    r = poster.post(COMMENT_URL, json=comment("im gonna stab him tomorrow after school"))
    assert r.status_code == 403
    request_id = r.headers["X-CrossingGuard-Request-Id"]
    deadline = time.monotonic() + 15   # the addon hands records over every 0.1 s; the writer batches
    line = None
    while line is None and time.monotonic() < deadline:
        for f in sorted((proxy.home / "activity").glob("activity-*.jsonl")):
            for raw in f.read_text().splitlines():
                rec = json.loads(raw)
                if rec.get("request_id") == request_id:
                    line = rec
        time.sleep(0.2)
    assert line is not None, "held post missing from the activity log"
    assert (line["verdict"], line["action"], line["user"], line["platform"]) == ("block", "hold", roster.teen, "youtube")
    assert "stab" not in json.dumps(line)      # the log never carries post text


def test_personal_information_about_another_student_is_held(poster, proxy):
    text = "Ada Example lives at 14 Maple Street, Danvers MA, text her at 978-555-0142"
    r = poster.post(COMMENT_URL, json=comment(text))
    assert r.status_code == 403
    assert "personal information" in r.text
    found = [i for i in incidents(proxy, "--with-text") if i.get("text") == text]
    assert len(found) == 1 and "pii" in found[0]["labels"]
    assert "student.4" in found[0]["guidelines"]


def test_help_seeking_is_never_misconduct(poster, proxy):
    text = "how do I talk to a counselor at school? I have been feeling really down lately"
    r = poster.post(COMMENT_URL, json=comment(text))
    assert r.status_code == 200
    for inc in incidents(proxy, "--with-text"):
        if inc.get("text") == text:
            assert not {"bullying", "threat"} & set(inc["labels"])


def test_held_threat_page_in_a_browser_cites_the_mandated_reporter_clause(poster, proxy):
    """The page a student's browser gets for a held threat, through the running proxy: "your post
    was not sent", student guideline 6 in the small print (even if the post also reads as
    bullying, the bullying clause is not the one cited), the report link, no session advice."""
    text = "you are a worthless loser and I will shoot you tomorrow after school"
    r = poster.post(COMMENT_URL, json=comment(text), headers={"Accept": "text/html"})
    assert r.status_code == 403, r.text[:300]
    page = r.text
    assert "Your post was not sent" in page and "threat of violence" in page
    small = page.split('<dl class="small">', 1)[1]
    assert "student.6" in small and "student.9" not in small
    assert 'href="http://crossingguard.internal/report"' in page
    assert r.headers["x-crossingguard-request-id"] in page
