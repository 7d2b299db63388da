"""The enforcing proxy end to end: real `crossingguard run`, real TLS, real httpx clients.

Expected decisions are not hard-coded: where a test needs the rule or guideline, it asks
`crossingguard decide` (the same policy, roster and date) and compares with what the proxy did.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import TEACHER_IP, TEEN_IP, UNKNOWN_IP, YOUNG_IP
from tests.support import cert_issuer_org, cert_lifetime_days, peer_certificate

pytestmark = pytest.mark.e2e


def decide(proxy, user: str, url: str, method: str = "GET") -> dict:
    r = proxy.cli("decide", "--user", user, "--url", url, "--method", method)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_eleven_year_old_gets_the_block_page_for_instagram(proxy, district, client_for):
    _, roster, _ = district
    r = client_for(YOUNG_IP).get("https://www.instagram.com/explore/?q=cats",
                                 headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    expected = decide(proxy, roster.young, "https://www.instagram.com/explore/")
    assert expected["verdict"] == "block"
    page = r.text
    request_id = r.headers["x-crossingguard-request-id"]
    assert "Essex North Shore Agricultural &amp; Technical School District" in page
    assert "Instagram" in page
    assert expected["guideline"] in page
    assert request_id in page and len(request_id) >= 12
    assert "<title>Blocked" in page


def test_eleven_year_old_passes_to_a_kids_platform(proxy, client_for):
    r = client_for(YOUNG_IP).get("https://www.youtubekids.com/watch?v=abc")
    assert r.status_code == 200
    echoed = r.json()
    assert echoed["host"] == "www.youtubekids.com" and echoed["path"] == "/watch?v=abc"


def test_fifteen_year_old_gets_youtube_with_restricted_mode(proxy, client_for):
    r = client_for(TEEN_IP).get("https://www.youtube.com/watch?v=dQw4")
    assert r.status_code == 200, r.text[:300]
    assert r.json()["headers"].get("YouTube-Restrict") == "Strict"


def test_teacher_by_address_alone_gets_student_rights_on_youtube(proxy, client_for):
    """security.staff_requires_proxy_auth (shipped policy): the teacher's registered device without
    proxy auth is treated as a student of unknown age (blocked like the 11-year-old); the proven
    teacher's unrestricted YouTube is tested with proxy auth in test_hardening_bypasses.py."""
    r = client_for(TEACHER_IP).get("https://www.youtube.com/watch?v=dQw4")
    young = client_for(YOUNG_IP).get("https://www.youtube.com/watch?v=dQw4")
    assert r.status_code == young.status_code == 403


def test_student_search_gets_safesearch(proxy, client_for):
    c = client_for(TEEN_IP)
    google = c.get("https://www.google.com/search?q=volcano").json()
    assert "safe=active" in google["path"] and "q=volcano" in google["path"]
    bing = c.get("https://www.bing.com/search?q=volcano").json()
    assert "adlt=strict" in bing["path"]


def test_comment_is_read_only_outside_a_session_and_allowed_inside(proxy, district, client_for):
    _, roster, _ = district
    c = client_for(TEEN_IP)
    comment = {"comment": "Our class project video is up"}
    r = c.post("https://www.youtube.com/youtubei/v1/comment/create_comment", json=comment)
    assert r.status_code == 403
    expected = decide(proxy, roster.teen, "https://www.youtube.com/youtubei/v1/comment/create_comment", "POST")
    assert expected["action"] == "read_only" and expected["verdict"] == "block"
    opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                       "--platform", "youtube", "--minutes", "30")
    assert opened.returncode == 0, opened.stderr
    session_id = json.loads(opened.stdout.splitlines()[-1])["id"]
    try:
        deadline = time.monotonic() + 20   # the proxy reloads sessions every 0.5 s (fixture option)
        while True:
            r = c.post("https://www.youtube.com/youtubei/v1/comment/create_comment", json=comment)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert r.status_code == 200, r.text[:300]
        assert r.json()["method"] == "POST" and r.json()["body_length"] > 0
    finally:
        closed = proxy.cli("session", "close", session_id)
        assert closed.returncode == 0, closed.stderr
    deadline = time.monotonic() + 20
    while True:   # closing the session closes posting again
        r = c.post("https://www.youtube.com/youtubei/v1/comment/create_comment", json=comment)
        if r.status_code == 403 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert r.status_code == 403


def test_unknown_device_is_treated_as_under_13(proxy, district, client_for):
    _, roster, _ = district
    accept = {"Accept": "application/json"}
    unknown = client_for(UNKNOWN_IP).get("https://www.instagram.com/", headers=accept)
    young = client_for(YOUNG_IP).get("https://www.instagram.com/", headers=accept)
    assert unknown.status_code == young.status_code == 403
    u, y = unknown.json(), young.json()
    assert (u["rule"], u["guideline"]) == (y["rule"], y["guideline"])
    assert u["rule"] == decide(proxy, "unknown", "https://www.instagram.com/")["rule"]
    # ... and passes to a kids platform like an 11-year-old
    assert client_for(UNKNOWN_IP).get("https://www.youtubekids.com/").status_code == 200


def test_json_accept_gets_a_json_403(proxy, client_for):
    r = client_for(YOUNG_IP).get("https://www.instagram.com/api/v1/feed/",
                                 headers={"Accept": "application/json, text/plain, */*"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["blocked"] is True and body["platform"] == "instagram"
    assert body["request_id"] == r.headers["x-crossingguard-request-id"]
    assert body["guideline"] and body["reason"] and body["district"]


def test_non_catalog_host_passes_through_with_the_origins_certificate(proxy, origin_pki):
    host, port = proxy.host, proxy.port
    ordinary = peer_certificate(host, port, "www.example.org", source_ip=YOUNG_IP)
    assert cert_issuer_org(ordinary) == "CrossingGuard Test Origin"      # the origin's own chain
    intercepted = peer_certificate(host, port, "www.instagram.com", source_ip=YOUNG_IP)
    assert cert_issuer_org(intercepted) != "CrossingGuard Test Origin"   # our district CA
    assert "School District" in cert_issuer_org(intercepted)


def test_leaf_certificates_live_at_most_197_days(proxy):
    der = peer_certificate(proxy.host, proxy.port, "www.tiktok.com", source_ip=TEEN_IP)
    days = cert_lifetime_days(der)
    assert days <= 197 + 3, days     # mitmproxy backdates notBefore by up to 2 days
    assert days > 100


def test_run_prints_the_ca_location_and_how_to_point_a_device(proxy):
    out = proxy.output()
    assert str(proxy.ca_file) in out
    assert f"127.0.0.1:{proxy.port}" in out and "PAC" in out and "trust the district CA" in out
    assert "leaf certs     197 days" in out
    # lean: no per-flow lines after the banner, however many requests the other tests made
    assert "GET https://" not in out and "<< 200" not in out
