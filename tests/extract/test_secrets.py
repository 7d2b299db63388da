"""Passwords, tokens and signatures are never extracted (PLATFORMS.md; student privacy)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.extract.shipped import extract_request

SECRET = "Zebra-Synthetic-Secret-42 with spaces"   # looks like human text on purpose

CASES = [
    ("https://bsky.social/xrpc/com.atproto.server.createAccount", {"content-type": "application/json"},
     json.dumps({"handle": "a.bsky.social", "email": "a@example.com", "password": SECRET})),
    ("https://bsky.social/xrpc/com.atproto.server.createSession", {"content-type": "application/json"},
     json.dumps({"identifier": "a.bsky.social", "password": SECRET})),
    ("https://mastodon.example/api/v1/accounts", {"content-type": "application/x-www-form-urlencoded"},
     urlencode({"username": "kid", "email": "k@example.com", "password": SECRET, "reason": "hello there"})),
    ("https://i.instagram.com/api/v1/accounts/create/", {"content-type": "application/x-www-form-urlencoded"},
     "signed_body=SIGNATURE." + json.dumps({"username": "kid", "enc_password": SECRET, "first_name": "Kid"})),
    ("https://oauth.reddit.com/api/register", {"content-type": "application/x-www-form-urlencoded"},
     urlencode({"user": "kid", "passwd": SECRET, "passwd2": SECRET, "email": "k@example.com"})),
    ("https://discord.com/api/v9/auth/register", {"content-type": "application/json"},
     json.dumps({"username": "kid", "password": SECRET, "email": "k@example.com", "global_name": "Kid K"})),
    # generic fallback on unknown routes: secret-named keys at any depth, in JSON, forms and JSON-in-form
    ("https://www.linkedin.com/uas/authenticate", {"content-type": "application/json"},
     json.dumps({"session_key": "me@example.com", "session_password": SECRET, "profile": {"headline": "Student at ENSAT"}})),
    ("https://www.linkedin.com/api/thing", {"content-type": "application/x-www-form-urlencoded"},
     urlencode({"note": "a normal sentence here", "csrfToken": SECRET, "api_secret": SECRET,
                "payload": json.dumps({"auth": {"pass": SECRET}, "signature": SECRET, "token": SECRET})})),
    ("https://www.linkedin.com/api/up", {"content-type": "multipart/form-data; boundary=b"},
     f'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n{SECRET}\r\n'
     f'--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\nmy caption text\r\n--b--\r\n'),
    ("https://www.tiktok.com/passport/web/user/login/", {"content-type": "application/x-www-form-urlencoded"},
     urlencode({"username": "kid", "password": SECRET})),
]


@pytest.mark.parametrize("url,headers,body", CASES, ids=[c[0].split("/", 3)[3][:40] for c in CASES])
def test_secrets_never_extracted(url, headers, body):
    result = extract_request("POST", url, headers, body.encode())
    assert result.error is None
    assert SECRET not in json.dumps(result.to_json(), ensure_ascii=False)
    assert "Zebra" not in json.dumps(result.to_json(), ensure_ascii=False)


def test_signup_still_yields_the_non_secret_fields():
    url, headers, body = CASES[0]
    result = extract_request("POST", url, headers, body.encode())
    assert [(p.kind, p.text) for p in result.posts] == [("signup", "a.bsky.social"), ("signup", "a@example.com")]
