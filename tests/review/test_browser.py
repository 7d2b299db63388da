"""A real headless Chromium (Debian's chromium + chromium-driver through Selenium) against a real
`crossingguard review` process: sign in, open the queue, open an incident, add a note, close it,
sign out. Screenshots of the queue and the incident page are saved as test artifacts under
$CROSSINGGUARD_ARTIFACTS (default var/test-artifacts/) so a person can look at them."""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.context import AppContext
from tests.review.conftest import HOSTILE, make_incident
from tests.review.servers import ReviewProcess, cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("CROSSINGGUARD_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "var" / "test-artifacts")

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)")]


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1400", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)


def test_counselor_works_an_incident_in_a_real_browser(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    home = tmp_path / "home"
    r = cli(home, "accounts", "add", "ms.rivera", "--role", "counselor", "--school", "org-mid",
            "--password-stdin", stdin="browser test password\n")
    assert r.returncode == 0, r.stderr
    store = AppContext(home).store
    now = datetime.now(timezone.utc)
    start = HOSTILE.index("hurt you")
    threat = make_incident(store, school="org-mid", text=HOSTILE, labels=("threat",), severity="critical",
                           created=now - timedelta(minutes=12), device="cart-ipad-07", identified_by="device",
                           evidence=({"category": "threat", "kind": "pattern", "text": "hurt you",
                                      "start": start, "end": start + 8},))
    for i in range(5):
        make_incident(store, school="org-mid", user="stu-1002", created=now - timedelta(hours=i + 1))
    make_incident(store, school="org-main", user="stu-2001", text="other school")
    store.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with ReviewProcess(home) as srv:
        drv = browser()
        try:
            drv.set_page_load_timeout(30)
            # every click that submits or navigates is followed by a wait for the new page:
            # reading the old page's elements meanwhile would race the navigation
            wait = WebDriverWait(drv, 20)
            drv.get(srv.url + "/")
            drv.find_element(By.ID, "username").send_keys("ms.rivera")
            drv.find_element(By.ID, "password").send_keys("browser test password")
            drv.find_element(By.ID, "sign-in").click()
            wait.until(EC.url_contains("/queue"))
            # the queue: critical first, the unacknowledged banner, only this school
            banner = drv.find_element(By.ID, "unacknowledged").text
            assert "1 unacknowledged critical incident" in banner and "12 min" in banner
            rows = drv.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
            assert len(rows) == 6 and rows[0].get_attribute("class") == "sev-critical"
            assert "other school" not in drv.page_source
            drv.save_screenshot(str(ARTIFACTS / "review-queue.png"))
            rows[0].find_element(By.CSS_SELECTOR, "a.open-incident").click()
            wait.until(EC.url_contains(f"/incidents/{threat.id}"))
            # the incident: the hostile text shown as text, nothing ran, the evidence marked
            post = drv.find_element(By.ID, "post-text")
            assert post.text == HOSTILE
            assert post.find_elements(By.TAG_NAME, "script") == [] and post.find_elements(By.TAG_NAME, "img") == []
            assert post.find_elements(By.TAG_NAME, "a") == []
            assert post.find_element(By.TAG_NAME, "mark").text == "hurt you"
            assert drv.execute_script("return typeof window.__pwned") == "undefined"
            assert drv.find_element(By.ID, "posted-from").text.startswith("cart-ipad-07; student identified by")
            drv.save_screenshot(str(ARTIFACTS / "review-incident.png"))
            drv.find_element(By.ID, "note").send_keys("Talked with the student and called home.")
            drv.find_element(By.ID, "action-note").click()
            wait.until(EC.url_contains("done=note"))
            assert drv.find_element(By.ID, "status").text == "reviewing"
            assert "called home" in drv.find_element(By.ID, "history").text
            drv.find_element(By.ID, "action-close").click()
            wait.until(EC.url_contains("done=close"))
            assert drv.find_element(By.ID, "status").text == "closed"
            drv.find_element(By.ID, "nav-queue").click()
            wait.until(EC.url_contains("/queue"))
            assert drv.find_elements(By.ID, "unacknowledged") == []
            drv.find_element(By.ID, "sign-out").click()
            wait.until(EC.url_contains("/login"))
            drv.get(srv.url + "/queue")
            assert "/login" in drv.current_url
        finally:
            drv.quit()
    for name in ("review-queue.png", "review-incident.png"):
        data = (ARTIFACTS / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    store = AppContext(home).store
    assert store.incident(threat.id).status == "closed"
    actions = [e["action"] for e in store.audit_entries() if e["actor"] == "ms.rivera"]
    assert actions[0] == "review.login" and actions[-1] == "review.logout"
    assert {"incident.view", "incident.note", "incident.close", "incidents.list"} <= set(actions)
    store.close()
