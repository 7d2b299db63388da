"""The students' report page end to end: a running `crossingguard run` (shipped policy, demo
roster and device registry) answers http(s)://crossingguard.internal/report itself; curl from a
student device address (127.0.0.15: a 15-year-old at org-main in the demo registry) fetches the
form, posts a report, and the report is an incident of kind `report` for the student's school.
Nothing is forwarded upstream: the proxy has no upstream here at all (an unreachable one)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.support import CrossingGuardProcess, free_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl (apt-get install -y curl)")]

STUDENT_IP = "127.0.0.15"       # demo registry: cb-eli, stu-1006, 15, org-main


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    home = tmp_path_factory.mktemp("report-home")
    dead = free_port()          # an upstream proxy that is not there: a forwarded request would fail
    p = CrossingGuardProcess(home, mitm_args=["--mode", f"upstream:http://127.0.0.1:{dead}",
                                              "--set", "crossingguard_report_limit=2"])
    with p:
        yield p


def curl(proxy, url, *args, source=STUDENT_IP) -> tuple[int, str]:
    out = subprocess.run(["curl", "-sS", "--max-time", "20", "--proxy", proxy.url, "--interface", source,
                          "--cacert", str(proxy.ca_file), "-o", "-", "-w", "\n%{http_code}", *args, url],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    body, _, code = out.stdout.rpartition("\n")
    return int(code), body


def token_of(page: str) -> str:
    m = re.search(r'name="token" value="([^"]+)"', page)
    assert m, page[:2000]
    return m.group(1)


def reports(proxy) -> list[dict]:
    out = proxy.cli("incidents", "list", "--with-text")
    assert out.returncode == 0, out.stderr
    return [i for i in (json.loads(x) for x in out.stdout.splitlines() if x.strip()) if i["kind"] == "report"]


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_form_then_report_becomes_an_incident(proxy, scheme):
    code, page = curl(proxy, f"{scheme}://crossingguard.internal/report")
    assert code == 200, page[:500]
    assert "What happened?" in page and "North Shore Technical High School" in page
    text = f"Some kids keep posting mean edits of my photo in a group chat ({scheme})"
    code, page = curl(proxy, f"{scheme}://crossingguard.internal/report",
                      "--data-urlencode", f"what={text}", "--data-urlencode", "platform=instagram",
                      "--data-urlencode", "link=https://instagram.com/p/abc123",
                      "--data-urlencode", f"token={token_of(page)}")
    assert code == 200, page[:800]
    assert "Your report was received" in page
    assert "counselors of North Shore Technical High School (Main Campus) read every report" in page
    [inc] = [i for i in reports(proxy) if text in i["text"]]
    assert inc["user"] == "stu-1006" and inc["severity"] == "high" and inc["platform"] == "instagram"
    assert inc["guidelines"] == ["student.9"] and inc["status"] == "open"
    assert "https://instagram.com/p/abc123" in inc["text"]


def test_post_without_a_valid_token_is_refused_with_the_text_kept(proxy):
    text = "a report sent without the form token"
    code, page = curl(proxy, "http://crossingguard.internal/report", "--data-urlencode", f"what={text}",
                      "--data-urlencode", "token=123.forged")
    assert code == 403
    assert text in page and "press Send again" in page        # echoed back: nothing lost
    assert not [i for i in reports(proxy) if text in i["text"]]


def test_token_of_another_device_is_refused(proxy):
    _, page = curl(proxy, "http://crossingguard.internal/report", source="127.0.0.11")   # another student
    code, _ = curl(proxy, "http://crossingguard.internal/report", "--data-urlencode", "what=x",
                   "--data-urlencode", f"token={token_of(page)}")
    assert code == 403


def test_rate_limit_keeps_the_words_and_says_to_wait(proxy):
    source = "127.0.0.12"      # another demo student: a fresh limit (2 per 10 minutes in this proxy)
    sent = []
    for n in range(2):
        _, page = curl(proxy, "https://crossingguard.internal/report", source=source)
        code, page = curl(proxy, "https://crossingguard.internal/report", "--data-urlencode",
                          f"what=report number {n} about the bus", "--data-urlencode",
                          f"token={token_of(page)}", source=source)
        assert code == 200, page[:500]
        sent.append(n)
    _, page = curl(proxy, "https://crossingguard.internal/report", source=source)
    code, page = curl(proxy, "https://crossingguard.internal/report", "--data-urlencode",
                      "what=the third report about the bus", "--data-urlencode", f"token={token_of(page)}",
                      source=source)
    assert code == 429
    assert "Please wait about 10 minutes" in page and "the third report about the bus" in page
    assert "nothing was lost" in page
    texts = [i["text"] for i in reports(proxy)]
    assert "the third report about the bus" not in texts
    assert sum("about the bus" in t for t in texts) == 2


def test_other_paths_and_empty_reports(proxy):
    code, _ = curl(proxy, "http://crossingguard.internal/")
    assert code == 302
    code, page = curl(proxy, "http://crossingguard.internal/anything")
    assert code == 404 and "report page" in page
    _, page = curl(proxy, "http://crossingguard.internal/report", source="127.0.0.13")
    code, page = curl(proxy, "http://crossingguard.internal/report", "--data-urlencode", "what=   ",
                      "--data-urlencode", f"token={token_of(page)}", source="127.0.0.13")
    assert code == 400 and "Please write what happened" in page


def test_posted_text_is_escaped_when_echoed(proxy):
    _, page = curl(proxy, "http://crossingguard.internal/report", source="127.0.0.14")
    code, page = curl(proxy, "http://crossingguard.internal/report", "--data-urlencode",
                      "what=<script>alert(1)</script>", "--data-urlencode", "link=javascript:alert(1)",
                      "--data-urlencode", f"token={token_of(page)}", source="127.0.0.14")
    assert code == 400            # the link is not a web address
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_oversized_post_is_refused_plainly(proxy, tmp_path):
    body = tmp_path / "big"
    body.write_text("what=" + "x" * 70000)
    code, page = curl(proxy, "http://crossingguard.internal/report", "--data-binary", f"@{body}",
                      source="127.0.0.16")
    assert code == 413 and "shorter" in page
