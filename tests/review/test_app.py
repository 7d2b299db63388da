"""The review app through Flask's test client: every role, every action, the security checks
the issue names (cross-school 404 audited, hostile text inert, CSRF, throttling, no text for
auditors and IT)."""
from __future__ import annotations

import re

import pytest

from agent.review.auth import LoginThrottle, ThrottleRule
from tests.review.conftest import HOSTILE, PASSWORD, build_env

ROLES = ("admin1", "cmid", "cmain", "aud", "itguy")


def visible_ids(client) -> set[str]:
    r = client.get("/api/incidents?limit=500")
    assert r.status_code == 200, r.json
    return {i["id"] for i in r.json["items"]}


# ------------------------------------------------------------------ who sees what
@pytest.mark.parametrize("user, expected", [
    ("admin1", {"mid_threat", "mid_bully", "main_bully", "bypass"}),
    ("cmid", {"mid_threat", "mid_bully"}),
    ("cmain", {"main_bully"}),
    ("itguy", {"bypass"}),
])
def test_each_role_lists_exactly_its_incidents(env, user, expected):
    assert visible_ids(env.client(user)) == {env.ids[k] for k in expected}


def test_list_items_have_the_contract_fields_and_never_text(env):
    items = env.client("admin1").get("/api/incidents").json["items"]
    for item in items:
        assert set(item) == {"id", "created", "user", "platform", "kind", "labels", "severity", "guidelines",
                             "status", "school", "assignee"}
    # critical first
    assert items[0]["severity"] == "critical"


def test_auditor_gets_no_incident_and_no_text_anywhere(env):
    c = env.client("aud")
    answers = [c.get("/api/incidents"), c.get(f"/api/incidents/{env.ids['mid_threat']}"),
               c.post(f"/api/incidents/{env.ids['mid_threat']}/actions", json={"action": "close"},
                      headers={"X-CSRF-Token": c.csrf}),
               c.get("/queue"), c.get(f"/incidents/{env.ids['mid_threat']}"), c.get("/export.csv"),
               c.get("/api/audit"), c.get("/audit"), c.get("/", follow_redirects=True)]
    assert [a.status_code for a in answers[:3]] == [403, 403, 403]
    assert [a.status_code for a in answers[3:6]] == [404, 404, 404]
    assert answers[6].status_code == 200 and answers[7].status_code == 200
    # After admins and counselors have read texts, the audit trail still carries none of it.
    env.client("admin1").get(f"/api/incidents/{env.ids['mid_threat']}")
    env.client("cmid").post(f"/api/incidents/{env.ids['mid_bully']}/actions",
                            json={"action": "note", "note": "quoted: nobody likes you"})
    answers += [c.get("/api/audit?limit=1000"), c.get("/audit")]
    for a in answers:
        body = a.get_data(as_text=True)
        for secret in ("hurt you", "nobody likes you", "main campus secret", "bypass text", "onerror"):
            assert secret not in body


def test_it_sees_bypass_incidents_without_text(env):
    c = env.client("itguy")
    r = c.get(f"/api/incidents/{env.ids['bypass']}")
    assert r.status_code == 200 and r.json["text"] is None
    page = c.get(f"/incidents/{env.ids['bypass']}").get_data(as_text=True)
    assert "bypass text" not in page and "not shown to your role" in page
    assert c.get(f"/api/incidents/{env.ids['mid_threat']}").status_code == 404


def test_counselor_does_not_see_bypass_incidents_of_their_school(env):
    c = env.client("cmid")
    assert c.get(f"/api/incidents/{env.ids['bypass']}").status_code == 404


# ------------------------------------------------------------------ cross-school 404, audited
def test_other_schools_incident_answers_like_a_missing_one_and_is_audited(env):
    c = env.client("cmid")
    other = c.get(f"/api/incidents/{env.ids['main_bully']}")
    missing = c.get("/api/incidents/inc-doesnotexist0000")
    assert other.status_code == missing.status_code == 404
    assert other.json == missing.json
    assert "main campus secret" not in other.get_data(as_text=True)
    page_other, page_missing = c.get(f"/incidents/{env.ids['main_bully']}"), c.get("/incidents/inc-nope")
    assert page_other.status_code == page_missing.status_code == 404
    assert page_other.data == page_missing.data
    act = c.post(f"/api/incidents/{env.ids['main_bully']}/actions", json={"action": "close"},
                 headers={"X-CSRF-Token": c.csrf})
    assert act.status_code == 404
    assert env.store.incident(env.ids["main_bully"]).status == "open"
    denied = env.audit("incident.denied")
    assert [(e["actor"], e["target"]) for e in denied] == [("cmid", env.ids["main_bully"])] * 3
    assert {e["detail"]["purpose"] for e in denied} == {"read", "action:close"}
    # the missing id is not a denial (nothing was there to protect)
    assert all(e["target"] != "inc-doesnotexist0000" for e in denied)


# ------------------------------------------------------------------ hostile text is inert
def test_hostile_post_text_is_shown_inert(env):
    c = env.client("cmid")
    page = c.get(f"/incidents/{env.ids['mid_threat']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    assert "&lt;a href=&#34;javascript:alert(3)&#34;&gt;" in html
    # the evidence span is highlighted (the only <mark> in the post)
    assert re.search(r'<mark class="ev ev-threat" title="threat">hurt you</mark>', html)
    # and no script could run even if escaping failed
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    # JSON returns the text as data, exactly
    assert c.get(f"/api/incidents/{env.ids['mid_threat']}").json["text"] == HOSTILE


# ------------------------------------------------------------------ actions
def test_every_action_changes_status_writes_history_and_audit(env):
    c = env.client("cmid")
    iid = env.ids["mid_threat"]
    h = {"X-CSRF-Token": c.csrf}
    steps = [({"action": "assign", "assignee": "cmid"}, "reviewing", "cmid"),
             ({"action": "note", "note": "Spoke with the student."}, "reviewing", "cmid"),
             ({"action": "escalate", "note": "principal informed"}, "escalated", "cmid"),
             ({"action": "close"}, "closed", "cmid"),
             ({"action": "reopen"}, "reviewing", "cmid"),
             ({"action": "dismiss", "note": "a song lyric"}, "dismissed", "cmid")]
    for body, status, assignee in steps:
        r = c.post(f"/api/incidents/{iid}/actions", json=body, headers=h)
        assert r.status_code == 200, r.json
        assert r.json["status"] == status and r.json["assignee"] == assignee
    hist = r.json["history"]
    assert [x["action"] for x in hist] == ["assign", "note", "escalate", "close", "reopen", "dismiss"]
    assert all(x["actor"] == "cmid" for x in hist)
    assert hist[1]["detail"]["note"] == "Spoke with the student."
    audited = [e for e in env.audit() if e["action"].startswith("incident.") and e["target"] == iid
               and e["action"] not in ("incident.view",)]
    assert [e["action"] for e in audited] == ["incident." + s[0]["action"] for s in steps]
    assert all("note" not in e["detail"] for e in audited)  # note words stay out of the audit trail
    assert env.store.verify_audit() == []


@pytest.mark.parametrize("body, code", [
    ({"action": "close"}, 200),
    ({"action": "reopen"}, 409),                       # not closed
    ({"action": "assign"}, 409),                       # no assignee
    ({"action": "assign", "assignee": "cmain"}, 409),  # counselor of another school
    ({"action": "assign", "assignee": "aud"}, 409),    # an auditor cannot handle incidents
    ({"action": "assign", "assignee": "nobody"}, 409),
    ({"action": "note"}, 409),                         # a note needs words
    ({"action": "fly"}, 400),
    ({"note": "x"}, 400),
    ({"action": "note", "note": 5}, 400),
])
def test_action_validation(env, body, code):
    c = env.client("cmid")
    r = c.post(f"/api/incidents/{env.ids['mid_bully']}/actions", json=body, headers={"X-CSRF-Token": c.csrf})
    assert r.status_code == code, r.json


def test_closed_incident_refuses_close_and_dismiss(env):
    c = env.client("admin1")
    h = {"X-CSRF-Token": c.csrf}
    assert c.post(f"/api/incidents/{env.ids['mid_bully']}/actions", json={"action": "close"}, headers=h).status_code == 200
    for action in ("close", "dismiss", "escalate", "assign"):
        assert c.post(f"/api/incidents/{env.ids['mid_bully']}/actions", json={"action": action, "assignee": "cmid"},
                      headers=h).status_code == 409


def test_it_can_act_on_bypass_incidents(env):
    c = env.client("itguy")
    r = c.post(f"/api/incidents/{env.ids['bypass']}/actions", json={"action": "close", "note": "VPN app removed"},
               headers={"X-CSRF-Token": c.csrf})
    assert r.status_code == 200 and r.json["status"] == "closed" and r.json["text"] is None


def test_page_actions_through_forms(env):
    c = env.client()
    page = c.get("/login").get_data(as_text=True)
    pre = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"csrf": pre, "username": "cmid", "password": PASSWORD, "next": "/queue"})
    assert r.status_code == 302 and r.headers["Location"] == "/queue"
    queue = c.get("/queue").get_data(as_text=True)
    assert "unacknowledged critical" in queue and "waiting <strong>42 min</strong>" in queue
    iid = env.ids["mid_threat"]
    page = c.get(f"/incidents/{iid}").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert "Student guideline 9" in page or "Student guideline 6" in page
    r = c.post(f"/incidents/{iid}/actions", data={"csrf": token, "action": "note", "note": "Called home."})
    assert r.status_code == 303
    r = c.post(f"/incidents/{iid}/actions", data={"csrf": token, "action": "close"})
    assert r.status_code == 303
    page = c.get(f"/incidents/{iid}").get_data(as_text=True)
    assert 'id="status">closed<' in page and "Called home." in page
    assert "unacknowledged critical" not in c.get("/queue").get_data(as_text=True)


# ------------------------------------------------------------------ CSRF
def test_posts_without_csrf_are_refused(env):
    c = env.client("cmid")
    iid = env.ids["mid_bully"]
    assert c.post(f"/api/incidents/{iid}/actions", json={"action": "close"}).status_code == 403
    assert c.post(f"/api/incidents/{iid}/actions", json={"action": "close"},
                  headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert c.post(f"/incidents/{iid}/actions", data={"action": "close"}).status_code == 403
    assert c.post(f"/incidents/{iid}/actions", data={"action": "close", "csrf": "forged"}).status_code == 403
    assert c.post("/api/logout").status_code == 403
    assert c.post("/logout", data={}).status_code == 403
    assert env.store.incident(iid).status == "open"
    # the sign-in form needs its pre-session token too
    c2 = env.client()
    assert c2.post("/login", data={"username": "cmid", "password": PASSWORD}).status_code == 403
    # and the API sign-in takes JSON only (a cross-site form cannot send it)
    assert c2.post("/api/login", data={"username": "cmid", "password": PASSWORD}).status_code == 400


def test_token_of_one_session_does_not_work_in_another(env):
    a, b = env.client("cmid"), env.client("cmid")
    r = b.post(f"/api/incidents/{env.ids['mid_bully']}/actions", json={"action": "close"},
               headers={"X-CSRF-Token": a.csrf})
    assert r.status_code == 403


# ------------------------------------------------------------------ sign-in, throttle, sessions
def test_logins_failures_and_logouts_are_audited(env):
    c = env.client()
    assert c.post("/api/login", json={"username": "cmid", "password": "wrong password"}).status_code == 401
    assert c.post("/api/login", json={"username": "ghost", "password": "wrong password"}).status_code == 401
    r = c.post("/api/login", json={"username": "cmid", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.post("/api/logout", headers={"X-CSRF-Token": r.json["csrf"]}).status_code == 200
    assert c.get("/api/incidents").status_code == 401
    actions = [(e["action"], e["target"]) for e in env.audit() if e["action"].startswith("review.")]
    assert actions == [("review.login_failed", "cmid"), ("review.login_failed", "ghost"),
                       ("review.login", "cmid"), ("review.logout", "cmid")]


def test_throttled_logins_per_account_and_per_address(tmp_path):
    clock = [1000.0]
    throttle = LoginThrottle(ThrottleRule(3, 900, 600), ThrottleRule(6, 900, 600), clock=lambda: clock[0])
    env = build_env(tmp_path / "home", throttle=throttle)
    c = env.client()
    for _ in range(3):
        assert c.post("/api/login", json={"username": "cmid", "password": "bad guess!!"}).status_code == 401
    # locked: even the right password is refused, with a Retry-After
    r = c.post("/api/login", json={"username": "cmid", "password": PASSWORD})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 600
    # another account from the same address still works until the address bound
    assert c.post("/api/login", json={"username": "cmain", "password": PASSWORD}).status_code == 200
    for name in ("a", "b", "c"):
        c.post("/api/login", json={"username": name, "password": "bad guess!!"})
    assert c.post("/api/login", json={"username": "admin1", "password": PASSWORD}).status_code == 429
    # another address is not locked out for the account that is not locked
    other = env.app.test_client()
    r = other.post("/api/login", json={"username": "admin1", "password": PASSWORD},
                   environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert r.status_code == 200
    # ... but the locked account stays locked from every address
    r = other.post("/api/login", json={"username": "cmid", "password": PASSWORD},
                   environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert r.status_code == 429
    clock[0] += 601
    assert c.post("/api/login", json={"username": "cmid", "password": PASSWORD}).status_code == 200
    assert len(env.audit("review.login_throttled")) == 3
    env.store.close()


def test_idle_session_expires_and_disabled_account_is_signed_out(env):
    c = env.client("cmid")
    sessions = env.app.extensions["crossingguard_review"].sessions
    assert c.get("/api/incidents").status_code == 200
    sessions.clock = lambda: __import__("time").monotonic() + 31 * 60
    assert c.get("/api/incidents").status_code == 401
    sessions.clock = __import__("time").monotonic
    c = env.client("cmid")
    env.store.set_account("cmid", disabled=True, actor="test")
    assert c.get("/api/incidents").status_code == 401
    assert env.client().post("/api/login", json={"username": "cmid", "password": PASSWORD}).status_code == 401


def test_unsigned_or_forged_cookie_is_not_a_session(env):
    c = env.app.test_client()
    c.set_cookie("cg_review", "eyJzaWQiOiJ4In0.forged.signature")
    assert c.get("/api/incidents").status_code == 401
    assert c.get("/queue").status_code == 302


def test_sign_in_redirect_stays_on_this_site(env):
    c = env.client()
    page = c.get("/login?next=//evil.example/x").get_data(as_text=True)
    assert "evil.example" not in page


# ------------------------------------------------------------------ export, audit page
def test_csv_export_is_filtered_scoped_and_audited(env):
    c = env.client("cmid")
    r = c.get("/export.csv?category=threat")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines = r.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("id,created,school,user")
    assert len(lines) == 2 and env.ids["mid_threat"] in lines[1]
    assert "hurt you" not in r.get_data(as_text=True)
    all_rows = c.get("/export.csv").get_data(as_text=True)
    assert env.ids["main_bully"] not in all_rows
    exports = env.audit("incidents.export")
    assert exports[0]["actor"] == "cmid" and exports[0]["detail"]["count"] == 1
    assert exports[0]["detail"]["filters"] == {"category": "threat"}


def test_audit_page_shows_whether_the_chain_verifies(env):
    c = env.client("aud")
    assert "The hash chain verifies" in c.get("/audit").get_data(as_text=True)
    import sqlite3
    conn = sqlite3.connect(env.store.dialect.path)
    conn.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    conn.commit()
    conn.close()
    assert "The hash chain verifies" in c.get("/audit").get_data(as_text=True)   # the last check, kept
    page = c.get("/audit?verify=now").get_data(as_text=True)
    assert "does NOT verify" in page and "audit seq 2" in page
    assert "does NOT verify" in c.get("/audit").get_data(as_text=True)


def test_api_audit_filters(env):
    env.client("cmid").get(f"/api/incidents/{env.ids['mid_threat']}")
    c = env.client("aud")
    items = c.get("/api/audit?actor=cmid").json["items"]
    assert items and all(i["actor"] == "cmid" for i in items)
    assert {"incident.view", "review.login"} <= {i["action"] for i in items}
    assert c.get("/api/audit?since=not-a-date").status_code == 400
    assert env.client("cmid").get("/api/audit").status_code == 403


def test_reads_are_audited(env):
    c = env.client("cmid")
    c.get(f"/api/incidents/{env.ids['mid_threat']}")
    c.get(f"/incidents/{env.ids['mid_bully']}")
    views = [(e["actor"], e["target"]) for e in env.audit("incident.view")]
    assert views == [("cmid", env.ids["mid_threat"]), ("cmid", env.ids["mid_bully"])]


@pytest.mark.parametrize("query", ["status=bogus", "severity=x", "category=spam", "since=yesterday",
                                   "limit=0", "limit=abc", "cursor=garbage"])
def test_bad_filters_are_400_with_a_message(env, query):
    r = env.client("admin1").get("/api/incidents?" + query)
    assert r.status_code == 400 and r.json["error"]


def test_unknown_api_path_is_json_404(env):
    r = env.client("admin1").get("/api/nothing")
    assert r.status_code == 404 and r.json == {"error": "Not found."}


def test_bypass_incident_page_shows_its_network_evidence(env):
    from agent.store import Incident
    inc = Incident.new(user="stu-1001", platform="tiktok", kind="bypass", text="", labels=("vpn",),
                       evidence=({"reason": "vpn", "protocol": "tls", "name": "vpn.example", "src": "10.0.0.5"},),
                       severity="high", guidelines=("student.preamble",), school="org-mid")
    env.store.add_incident(inc)
    page = env.client("itguy").get(f"/incidents/{inc.id}").get_data(as_text=True)
    assert "name: vpn.example" in page and "protocol: tls" in page


def test_audit_page_pages_back_through_older_entries(env):
    for i in range(230):
        env.store.audit("test", "filler", f"t{i}")
    c = env.client("aud")
    first = c.get("/audit").get_data(as_text=True)
    older = re.search(r'href="(/audit\?before=\d+)" id="older"', first).group(1)
    second = c.get(older.replace("&amp;", "&")).get_data(as_text=True)
    seqs = lambda html: [int(x) for x in re.findall(r"<tr><td>(\d+)</td>", html)]  # noqa: E731
    a, b = seqs(first), seqs(second)
    assert len(a) == 200 and b and max(b) == min(a) - 1 and b == sorted(b, reverse=True)
    assert c.get("/audit?before=abc").status_code == 400


@pytest.mark.parametrize("device, identified_by, shown", [
    ("cart-ipad-07", "device", "cart-ipad-07; student identified by the device registry (the device&#39;s address)"),
    ("127.0.0.99", "unknown", "127.0.0.99; student not identified (the device is not registered and nobody signed in)"),
    ("lab-pc-3", "auth", "lab-pc-3; student identified by their proxy sign-in"),
])
def test_incident_says_which_device_and_how_the_student_was_known(env, device, identified_by, shown):
    from agent.store import Incident
    inc = Incident.new(user="stu-1001", platform="instagram", kind="comment", text="you are a loser",
                       labels=("bullying",), severity="high", guidelines=("student.9",), school="org-mid",
                       device=device, identified_by=identified_by)
    env.store.add_incident(inc)
    c = env.client("cmid")
    page = c.get(f"/incidents/{inc.id}").get_data(as_text=True)
    assert re.search(r'<dd id="posted-from">([^<]*)</dd>', page).group(1) == shown
    detail = c.get(f"/api/incidents/{inc.id}").json
    assert (detail["device"], detail["identified_by"]) == (device, identified_by)
    assert "device" not in c.get("/api/incidents").json["items"][0]     # the list keeps its contract keys
