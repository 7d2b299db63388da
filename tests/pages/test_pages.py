"""What each page says to its reader (agent/pages.py, rendered by proxy_addons/blockpage.py)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from agent import pages
from tests.pages.cases import AT, REQUEST_ID, TEEN, YOUNG, build, policy_and_engine

DISTRICT_HTML = "Essex North Shore Agricultural &amp; Technical School District"
SESSION_WORDS = re.compile(r"session", re.I)
REPORT_LINK = f'<a href="{pages.REPORT_URL}">'
LOCAL_TIME = "Monday, December 7, 2026, 9:05 AM EST"


def procedures_sentences() -> list[str]:
    """Long sentences of the district's procedures: the shared copy beside the checkout
    (../shared/policy/), or $CROSSINGGUARD_PROCEDURES. Not part of the repository."""
    import os
    from pathlib import Path
    path = Path(os.environ.get("CROSSINGGUARD_PROCEDURES")
                or Path(__file__).resolve().parents[2].parent / "shared" / "policy" / "social-media-procedures.txt")
    if not path.exists():
        pytest.skip(f"the procedures text is not here ({path}): cannot compare pages with it")
    text = path.read_text(encoding="utf-8")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 60]
    assert len(sentences) > 20, path   # the real document, not an empty file
    return sentences


def visible_text(page: str) -> str:
    body = re.sub(r"<style>.*?</style>|<!--.*?-->", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("name", ["under13", "read_only", "category", "category_piracy", "held_threat",
                                  "held_bullying", "upstream", "fail"])
def test_every_page_names_the_district_the_request_id_and_no_software(name):
    case = build(name)
    assert DISTRICT_HTML in case.html
    assert f"<code>{REQUEST_ID}</code>" in case.html
    assert case.json["request_id"] == REQUEST_ID
    for word in ("mitmproxy", "python", "11.0.2"):
        assert word not in case.html.lower()


@pytest.mark.parametrize("name", ["under13", "read_only", "category", "category_piracy", "held_threat",
                                  "held_bullying"])
def test_block_and_held_pages_link_the_student_report_page_and_show_local_time(name):
    case = build(name)
    assert case.status == 403
    assert REPORT_LINK in case.html and "STUDENT REPORT LINK" in case.html
    assert f"<dd>{LOCAL_TIME}</dd>" in case.html
    assert case.json["report_url"] == pages.REPORT_URL


def test_under13_page_never_suggests_a_session():
    case = build("under13")
    text = visible_text(case.html)
    assert "Instagram is not for students under 13" in text
    assert "made for kids" in text and "YouTube Kids" in text
    assert not SESSION_WORDS.search(text), text
    assert case.json["case"] == "under13" and case.json["rule"] == "under13-not-kids"


def test_read_only_page_says_you_can_look_and_posting_needs_a_class_session():
    case = build("read_only")
    text = visible_text(case.html)
    assert "You can look at YouTube, but not post" in text
    assert "class session" in text and "your teacher can open a class session" in text
    assert case.json["action"] == "read_only" and case.json["case"] == "read_only"


def test_category_page_for_social_media_outside_class_offers_a_session():
    text = visible_text(build("category").html)
    assert "Instagram is blocked at school" in text
    assert "your teacher can open a class session for it" in text


def test_piracy_page_is_a_category_block_even_for_an_11_year_old_and_offers_no_session():
    case = build("category_piracy")
    text = visible_text(case.html)
    assert case.json["case"] == "category" and case.json["guideline"] == "student.10"
    assert "is blocked at school" in text and "Student guideline 10 (student.10)" in text
    assert not SESSION_WORDS.search(text)


def test_held_threat_cites_the_mandated_reporter_clause():
    case = build("held_threat")
    text = visible_text(case.html)
    assert "Your post was not sent" in text and "threat of violence" in text
    assert "Student guideline 6 (student.6)" in text
    assert "student.9" not in text
    assert case.json["held"] == ["threat"] and case.json["guidelines"] == ["student.6"]
    assert case.json["action"] == "hold" and case.json["guideline"] == "student.6"


def test_a_threat_also_labelled_bullying_still_cites_only_the_held_threat_clause():
    case = build("held_threat_also_bullying")
    text = visible_text(case.html)
    assert "student.6" in text and "student.9" not in text


def test_held_bullying_cites_the_bullying_clause():
    case = build("held_bullying")
    text = visible_text(case.html)
    assert "Your post was not sent" in text and "Student guideline 9 (student.9)" in text
    assert "student.6" not in text


def test_rule_and_clause_ids_are_small_print():
    html = build("held_threat").html
    small = html.split('<dl class="small">', 1)[1]
    main = html.split('<dl class="small">', 1)[0]
    assert "incident-hold:threat" in small and "student.6" in small
    assert "incident-hold" not in main and "student.6" not in main


def test_json_403_keeps_its_fields():
    body = build("under13").json
    for key in ("blocked", "district", "platform", "platform_name", "verdict", "action", "rule", "guideline",
                "reason", "request_id", "time"):
        assert key in body, key
    assert body["blocked"] is True and body["platform"] == "instagram"
    assert datetime.fromisoformat(body["time"]).utcoffset() is not None


def test_upstream_page_says_what_happened_in_plain_words():
    case = build("upstream")
    text = visible_text(case.html)
    assert case.status == 502
    assert "www.example.org cannot be reached right now" in text
    assert "did not accept the connection" in text
    assert "Errno" not in text and "93.184" not in text       # no raw error text or addresses
    assert case.json["problem"] == "refused" and case.json["blocked"] is False


def test_fail_page():
    case = build("fail")
    text = visible_text(case.html)
    assert case.status == 503 and "could not check this request" in text
    assert case.json["reason"] == "filter_error"


@pytest.mark.parametrize("name", ["under13", "read_only", "category", "held_threat", "held_bullying",
                                  "upstream", "fail"])
def test_pages_never_paste_the_procedures(name):
    text = visible_text(build(name).html)
    for sentence in procedures_sentences():
        assert sentence not in text, sentence[:80]


@pytest.mark.parametrize("at, tz, expected", [
    (datetime(2026, 12, 7, 14, 5, tzinfo=timezone.utc), "America/New_York", "Monday, December 7, 2026, 9:05 AM EST"),
    (datetime(2026, 7, 4, 0, 30, tzinfo=timezone.utc), "America/New_York", "Friday, July 3, 2026, 8:30 PM EDT"),
    (datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc), "UTC", "Thursday, January 1, 2026, 12:00 PM UTC"),
    (datetime(2026, 1, 1, 0, 7, tzinfo=timezone.utc), "UTC", "Thursday, January 1, 2026, 12:07 AM UTC"),
])
def test_local_time_format(at, tz, expected):
    assert pages.local_time(at, ZoneInfo(tz)) == expected


@pytest.mark.parametrize("message, kind", [
    ("[Errno 111] Connect call failed ('127.0.0.1', 9)", "refused"),
    ("Connection refused", "refused"),
    ("TimeoutError: timed out", "timeout"),
    ("[Errno -2] Name or service not known", "dns"),
    ("[Errno -3] Temporary failure in name resolution", "dns"),
    ("TLS handshake failed: certificate verify failed", "tls"),
    ("Server disconnected.", "closed"),
    ("peer closed connection without sending complete message body", "closed"),
    ("something new", "unreachable"),
    ("", "unreachable"),
])
def test_upstream_kind(message, kind):
    assert pages.upstream_kind(message) == kind


@pytest.mark.parametrize("subject, host, method, could", [
    (TEEN, "www.instagram.com", "GET", True),      # social outside class: a session allows it
    (TEEN, "www.youtube.com", "POST", True),       # read-only: a session allows posting
    (YOUNG, "www.instagram.com", "GET", False),    # under 13: never
    (TEEN, "thepiratebay.org", "GET", False),      # piracy: the rule comes before sessions
    (TEEN, "cloudflare-dns.com", "GET", False),    # private DNS: same
])
def test_session_could_allow(subject, host, method, could):
    policy, engine = policy_and_engine()
    decision = engine.decide(subject, host, method, AT)
    assert decision.verdict == "block"
    assert pages.session_could_allow(policy, decision) is could


@pytest.mark.parametrize("subject, host, method, case", [
    (YOUNG, "www.instagram.com", "GET", "under13"),
    (YOUNG, "thepiratebay.org", "GET", "category"),
    (TEEN, "www.instagram.com", "GET", "category"),
    (TEEN, "www.youtube.com", "POST", "read_only"),
])
def test_block_case(subject, host, method, case):
    policy, engine = policy_and_engine()
    assert pages.block_case(policy, engine.decide(subject, host, method, AT)) == case
