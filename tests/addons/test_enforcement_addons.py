"""Identity, Enforce, SafeSearch and Activity addons, driven with taddons and tflow."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from mitmproxy.test import tflow

from agent.metrics import BLOCKS, COUNTERS, IDENTITY, REQUESTS
from agent.policy import TeacherSession
from proxy_addons.verdict import KEY
from tests.addons.conftest import TEACHER_IP, TEACHER_USER, TEEN_IP, UNKNOWN_IP, YOUNG_IP, make_flow


def test_identity_from_device_registry_and_unknown(stack, district):
    _, roster, _ = district
    f = stack.send(make_flow(YOUNG_IP, "www.youtubekids.com"))
    v = f.metadata[KEY]
    assert (v.identity.user_id, v.identity.source, v.identity.device) == (roster.young, "device", "dev-young")
    assert v.subject.age == 11
    f = stack.send(make_flow(UNKNOWN_IP, "www.youtubekids.com"))
    assert f.metadata[KEY].identity.user_id == "unknown"
    assert f.metadata[KEY].identity.device == UNKNOWN_IP


def test_identity_from_proxy_auth_wins_over_the_address(stack, district):
    _, roster, _ = district
    f = make_flow(UNKNOWN_IP, "www.youtube.com")
    f.metadata["proxyauth"] = ("teen.student", "pw")
    stack.send(f)
    assert f.metadata[KEY].identity.user_id == roster.teen
    assert f.metadata[KEY].identity.source == "auth"


def test_identity_is_resolved_once_per_connection(stack):
    calls = []
    real = stack.state.resolver.resolve

    class Counting:
        def resolve(self, **kw):
            calls.append(kw)
            return real(**kw)

    object.__setattr__(stack.state, "resolver", Counting())
    before = COUNTERS.values[(IDENTITY, ("device",))]
    first = make_flow(TEEN_IP, "www.youtube.com")
    stack.send(first)
    second = tflow.tflow(client_conn=first.client_conn, req=make_flow(TEEN_IP, "www.youtube.com").request)
    stack.send(second)
    assert len(calls) == 1
    assert COUNTERS.values[(IDENTITY, ("device",))] == before + 1
    assert second.metadata[KEY].identity == first.metadata[KEY].identity


def test_young_student_is_blocked_with_a_page(stack):
    before = COUNTERS.values[(BLOCKS, ("instagram", "student.preamble"))]
    f = stack.send(make_flow(YOUNG_IP, "www.instagram.com", headers={"Accept": "text/html"}))
    assert f.response.status_code == 403
    page = f.response.get_text()
    v = f.metadata[KEY]
    assert v.decision.verdict == "block"
    assert stack.state.policy.district_name.replace("&", "&amp;") in page
    assert "Instagram" in page and v.decision.guideline in page and v.request_id in page
    assert COUNTERS.values[(BLOCKS, ("instagram", v.decision.guideline))] >= before + 1


def test_json_clients_get_json(stack):
    f = stack.send(make_flow(YOUNG_IP, "i.instagram.com", headers={"Accept": "application/json"}))
    body = json.loads(f.response.content)
    assert f.response.status_code == 403 and body["platform"] == "instagram"
    assert body["request_id"] == f.metadata[KEY].request_id


def test_kids_platform_is_allowed_for_the_young_student(stack):
    before = sum(n for (name, labels), n in COUNTERS.values.items() if name == REQUESTS and labels[0] == "youtube_kids")
    f = stack.send(make_flow(YOUNG_IP, "www.youtubekids.com"))
    assert f.response is None and f.metadata[KEY].decision.verdict == "allow"
    after = sum(n for (name, labels), n in COUNTERS.values.items() if name == REQUESTS and labels[0] == "youtube_kids")
    assert after == before + 1


@pytest.mark.parametrize("method,blocked", [("GET", False), ("HEAD", False), ("OPTIONS", False),
                                            ("POST", True), ("PUT", True), ("DELETE", True), ("PATCH", True)])
def test_read_only_outside_a_session(stack, method, blocked):
    f = stack.send(make_flow(TEEN_IP, "www.youtube.com", method=method, path="/comment"))
    assert (f.response is not None and f.response.status_code == 403) is blocked
    assert f.metadata[KEY].decision.action == "read_only"


def test_teacher_session_allows_posting_for_the_class(stack, district):
    _, roster, _ = district
    now = datetime.now(timezone.utc)
    stack.sessions.snapshot = (TeacherSession("s-1", roster.teacher, roster.class_id, "youtube",
                                              now - timedelta(minutes=1), now + timedelta(minutes=30)),)
    f = stack.send(make_flow(TEEN_IP, "www.youtube.com", method="POST", path="/comment"))
    assert f.response is None
    assert f.metadata[KEY].decision.session == "s-1"
    # an expired session in the snapshot does not count
    stack.sessions.snapshot = (TeacherSession("s-2", roster.teacher, roster.class_id, "youtube",
                                              now - timedelta(hours=2), now - timedelta(hours=1)),)
    f = stack.send(make_flow(TEEN_IP, "www.youtube.com", method="POST", path="/comment"))
    assert f.response.status_code == 403


@pytest.mark.parametrize("ip,host,path,expect", [
    (TEEN_IP, "www.youtube.com", "/watch?v=1", ("header", "Strict")),
    (TEEN_IP, "m.youtube.com", "/", ("header", "Strict")),
    (TEEN_IP, "www.google.com", "/search?q=x", ("query", "safe", "active")),
    (TEEN_IP, "www.google.co.uk", "/search?q=x", ("query", "safe", "active")),
    (TEEN_IP, "www.bing.com", "/search?q=x", ("query", "adlt", "strict")),
    (TEEN_IP, "www.google.com", "/maps", None),
    (TEACHER_IP, "www.youtube.com", "/watch?v=1", None),
    (TEACHER_IP, "www.google.com", "/search?q=x", None),
])
def test_safesearch(stack, ip, host, path, expect):
    f = stack.send(make_flow(ip, host, path=path, auth=TEACHER_USER if ip == TEACHER_IP else None))
    assert f.response is None
    if expect is None:
        assert "YouTube-Restrict" not in f.request.headers
        assert "safe" not in f.request.query and "adlt" not in f.request.query
    elif expect[0] == "header":
        assert f.request.headers["YouTube-Restrict"] == expect[1]
    else:
        assert f.request.query[expect[1]] == expect[2]
        assert f.request.query["q"] == "x"


def test_activity_records_catalog_requests_only_without_query(stack, district):
    _, roster, _ = district
    stack.send(make_flow(YOUNG_IP, "www.instagram.com", path="/p/abc?igsh=secret"))
    stack.send(make_flow(TEEN_IP, "www.example.org", path="/news"))
    stack.send(make_flow(TEEN_IP, "www.youtube.com", method="POST", path="/c?x=1"))
    stack.activity.done()
    lines = [json.loads(line) for f in sorted((stack.state.home / "activity").glob("*.jsonl"))
             for line in f.read_text().splitlines()]
    assert [(r["user"], r["host"], r["method"], r["path"], r["verdict"]) for r in lines] == [
        (roster.young, "www.instagram.com", "GET", "/p/abc", "block"),
        (roster.teen, "www.youtube.com", "POST", "/c", "block"),
    ]
    assert all(r["school"] == roster.school and r["rule"] and r["guideline"] for r in lines)
    assert "secret" not in json.dumps(lines)


def test_activity_hands_records_over_in_bursts_on_the_event_loop(stack, district, monkeypatch):
    """durability: async - on the loop, records wait up to FLUSH_INTERVAL and reach the log together."""
    import asyncio

    from proxy_addons.activity import FLUSH_INTERVAL
    _, roster, _ = district
    monkeypatch.setattr(stack.state.policy, "activity_durability", "async")

    async def scenario():
        for i in range(5):
            stack.send(make_flow(YOUNG_IP, "www.instagram.com", path=f"/p/{i}"))
        assert len(stack.activity._buffer) == 5           # nothing handed over yet
        await asyncio.sleep(FLUSH_INTERVAL * 3)
        assert stack.activity._buffer == []
        stack.send(make_flow(YOUNG_IP, "www.instagram.com", path="/last"))

    asyncio.run(scenario())
    stack.activity.done()                                 # drains what is still buffered
    paths = [json.loads(line)["path"] for f in sorted((stack.state.home / "activity").glob("*.jsonl"))
             for line in f.read_text().splitlines()]
    assert paths == [f"/p/{i}" for i in range(5)] + ["/last"]


def test_activity_sync_holds_the_response_until_the_line_is_on_disk(stack):
    """durability: sync (default) - responseheaders returns an awaitable until the line is fsynced."""
    import asyncio

    from proxy_addons.activity import COMMIT_KEY

    def on_disk():
        return [json.loads(line)["path"] for f in sorted((stack.state.home / "activity").glob("*.jsonl"))
                for line in f.read_text().splitlines()]

    async def scenario():
        f = make_flow(YOUNG_IP, "www.instagram.com", path="/durable")
        stack.send(f)
        fut = f.metadata[COMMIT_KEY]
        waiting = stack.activity.responseheaders(f)
        if waiting is not None:
            await waiting
        assert fut.done() and fut.result() is True
        assert "/durable" in on_disk()        # on disk when the response may go

    asyncio.run(scenario())


@pytest.mark.parametrize("sni,host,blocked", [
    ("www.instagram.com", "www.example.org", True),    # fronted: the SNI is a blocked platform
    ("www.example.org", "www.instagram.com", True),    # the Host header is a blocked platform
    ("www.example.org", "www.example.com", False),
    ("www.youtubekids.com", "www.youtubekids.com", False),
])
def test_host_and_sni_disagreeing_are_judged_by_the_stricter(stack, sni, host, blocked):
    f = make_flow(YOUNG_IP, host)
    f.client_conn.sni = sni
    stack.send(f)
    assert (f.response is not None and f.response.status_code == 403) is blocked


def test_absolute_url_host_counts_too(stack):
    """Plain-HTTP proxying: `GET http://www.instagram.com/` with `Host: example.org` goes to Instagram."""
    f = make_flow(YOUNG_IP, "www.example.org")
    f.client_conn.sni = None
    f.request.host = "www.instagram.com"
    f.request.headers["Host"] = "www.example.org"
    stack.send(f)
    assert f.response is not None and f.response.status_code == 403


def test_a_teacher_device_without_proxy_auth_gets_student_rights(stack):
    """security.staff_requires_proxy_auth (on in the shipped policy): the address alone is not proof."""
    by_address = stack.send(make_flow(TEACHER_IP, "www.youtube.com", path="/watch?v=1"))
    young = stack.send(make_flow(YOUNG_IP, "www.youtube.com", path="/watch?v=1"))
    assert by_address.metadata[KEY].subject.role == "student"
    # student rights of unknown age: the most protective cohort, as for the 11-year-old
    assert by_address.metadata[KEY].decision.rule == young.metadata[KEY].decision.rule
    assert by_address.metadata[KEY].decision.verdict == young.metadata[KEY].decision.verdict == "block"
    post = stack.send(make_flow(TEACHER_IP, "www.instagram.com", method="POST", path="/api/v1/web/comments/1/add/",
                                content=b"comment_text=hi"))
    assert post.response is not None and post.response.status_code == 403
    proven = stack.send(make_flow(TEACHER_IP, "www.youtube.com", path="/watch?v=1", auth=TEACHER_USER))
    assert "YouTube-Restrict" not in proven.request.headers
    assert proven.metadata[KEY].subject.role == "teacher"


def test_safesearch_follows_the_policys_catalog(tmp_path, district):
    """SafeSearch keys on platform ids of the policy's catalog: a host a district adds to a search
    platform is rewritten, and is intercepted (the catalog is the only list of domains)."""
    from agent.context import AppContext
    from proxy_addons.enforce import Enforce
    from proxy_addons.identity import IdentityAddon
    from proxy_addons.passthrough import Passthrough
    from proxy_addons.safesearch import SafeSearch
    from proxy_addons.sessions import SessionCache
    from proxy_addons.state import Core, load_state
    from tests.addons.conftest import Stack

    _, roster, devices = district
    shipped = AppContext().policy_path.read_text(encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text(shipped + "\ncatalog:\n  add_domains:\n    bing: [search.district.example]\n", encoding="utf-8")
    state = load_state(AppContext(tmp_path / "home", policy, roster.directory, devices))
    core = Core(state)
    identity = IdentityAddon(core)
    sessions = SessionCache(core)
    passthrough = Passthrough(core, identity)
    stack = Stack(None, core, sessions, identity, passthrough, Enforce(core, sessions), SafeSearch(core), _NoActivity())
    f = stack.send(make_flow(TEEN_IP, "search.district.example", path="/search?q=x"))
    assert f.response is None and f.request.query["adlt"] == "strict"
    assert passthrough.should_intercept("search.district.example", f.client_conn) == (True, "intercepted")
    plain = stack.send(make_flow(TEEN_IP, "search.other.example", path="/search?q=x"))
    assert "adlt" not in plain.request.query
    assert passthrough.should_intercept("search.other.example", f.client_conn) == (False, "passthrough")


class _NoActivity:
    pass


def test_a_stalled_activity_disk_releases_responses_after_the_commit_timeout(stack):
    """The watchdog resolves a commit future the writer never resolved (a hung disk) with False,
    so the response goes out, and counts it."""
    import asyncio
    import time as _time

    from agent.metrics import ACTIVITY_COMMIT_TIMEOUTS

    async def scenario():
        fut = asyncio.get_running_loop().create_future()
        stack.activity._pending.append((_time.monotonic() - 0.01, fut, "stalled"))
        stack.activity._expire()
        assert fut.done() and fut.result() is False

    before = COUNTERS.values[(ACTIVITY_COMMIT_TIMEOUTS, ())]
    asyncio.run(scenario())
    assert COUNTERS.values[(ACTIVITY_COMMIT_TIMEOUTS, ())] == before + 1
