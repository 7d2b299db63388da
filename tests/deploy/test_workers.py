"""`crossingguard run --workers 2`: two real proxy processes behind one port, sharing --home.

A few hundred requests from four device addresses (an 11-year-old, a 15-year-old posting inside a
teacher session, a teacher, an unknown device) go through the ONE listen port, including flagged
bullying comments; one worker is SIGKILLed mid-run and the supervisor restarts it while the other
keeps serving. Afterwards: every answered request is in the activity log exactly once (across the
two workers' chains), every flagged post that was answered has exactly one incident, verify-log
is clean, both workers' metrics were scraped and show traffic, and a SIGHUP reload reached both.

Store: SQLite in WAL mode under --home (the embedded default) with two writer processes, and
PostgreSQL (a throw-away cluster on 127.0.0.1, tests/support/postgres.py) for districts that run
several boxes; the PostgreSQL case is skipped, saying why, when no cluster can be started here.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support import (ConnectForwarder, CrossingGuardProcess, LocalOrigin, make_pki, proxied_client,
                           write_devices, write_test_roster)
from tests.support.scrape import scrape

pytestmark = pytest.mark.e2e

YOUNG, TEEN, TEACHER, UNKNOWN = "127.0.0.31", "127.0.0.32", "127.0.0.33", "127.0.0.39"
COMMENT_URL = "https://www.youtube.com/youtubei/v1/comment/create_comment"
BULLY = "you are so ugly and stupid, nobody at this school likes you, loser"


def comment(text: str) -> dict:
    return {"context": {"client": {"clientName": "WEB", "clientVersion": "2.20261101"}},
            "createCommentParams": "Eg0SC2FiY2RlZmdoaWpr", "commentText": text}


class Workers(CrossingGuardProcess):
    """`crossingguard run --workers N` (the supervisor) as a managed subprocess."""

    def __init__(self, home: Path, workers: int, metrics_port: int, **kw):
        super().__init__(home, metrics_port=metrics_port, **kw)
        cut = self.argv.index("--") if "--" in self.argv else len(self.argv)
        self.argv[cut:cut] = ["--workers", str(workers)]
        self.metrics_ports = [metrics_port + i for i in range(workers)]

    def worker_pids(self) -> list[int]:
        """The supervisor's live children (the workers), from /proc."""
        pid = self.proc.pid
        out = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                pass
        return sorted(out)


def metrics_base() -> int:
    """Two consecutive free ports (worker I serves base+I), below the kernel's ephemeral range
    for the reason `free_port` gives."""
    import socket

    from tests.support.proxy import free_port
    for _ in range(50):
        base = free_port()
        try:
            with socket.socket() as b:
                b.bind(("127.0.0.1", base + 1))
                return base
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


def wait_until(fn, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def activity_lines(home: Path) -> list[dict]:
    out = []
    for f in sorted((home / "activity").rglob("activity-*.jsonl")):
        out += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("workers")
    pki = make_pki(base / "pki")
    roster = write_test_roster(base / "roster")
    devices = write_devices(base / "devices.csv", [
        ("dev-young", roster.young, YOUNG, ""), ("dev-teen", roster.teen, TEEN, ""),
        ("dev-teacher", roster.teacher, TEACHER, "")])
    origin = LocalOrigin(pki.leaf_cert, pki.leaf_key).start()
    forwarder = ConnectForwarder(origin.https_port, origin.http_port).start()
    try:
        yield base, roster, devices, forwarder
    finally:
        forwarder.stop()
        origin.stop()


def start_workers(home: Path, setup, policy: Path | None = None, workers: int = 2) -> Workers:
    base, roster, devices, forwarder = setup
    return Workers(home, workers, metrics_base(), roster=roster.directory, devices=devices, policy=policy,
                   mitm_args=["--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true",
                              "--set", "crossingguard_session_refresh_ms=500"],
                   start_timeout=90)


class Load:
    """Requests with unique paths/texts; a failed attempt (the worker died under it) is retried
    with a NEW unique id, as a browser would resend, so every answered attempt can be found."""

    def __init__(self, proxy: Workers):
        self.proxy = proxy
        self.lock = threading.Lock()
        self.answered: dict[str, tuple[int, float]] = {}    # unique id -> (status, time answered)
        self.failed: list[str] = []
        self.posts_answered: dict[str, str] = {}            # post text -> unique id
        self._n = 0

    def _next(self) -> int:
        with self.lock:
            self._n += 1
            return self._n

    def one(self, kind: str, i: int) -> None:
        for attempt in range(6):
            uid = f"r{i}a{attempt}"
            ip = {"young": YOUNG, "teen": TEEN, "post": TEEN, "teacher": TEACHER, "unknown": UNKNOWN}[kind]
            try:
                with proxied_client(self.proxy.url, self.proxy.ca_file, source_ip=ip, timeout=30) as c:
                    if kind == "post":
                        text = f"{BULLY} ({uid})"
                        r = c.post(COMMENT_URL, json=comment(text))
                        assert r.status_code == 200, (r.status_code, r.text[:300])
                        with self.lock:
                            self.posts_answered[text] = uid
                    else:
                        host = {"young": "www.instagram.com", "teen": "www.youtube.com",
                                "teacher": "www.instagram.com", "unknown": "www.tiktok.com"}[kind]
                        r = c.get(f"https://{host}/cg/{uid}", headers={"Accept": "application/json"})
                    with self.lock:
                        self.answered[uid] = (r.status_code, time.monotonic())
                    return
            except (httpx.TransportError, httpx.ProxyError):
                with self.lock:
                    self.failed.append(uid)
                time.sleep(0.2)
        raise AssertionError(f"request {i} ({kind}) failed 6 times")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request):
    if request.param == "sqlite":
        yield None
        return
    from tests.support.postgres import PostgresCluster, postgres_unavailable
    why = postgres_unavailable()
    if why:
        pytest.skip(why)
    with PostgresCluster() as pg:
        yield pg.create_database("workers")


def test_two_workers_one_port_shared_home(setup, tmp_path, store_url):
    base, roster, devices, forwarder = setup
    home = tmp_path / "home"
    from agent.context import DEFAULT_POLICY
    policy = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY.read_text()
    # The load includes the teacher's device by address (allowed on Instagram): this test is about
    # workers, not identity, so it trusts addresses for staff (security.staff_requires_proxy_auth
    # is on in the shipped policy and tested through the proxy in tests/e2e).
    assert "staff_requires_proxy_auth: true" in text
    text = text.replace("staff_requires_proxy_auth: true", "staff_requires_proxy_auth: false")
    if store_url:
        assert "\nstore:" not in text
        text += f"\nstore:\n  url: {store_url}\n"
    policy.write_text(text)
    with start_workers(home, setup, policy=policy) as proxy:
        pids = wait_until(lambda: len(proxy.worker_pids()) == 2 and proxy.worker_pids(), 30, "two workers")
        for port in proxy.metrics_ports:          # both workers up and serving their own /metrics
            scrape(port, wait=60)
            assert healthz(port) == (200, "ok\n")   # the probe Kubernetes and compose use
        opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                           "--platform", "youtube", "--minutes", "30")
        assert opened.returncode == 0, opened.stderr

        # Wait until every worker sees the session (sessions come from the shared store): posting is
        # allowed on each worker's connection, so several tries over fresh connections.
        def teen_can_post():
            ok = 0
            for _ in range(6):
                with proxied_client(proxy.url, proxy.ca_file, source_ip=TEEN) as c:
                    ok += c.post(COMMENT_URL, json=comment("thanks for the great video")).status_code == 200
            return ok == 6
        wait_until(teen_can_post, 90, "the teacher session in both workers")

        load = Load(proxy)
        kinds = ["young", "teen", "teacher", "unknown", "post"] * 60          # 300 requests, 60 posts
        killed_at = []

        def killer():
            wait_until(lambda: len(load.answered) >= 90, 120, "a third of the load")
            victim = proxy.worker_pids()[-1]
            killed_at.append((victim, time.monotonic()))
            os.kill(victim, signal.SIGKILL)

        k = threading.Thread(target=killer)
        k.start()
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda a: load.one(*a), [(kind, i) for i, kind in enumerate(kinds)]))
        k.join()
        assert killed_at, "the killer thread did not run"
        victim, kill_time = killed_at[0]

        # The supervisor restarted the dead worker; the other one never stopped.
        new = wait_until(lambda: len(proxy.worker_pids()) == 2 and victim not in proxy.worker_pids()
                         and proxy.worker_pids(), 60, "the worker restarted")
        assert set(pids) - {victim} <= set(new), "the surviving worker was replaced too"
        assert "restarting" in proxy.output()
        assert len(load.answered) == len(kinds), "not every request was eventually answered"

        statuses = {uid: s for uid, (s, _) in load.answered.items()}
        # Judged like a single process: blocks for the 11-year-old and the unknown device.
        assert {statuses[u] for u in statuses if int(u[1:].split("a")[0]) % 5 == 0} == {403}
        assert {statuses[u] for u in statuses if int(u[1:].split("a")[0]) % 5 == 3} == {403}
        assert {statuses[u] for u in statuses if int(u[1:].split("a")[0]) % 5 in (1, 2, 4)} == {200}

        # Both workers' metrics scraped; the survivor served traffic (the restarted one counts anew).
        per_worker = [scrape(p, wait=60).value("crossingguard_requests_total") for p in proxy.metrics_ports]
        survivor = 0 if victim == pids[-1] and pids[0] in new else None
        assert survivor is not None and per_worker[0] > 0, per_worker

        # A policy reload reaches every worker: edit the policy file, SIGHUP the supervisor, and
        # both workers export the new file's hash.
        old_hash = {p: build_hash(scrape(p)) for p in proxy.metrics_ports}
        assert set(old_hash.values()) == {sha16(policy)}
        policy.write_text(policy.read_text() + "\n# reloaded by the workers test\n")
        proxy.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: all(build_hash(scrape(p)) == sha16(policy) for p in proxy.metrics_ports),
                   30, "both workers to export the reloaded policy's hash")
        assert proxy.alive() and len(proxy.worker_pids()) == 2

    # Stopped cleanly (SIGINT to the supervisor: workers flush their logs).
    assert proxy.returncode == 0, proxy.output()[-3000:]

    lines = activity_lines(home)
    paths = [ln.get("path", "") for ln in lines]
    seen = {}
    for p in paths:
        m = re.fullmatch(r"/cg/(r\d+a\d+)", p)
        if m:
            seen[m.group(1)] = seen.get(m.group(1), 0) + 1
    assert all(n == 1 for n in seen.values()), {u: n for u, n in seen.items() if n > 1}
    gets = {u: t for u, (s, t) in load.answered.items() if u in load.answered and not _is_post(load, u)}
    # A SIGKILLed worker loses what it had not yet handed to its log writer (the 0.1 s group-commit
    # window plus one fsync); everything answered outside that window must be there.
    window = (kill_time - 1.0, kill_time)
    must = {u for u, t in gets.items() if not window[0] <= t <= window[1]}
    missing = must - set(seen)
    assert not missing, f"{len(missing)} answered requests are not in the activity log: {sorted(missing)[:10]}"
    lost_in_window = {u for u, t in gets.items() if window[0] <= t <= window[1]} - set(seen)
    print(f"\nworkers: {len(gets)} logged requests, {len(load.failed)} attempts cut by the kill, "
          f"{len(lost_in_window)} lines lost in the kill window; requests per worker {per_worker}")

    # Both chains are there and the whole log verifies.
    chains = sorted(p.name for p in (home / "activity").iterdir() if p.is_dir())
    assert chains == ["worker-0", "worker-1"]
    per_chain = {c: sum(1 for f in (home / "activity" / c).glob("activity-*.jsonl")
                        for _ in f.read_text().splitlines()) for c in chains}
    print(f"activity lines per worker chain: {per_chain}")
    assert all(per_chain.values()), f"a worker wrote nothing: {per_chain}"   # the port spread the load
    v = proxy.cli("verify-log")
    assert v.returncode == 0, v.stdout + v.stderr
    summary = json.loads(v.stdout.splitlines()[-1])
    assert summary["ok"] and [c["chain"] for c in summary["chains"]] == ["", "worker-0", "worker-1"]
    assert summary["lines"] == len(lines)

    # Every answered flagged post has exactly one incident (written before the post was answered).
    out = proxy.cli("incidents", "list", "--with-text")
    assert out.returncode == 0, out.stderr
    incidents = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    texts = [i["text"] for i in incidents if i.get("text", "").startswith(BULLY)]
    for text in load.posts_answered:
        assert texts.count(text) == 1, (text, texts.count(text))
    assert len(set(texts)) == len(texts), "an incident was written twice"
    # ...written by both workers: a request id starts with its process's random prefix.
    from agent.store import open_store
    with open_store(store_url, home) as store:
        prefixes = {i.request_id[:8] for i in store.incidents() if i.text in load.posts_answered}
    assert len(prefixes) >= 2, f"all incidents came from one process: {prefixes}"

    if store_url:
        return
    # SQLite under --home in WAL mode (two processes wrote to it).
    db = sqlite3.connect(home / "crossingguard.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def _is_post(load: Load, uid: str) -> bool:
    return uid in load.posts_answered.values()


def healthz(port: int) -> tuple[int, str]:
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
        return r.status, r.read().decode()


def sha16(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def build_hash(s) -> str:
    for (name, key), _ in s.values.items():
        if name == "crossingguard_build_info":
            return dict(key).get("policy_hash", "")
    return ""
