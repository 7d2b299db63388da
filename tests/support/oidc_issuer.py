"""A small local OpenID Connect issuer for tests: discovery, authorize (auto-approves as
`next_user`), token (client secret, one-time code, redirect URI and PKCE S256 checked) and JWKS,
ID tokens signed RS256 with a key made at start. Listens on 127.0.0.1 only.

    with LocalIssuer(client_id="cg", client_secret="s") as iss:
        iss.next_user = {"sub": "123", "email": "ann@district.example"}
        iss.url                  # the issuer identifier and base URL
        iss.tamper = "sig"       # sig | aud | nonce | expired | iss | alg_none: a bad ID token next
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int_b64(n: int) -> str:
    return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class LocalIssuer:
    def __init__(self, client_id: str, client_secret: str):
        self.client_id, self.client_secret = client_id, client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.next_user: dict = {"sub": "1", "email": "someone@example.org"}
        self.tamper: str | None = None
        self.codes: dict[str, dict] = {}
        self.token_requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _json(self, obj, code=200):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urlparse(self.path)
                if u.path == "/.well-known/openid-configuration":
                    return self._json({"issuer": issuer.url, "authorization_endpoint": issuer.url + "/authorize",
                                       "token_endpoint": issuer.url + "/token", "jwks_uri": issuer.url + "/jwks",
                                       "response_types_supported": ["code"],
                                       "id_token_signing_alg_values_supported": ["RS256"]})
                if u.path == "/jwks":
                    pub = issuer.key.public_key().public_numbers()
                    return self._json({"keys": [{"kty": "RSA", "kid": issuer.kid, "alg": "RS256", "use": "sig",
                                                 "n": _int_b64(pub.n), "e": _int_b64(pub.e)}]})
                if u.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(u.query).items()}
                    if q.get("client_id") != issuer.client_id or q.get("code_challenge_method") != "S256":
                        return self._json({"error": "invalid_request"}, 400)
                    code = secrets.token_urlsafe(16)
                    issuer.codes[code] = {"redirect_uri": q["redirect_uri"], "nonce": q.get("nonce"),
                                          "challenge": q["code_challenge"], "user": dict(issuer.next_user)}
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]}))
                    self.end_headers()
                    return None
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):
                if urlparse(self.path).path != "/token":
                    return self._json({"error": "not_found"}, 404)
                issuer.token_requests += 1
                n = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
                grant = issuer.codes.pop(form.get("code", ""), None)   # one-time codes
                if (grant is None or form.get("client_id") != issuer.client_id
                        or form.get("client_secret") != issuer.client_secret
                        or form.get("redirect_uri") != grant["redirect_uri"]
                        or _b64(hashlib.sha256(form.get("code_verifier", "").encode()).digest()) != grant["challenge"]):
                    return self._json({"error": "invalid_grant"}, 400)
                return self._json({"id_token": issuer.id_token(grant), "access_token": "unused",
                                   "token_type": "Bearer", "expires_in": 300})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def id_token(self, grant: dict) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **grant["user"]}
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        t, self.tamper = self.tamper, None
        if t == "aud":
            claims["aud"] = "another-client"
        elif t == "nonce":
            claims["nonce"] = "not-the-one"
        elif t == "expired":
            claims["exp"] = now - 3600
        elif t == "iss":
            claims["iss"] = "https://elsewhere.example"
        elif t == "alg_none":
            header = {"alg": "none", "typ": "JWT"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        if t == "sig":
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return signing_input + "." + ("" if t == "alg_none" else _b64(sig))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
