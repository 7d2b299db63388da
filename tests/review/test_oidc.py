"""OIDC sign-in against a local test issuer (tests/support/oidc_issuer.py): the whole
authorization-code flow with PKCE, and every way an ID token can be wrong."""
from __future__ import annotations

from urllib.parse import urlparse

import httpx
import pytest

from agent.review.app import ReviewConfig, ReviewDeps, create_app
from agent.review.oidc import OIDCConfig, OIDCError, account_name, verify_id_token
from tests.review.conftest import build_env
from tests.support.oidc_issuer import LocalIssuer

EMAIL = "ms.rivera@district.example"


@pytest.fixture
def issuer():
    with LocalIssuer("cg-review", "client-secret-1") as iss:
        iss.next_user = {"sub": "g-123", "email": EMAIL, "email_verified": True}
        yield iss


@pytest.fixture
def oenv(tmp_path, issuer):
    env = build_env(tmp_path / "home")
    env.store.add_account(EMAIL, "counselor", ("org-mid",), None, actor="test")
    deps = ReviewDeps(env.store, env.ctx.policy, env.ctx.roster, env.ctx.devices)
    env.app = create_app(deps, ReviewConfig(oidc=OIDCConfig(issuer.url, "cg-review", "client-secret-1")))
    yield env
    env.store.close()


def sign_in(client, issuer_url_prefix: str):
    """Follow the flow like a browser: app -> issuer -> app callback."""
    r = client.get("/login/oidc?next=/queue")
    assert r.status_code == 302 and r.headers["Location"].startswith(issuer_url_prefix + "/authorize?")
    back = httpx.get(r.headers["Location"], follow_redirects=False, timeout=10)
    assert back.status_code == 302
    u = urlparse(back.headers["Location"])
    assert u.path == "/login/oidc/callback"
    return client.get(u.path + "?" + u.query)


def test_oidc_sign_in_end_to_end(oenv, issuer):
    c = oenv.app.test_client()
    assert "Sign in with your district account" in c.get("/login").get_data(as_text=True)
    r = sign_in(c, issuer.url)
    assert r.status_code == 200 and 'url=/queue' in r.get_data(as_text=True)
    items = c.get("/api/incidents").json["items"]
    assert {i["school"] for i in items} == {"org-mid"}      # signed in as the counselor account
    login = [e for e in oenv.audit("review.login") if e["actor"] == EMAIL]
    assert login and login[0]["detail"]["method"] == "oidc" and login[0]["detail"]["subject"] == "g-123"


@pytest.mark.parametrize("tamper, reason", [
    ("sig", "signature does not verify"), ("aud", "another client"), ("nonce", "nonce"),
    ("expired", "expired"), ("iss", "another issuer"), ("alg_none", "RS256 only"),
])
def test_bad_id_tokens_are_refused_and_audited(oenv, issuer, tamper, reason):
    issuer.tamper = tamper
    c = oenv.app.test_client()
    r = sign_in(c, issuer.url)
    assert r.status_code == 401 and reason in r.get_data(as_text=True)
    assert c.get("/api/incidents").status_code == 401
    fails = oenv.audit("review.login_failed")
    assert fails and fails[-1]["detail"]["method"] == "oidc" and reason in fails[-1]["detail"]["reason"]


def test_unknown_identity_gets_no_account(oenv, issuer):
    issuer.next_user = {"sub": "x", "email": "stranger@elsewhere.example"}
    c = oenv.app.test_client()
    r = sign_in(c, issuer.url)
    assert r.status_code == 401
    assert oenv.audit("review.login_failed")[-1]["target"] == "stranger@elsewhere.example"
    assert oenv.store.account("stranger@elsewhere.example") is None     # never created from a token


def test_state_is_single_use_and_must_come_from_here(oenv, issuer):
    c = oenv.app.test_client()
    r = c.get("/login/oidc")
    back = httpx.get(r.headers["Location"], follow_redirects=False, timeout=10)
    u = urlparse(back.headers["Location"])
    assert c.get(u.path + "?" + u.query).status_code == 200
    assert c.get(u.path + "?" + u.query).status_code == 403           # replay
    assert c.get("/login/oidc/callback?code=x&state=forged").status_code == 403


def test_disabled_account_cannot_sign_in_with_oidc(oenv, issuer):
    oenv.store.set_account(EMAIL, disabled=True, actor="test")
    assert sign_in(oenv.app.test_client(), issuer.url).status_code == 401


def test_without_an_issuer_there_is_no_oidc(env):
    c = env.app.test_client()
    assert c.get("/login/oidc").status_code == 404
    assert "district account" not in c.get("/login").get_data(as_text=True)


def test_unreachable_issuer_is_a_clear_error(tmp_path):
    env = build_env(tmp_path / "home")
    deps = ReviewDeps(env.store, env.ctx.policy, env.ctx.roster, env.ctx.devices)
    app = create_app(deps, ReviewConfig(oidc=OIDCConfig("http://127.0.0.1:9", "c", "s", timeout=2)))
    r = app.test_client().get("/login/oidc")
    assert r.status_code == 502 and "could not be reached" in r.get_data(as_text=True)
    env.store.close()


@pytest.mark.parametrize("claims, name", [
    ({"email": "Ann@X.org"}, "ann@x.org"),
    ({"email": "ann@x.org", "email_verified": False, "preferred_username": "ann"}, "ann"),
    ({"preferred_username": " Bob "}, "bob"),
    ({"sub": "1"}, None),
])
def test_account_name(claims, name):
    assert account_name(claims) == name


def test_malformed_token():
    with pytest.raises(OIDCError, match="malformed"):
        verify_id_token("not.a", {"keys": []}, issuer="i", client_id="c", nonce="n")
