"""The review commands as a user runs them: `accounts`, `review` (a real server over HTTP),
`run` starting the review app beside the proxy, `export-labels`."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import time

import httpx
import pytest

from agent.context import AppContext
from tests.review.conftest import make_incident
from tests.review.servers import ReviewProcess, cli
from tests.support.proxy import crossingguard_argv, free_port, wait_for_port

PW = "a long enough password\n"


def test_accounts_add_list_disable(tmp_path):
    home = tmp_path / "home"
    r = cli(home, "accounts", "add", "ms.rivera", "--role", "counselor", "--school", "org-mid",
            "--password-stdin", stdin=PW)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {**json.loads(r.stdout), "username": "ms.rivera", "role": "counselor",
                                    "schools": ["org-mid"], "disabled": False, "password": True}
    assert cli(home, "accounts", "add", "audrey", "--role", "auditor", "--password-stdin", stdin=PW).returncode == 0
    listed = [json.loads(line) for line in cli(home, "accounts", "list").stdout.splitlines()]
    assert [a["username"] for a in listed] == ["audrey", "ms.rivera"]
    assert all("hash" not in json.dumps(a) and "argon2" not in json.dumps(a) for a in listed)
    r = cli(home, "accounts", "disable", "ms.rivera")
    assert r.returncode == 0 and json.loads(r.stdout)["disabled"] is True
    # the hash stored is argon2id, never the password
    store = AppContext(home).store
    acc = store.account("audrey")
    assert acc.password_hash.startswith("$argon2id$") and "long enough" not in acc.password_hash
    actions = [(e["action"], e["target"]) for e in store.audit_entries()]
    assert ("account.add", "ms.rivera") in actions and ("account.change", "ms.rivera") in actions
    store.close()


@pytest.mark.parametrize("args, stdin, message", [
    (["x.y", "--role", "counselor", "--password-stdin"], PW, "needs at least one --school"),
    (["x.y", "--role", "counselor", "--school", "org-nowhere", "--password-stdin"], PW, "not an org in the roster"),
    (["x.y", "--role", "admin", "--school", "org-mid", "--password-stdin"], PW, "counselors only"),
    (["x.y", "--role", "admin", "--password-stdin"], "short\n", "at least 10 characters"),
    (["x.y", "--role", "admin"], PW, "--password-stdin"),
    (["bad name", "--role", "admin", "--password-stdin"], PW, "letters, digits"),
])
def test_accounts_add_errors_are_clear(tmp_path, args, stdin, message):
    r = cli(tmp_path / "home", "accounts", "add", *args, stdin=stdin)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_duplicate_account_refused(tmp_path):
    home = tmp_path / "home"
    assert cli(home, "accounts", "add", "ann", "--role", "it", "--password-stdin", stdin=PW).returncode == 0
    r = cli(home, "accounts", "add", "ann", "--role", "it", "--password-stdin", stdin=PW)
    assert r.returncode == 2 and "already exists" in r.stderr


@pytest.mark.e2e
def test_review_server_first_run_admin_and_api_over_http(tmp_path):
    home = tmp_path / "home"
    with ReviewProcess(home) as srv:
        deadline = time.monotonic() + 10
        while "password is in" not in srv.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = srv.output()
        assert f"http://127.0.0.1:{srv.port}/" in out
        pw_file = home / "review" / "admin-password.txt"
        assert str(pw_file) in out
        assert stat.S_IMODE(os.stat(pw_file).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(home / "review" / "session.key").st_mode) == 0o600
        password = pw_file.read_text().strip()
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.get("/api/incidents").status_code == 401
            r = c.post("/api/login", json={"username": "admin", "password": password})
            assert r.status_code == 200
            assert c.get("/api/incidents").json() == {"items": [], "next": None}
            assert c.get("/queue").status_code == 200
            assert c.get("/api/openapi.json").json()["openapi"].startswith("3.")
    # a second start does not make another admin nor print a password file
    with ReviewProcess(home) as srv:
        time.sleep(0.5)
        assert "password is in" not in srv.output().split("CrossingGuard review app")[-1]


@pytest.mark.e2e
def test_run_starts_the_review_app_beside_the_proxy(tmp_path):
    home = tmp_path / "home"
    proxy_port, review_port = free_port(), free_port()
    import subprocess
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(crossingguard_argv("run", "--home", str(home), "--listen-port", str(proxy_port),
                                               "--metrics-port", "0", "--review-port", str(review_port)),
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", proxy_port, 60, proc)
        wait_for_port("127.0.0.1", review_port, 60, proc)
        r = httpx.get(f"http://127.0.0.1:{review_port}/login", timeout=10)
        assert r.status_code == 200 and "Sign in" in r.text
    finally:
        proc.send_signal(2)
        proc.wait(30)
        log.close()
    # the review child went with the proxy
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{review_port}/login", timeout=1)
        except httpx.HTTPError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("review app still serving after the proxy stopped")
    text = (tmp_path / "run.log").read_text()
    assert "admin-password.txt" in text


def test_export_labels_layout(tmp_path):
    home = tmp_path / "home"
    ctx = AppContext(home)
    store = ctx.store
    closed = make_incident(store, school="org-mid", text='you are "such" a loser,\nnobody likes you',
                           labels=("bullying", "pii"))
    dismissed = make_incident(store, school="org-mid", text="this song kills me", labels=("threat",),
                              severity="critical")
    make_incident(store, school="org-mid", text="still open", labels=("bullying",))
    store.add_account("c", "admin", (), None)
    store.apply_action(closed.id, "close", "c")
    store.apply_action(dismissed.id, "dismiss", "c")
    store.close()
    out = tmp_path / "labels.csv"
    r = cli(home, "export-labels", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["text", "category", "label"]
    assert sorted(rows[1:]) == sorted([['you are "such" a loser,\nnobody likes you', "bullying", "1"],
                                       ['you are "such" a loser,\nnobody likes you', "pii", "1"],
                                       ["this song kills me", "threat", "0"]])
    r = cli(home, "export-labels", "--category", "threat")
    assert r.returncode == 0 and r.stdout.splitlines() == ["text,category,label", "this song kills me,threat,0"]
    store = AppContext(home).store
    assert [e["action"] for e in store.audit_entries()][-2:] == ["incidents.export_labels"] * 2
    store.close()


@pytest.mark.parametrize("args, message", [
    (["--oidc-issuer", "https://idp.example"], "needs --oidc-client-id"),
    (["--oidc-issuer", "ftp://idp.example", "--oidc-client-id", "c", "--oidc-client-secret-file", "x"], "https://"),
    (["--oidc-issuer", "https://idp.example", "--oidc-client-id", "c", "--oidc-client-secret-file", "/nonexistent/s"],
     "--oidc-client-secret-file"),
    (["--idle-minutes", "0"], "--idle-minutes"),
])
def test_review_option_errors(tmp_path, args, message):
    r = cli(tmp_path / "home", "review", *args, timeout=60)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_accounts_add_no_password_for_oidc_only(tmp_path):
    home = tmp_path / "home"
    r = cli(home, "accounts", "add", "ann@district.example", "--role", "it", "--no-password")
    assert r.returncode == 0 and json.loads(r.stdout)["password"] is False
    r = cli(home, "accounts", "add", "bob", "--role", "it", "--no-password", "--password-stdin", stdin=PW)
    assert r.returncode == 2 and "exclude each other" in r.stderr


def test_first_admin_is_made_once_even_when_two_starts_race(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from agent.review.auth import verify_password
    from agent.review.server import ensure_admin
    from agent.store import open_store
    home = tmp_path / "home"
    stores = [open_store(None, home) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        made = [p for p in pool.map(lambda s: ensure_admin(s, home), stores) if p is not None]
    assert len(made) == 1
    password = made[0].read_text().strip()
    assert verify_password(stores[0].account("admin").password_hash, password)
    assert sorted(p.name for p in (home / "review").iterdir()) == ["admin-password.txt"]
    for s in stores:
        s.close()


@pytest.mark.e2e
def test_run_with_workers_starts_one_review_app(tmp_path):
    """`run --workers 2`: the supervisor starts the review app once; its workers do not."""
    import subprocess
    home = tmp_path / "home"
    proxy_port, review_port = free_port(), free_port()
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(crossingguard_argv("run", "--home", str(home), "--listen-port", str(proxy_port),
                                               "--metrics-port", "0", "--workers", "2",
                                               "--review-port", str(review_port)),
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", review_port, 90, proc)
        wait_for_port("127.0.0.1", proxy_port, 90, proc)
        assert httpx.get(f"http://127.0.0.1:{review_port}/login", timeout=10).status_code == 200
        time.sleep(3)   # give any (wrong) second review app time to try the port
    finally:
        proc.send_signal(2)
        proc.wait(60)
        log.close()
    text = (tmp_path / "run.log").read_text()
    assert text.count("CrossingGuard review app on") == 1, text
    assert "cannot listen" not in text, text


@pytest.mark.parametrize("args, message", [
    (["--review-oidc-issuer", "https://idp.example"], "--review-oidc-issuer needs --review-oidc-client-id"),
    (["--review-oidc-client-id", "c"], "need --review-oidc-issuer"),
    (["--review-oidc-issuer", "ftp://idp.example", "--review-oidc-client-id", "c",
      "--review-oidc-client-secret-file", "x"], "--review-oidc-issuer must be an https:// URL"),
    (["--review-oidc-issuer", "https://idp.example", "--review-oidc-client-id", "c",
      "--review-oidc-client-secret-file", "/nonexistent/s"], "--review-oidc-client-secret-file /nonexistent/s"),
    (["--review-idle-minutes", "-1"], "--review-idle-minutes must be positive"),
    (["--workers", "2", "--listen-port", "18099", "--review-idle-minutes", "0"], "--review-idle-minutes"),
])
def test_run_refuses_bad_review_options_before_starting(tmp_path, args, message):
    """`run` checks the review child's options itself: a typo must not leave the proxy running
    with no review app (the child would die alone, in a log nobody reads)."""
    r = cli(tmp_path / "home", "run", "--metrics-port", "0", *args, timeout=60)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "home" / "review").exists()      # nothing started


@pytest.mark.e2e
def test_run_passes_review_options_to_the_review_app(tmp_path):
    """OIDC, idle time-out and Secure cookies given to `run` reach the review app it starts."""
    import subprocess

    from tests.support.oidc_issuer import LocalIssuer
    home = tmp_path / "home"
    secret = tmp_path / "oidc-secret"
    secret.write_text("client-secret-1\n")
    proxy_port, review_port = free_port(), free_port()
    with LocalIssuer("cg-review", "client-secret-1") as issuer, open(tmp_path / "run.log", "wb") as log:
        proc = subprocess.Popen(crossingguard_argv(
            "run", "--home", str(home), "--listen-port", str(proxy_port), "--metrics-port", "0",
            "--review-port", str(review_port), "--review-oidc-issuer", issuer.url,
            "--review-oidc-client-id", "cg-review", "--review-oidc-client-secret-file", str(secret),
            "--review-secure-cookies", "--review-idle-minutes", "5"),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for_port("127.0.0.1", review_port, 60, proc)
            base = f"http://127.0.0.1:{review_port}"
            assert "Sign in with your district account" in httpx.get(f"{base}/login", timeout=10).text
            r = httpx.get(f"{base}/login/oidc?next=/queue", timeout=10, follow_redirects=False)
            assert r.status_code == 302 and r.headers["Location"].startswith(issuer.url + "/authorize?")
            password = (home / "review" / "admin-password.txt").read_text().strip()
            r = httpx.post(f"{base}/api/login", json={"username": "admin", "password": password}, timeout=30)
            assert r.status_code == 200
            cookie = r.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie
        finally:
            proc.send_signal(2)
            proc.wait(30)


def test_review_child_argv_carries_the_review_options(tmp_path):
    import argparse

    from agent.review.child import review_argv
    ctx = AppContext(tmp_path / "home")
    base = dict(review_host="127.0.0.1", review_port=8181, review_idle_minutes=None, review_secure_cookies=False,
                review_oidc_issuer=None, review_oidc_client_id=None, review_oidc_client_secret_file=None)
    plain = review_argv(argparse.Namespace(**base), ctx)
    assert not {"--idle-minutes", "--secure-cookies", "--oidc-issuer"} & set(plain)
    full = review_argv(argparse.Namespace(**{**base, "review_idle_minutes": 5.0, "review_secure_cookies": True,
                                             "review_oidc_issuer": "https://idp.example",
                                             "review_oidc_client_id": "c",
                                             "review_oidc_client_secret_file": "s.txt"}), ctx)
    tail = full[len(plain):]
    assert tail[:3] == ["--idle-minutes", "5.0", "--secure-cookies"]
    assert tail[3:7] == ["--oidc-issuer", "https://idp.example", "--oidc-client-id", "c"]
    assert tail[7] == "--oidc-client-secret-file" and os.path.isabs(tail[8])   # the child may run elsewhere
