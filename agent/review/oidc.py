"""Optional OpenID Connect sign-in (Google Workspace, Microsoft Entra, any OIDC issuer).

Enabled when `crossingguard review` is given `--oidc-issuer URL` with `--oidc-client-id` and
`--oidc-client-secret-file`. The authorization code flow with PKCE (S256), `state` and `nonce`:

1. `/login/oidc` redirects to the issuer's authorization endpoint (from its discovery document);
   state, nonce and the PKCE verifier wait in the signed session cookie.
2. `/login/oidc/callback` checks `state`, redeems the code at the token endpoint (client secret,
   code verifier) and verifies the ID token: RS256 signature against the issuer's JWKS, `iss`,
   `aud`, `exp`/`iat` (60 s skew), `nonce`.
3. The account is the one whose username equals the token's `email` (verified) or, failing that,
   `preferred_username`. Accounts are never created from a token: an admin creates them with a
   role and schools (`crossingguard accounts add`, password optional for OIDC-only accounts).

Failures are written to the audit trail like password failures, and count towards the sign-in
throttle of the address. Only RS256 is accepted (no `none`, no HMAC with a public key).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SKEW = 60


class OIDCError(Exception):
    """The sign-in cannot be completed; the message is safe to show and to audit."""


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def _rsa_key(jwk: dict) -> rsa.RSAPublicKey:
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def verify_id_token(token: str, jwks: dict, *, issuer: str, client_id: str, nonce: str,
                    now: float | None = None) -> dict:
    """The token's claims if every check passes; OIDCError naming the first that fails."""
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(b64url_decode(head_b64))
        claims = json.loads(b64url_decode(body_b64))
        signature = b64url_decode(sig_b64)
    except Exception as exc:  # noqa: BLE001 - any malformed token is one error
        raise OIDCError("the ID token is malformed") from exc
    if header.get("alg") != "RS256":
        raise OIDCError(f"ID token algorithm {header.get('alg')!r} refused (RS256 only)")
    keys = [k for k in jwks.get("keys", []) if k.get("kty") == "RSA"
            and (header.get("kid") is None or k.get("kid") == header.get("kid"))]
    if not keys:
        raise OIDCError("no issuer key matches the ID token")
    signed = f"{head_b64}.{body_b64}".encode()
    for jwk in keys:
        try:
            _rsa_key(jwk).verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            break
        except (InvalidSignature, KeyError, ValueError):
            continue
    else:
        raise OIDCError("the ID token's signature does not verify")
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise OIDCError("the ID token is from another issuer")
    aud = claims.get("aud")
    if not (aud == client_id or (isinstance(aud, list) and client_id in aud)):
        raise OIDCError("the ID token is for another client")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + SKEW < now:
        raise OIDCError("the ID token has expired")
    if isinstance(claims.get("iat"), (int, float)) and claims["iat"] - SKEW > now:
        raise OIDCError("the ID token is issued in the future")
    if not nonce or claims.get("nonce") != nonce:
        raise OIDCError("the ID token's nonce does not match this sign-in")
    return claims


def account_name(claims: dict) -> str | None:
    """Which account the token signs in: a verified e-mail, else preferred_username."""
    email = claims.get("email")
    if isinstance(email, str) and email and claims.get("email_verified", True) is not False:
        return email.strip().lower()
    name = claims.get("preferred_username")
    return name.strip().lower() if isinstance(name, str) and name.strip() else None


@dataclass
class OIDCConfig:
    issuer: str
    client_id: str
    client_secret: str
    timeout: float = 10.0
    _discovery: dict | None = field(default=None, repr=False)
    _jwks: dict | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _get_json(self, url: str, data: dict | None = None) -> dict:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - configured issuer
                return json.loads(resp.read(1_000_000))
        except Exception as exc:  # noqa: BLE001 - network, HTTP status, JSON: one clear error
            raise OIDCError(f"the sign-in provider could not be reached or answered badly ({type(exc).__name__})") from exc

    def discovery(self) -> dict:
        with self._lock:
            if self._discovery is None:
                doc = self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
                if doc.get("issuer") != self.issuer:
                    raise OIDCError("the provider's discovery document names another issuer")
                self._discovery = doc
            return self._discovery

    def jwks(self, refresh: bool = False) -> dict:
        with self._lock:
            cached = self._jwks
        if cached is None or refresh:
            cached = self._get_json(self.discovery()["jwks_uri"])
            with self._lock:
                self._jwks = cached
        return cached

    def authorize_url(self, redirect_uri: str, state: str, nonce: str, challenge: str) -> str:
        q = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
             "scope": "openid email profile", "state": state, "nonce": nonce,
             "code_challenge": challenge, "code_challenge_method": "S256"}
        endpoint = self.discovery()["authorization_endpoint"]
        return endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode(q)

    def redeem(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict:
        tokens = self._get_json(self.discovery()["token_endpoint"], {
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": self.client_id, "client_secret": self.client_secret, "code_verifier": verifier})
        token = tokens.get("id_token")
        if not isinstance(token, str):
            raise OIDCError("the provider returned no ID token")
        try:
            return verify_id_token(token, self.jwks(), issuer=self.issuer, client_id=self.client_id, nonce=nonce)
        except OIDCError as exc:
            if "key" not in str(exc) and "signature" not in str(exc):
                raise
            # the provider may have rotated its keys since we cached them
            return verify_id_token(token, self.jwks(refresh=True), issuer=self.issuer,
                                   client_id=self.client_id, nonce=nonce)
