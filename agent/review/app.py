"""The review app: Flask wiring shared by the pages (pages.py) and the JSON API (api.py).

`create_app(deps, config)` builds a Flask app over a store, the policy and the roster. One
process, threads for requests; the store serialises its own connection.

Security choices written down here (docs/review.md has the user's view):
- Session cookie: Flask's signed cookie (HMAC under a 0600 key file under --home), HttpOnly,
  SameSite=Strict, Secure when `secure_cookies` (behind TLS). It carries only a session id; the
  session itself (user, CSRF token, last seen) is server-side in `SessionRegistry`, so sign-out,
  disabling an account and the idle timeout take effect at once.
- CSRF: every state-changing request needs the session's token: the `csrf` form field for pages,
  the `X-CSRF-Token` header for the API. The HTML sign-in form has a token bound to a
  pre-session cookie; `POST /api/login` instead requires a JSON body, which a cross-site form
  cannot send (and SameSite=Strict keeps the cookie off cross-site requests anyway).
- Every page and answer is `Cache-Control: no-store` (student data) and the content security
  policy allows no script at all: the pages work without JavaScript and an injected script
  would not run even if escaping failed.
- Fail closed: if the audit trail cannot be written (the store spools it when the database is
  down, so this means the disk failed too), the text is not shown.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, request, session

from agent.review.auth import LoginThrottle, SessionRegistry, needs_rehash, verify_password
from agent.store.lifecycle import Account

log = logging.getLogger("crossingguard.review")

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class ReviewConfig:
    idle_minutes: float = 30.0
    secure_cookies: bool = False        # set when served over HTTPS (behind a TLS proxy)
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    base_url: str = ""                  # how staff reach the app (links in CSV, logs)
    oidc: Any = None                    # agent.review.oidc.OIDCConfig when an issuer is configured


@dataclass
class ReviewDeps:
    store: Any                          # agent.store.Store
    policy: Any                         # agent.policy Policy (guidelines, timezone, district)
    roster: Any                         # agent.roster Roster (names of students and schools)
    devices: Any = None                 # agent.identity DeviceRegistry (devices of a student)


@dataclass
class SignIn:
    account: Account | None = None
    error: str | None = None
    retry_after: float = 0.0


class Review:
    """What a request handler reaches for (`current()`): dependencies, sessions and the audit."""

    def __init__(self, deps: ReviewDeps, config: ReviewConfig):
        self.deps = deps
        self.store = deps.store
        self.config = config
        self.sessions = SessionRegistry(idle_seconds=config.idle_minutes * 60)
        self.throttle = config.throttle
        # OIDC sign-ins in flight, by `state` (server-side: the provider's redirect back is a
        # cross-site navigation, which SameSite=Strict keeps our cookie off).
        self.oidc_pending: dict[str, dict] = {}

    def audit(self, action: str, target: str, detail: dict | None = None, actor: str | None = None) -> None:
        if actor is None:
            acc = getattr(g, "account", None)
            actor = acc.username if acc else "anonymous"
        detail = dict(detail or {})
        detail.setdefault("address", request.remote_addr if request else None)
        self.store.audit(actor, action, target, detail)

    def sign_in(self, username: str, password: str, address: str, method: str) -> SignIn:
        """Check a password sign-in, throttled and audited. The error never says whether the
        account exists."""
        username = username.strip()[:200]
        wait = self.throttle.retry_after(username, address)
        if wait > 0:
            self.audit("review.login_throttled", username or "-", {"method": method}, actor="anonymous")
            return SignIn(error="Too many failed sign-ins. Try again later.", retry_after=wait)
        account = self.store.account(username) if username else None
        ok = verify_password(account.password_hash if account else None, password)
        if not ok or account is None or account.disabled:
            self.throttle.failed(username, address)
            reason = "disabled" if (ok and account is not None and account.disabled) else "bad credentials"
            self.audit("review.login_failed", username or "-", {"method": method, "reason": reason},
                       actor="anonymous")
            return SignIn(error="Wrong username or password.")
        self.throttle.succeeded(username, address)
        if needs_rehash(account.password_hash):
            from agent.review.auth import hash_password
            self.store.set_account(username, password_hash=hash_password(password), actor=username)
        self.audit("review.login", username, {"method": method}, actor=username)
        return SignIn(account=account)

    def start_session(self, account: Account) -> str:
        """A fresh session id on every sign-in (no fixation); returns the CSRF token."""
        s = self.sessions.create(account.username, request.remote_addr or "")
        session.clear()
        session["sid"] = s.sid
        session.permanent = False
        return s.csrf

    def end_session(self) -> None:
        sid = session.get("sid")
        s = self.sessions.end(sid)
        if s is not None:
            self.audit("review.logout", s.username, actor=s.username)
        session.clear()

    def csrf_ok(self, token: str | None) -> bool:
        s = getattr(g, "review_session", None)
        return bool(s and token and secrets.compare_digest(s.csrf, token))


def current() -> Review:
    from flask import current_app
    return current_app.extensions["crossingguard_review"]


def create_app(deps: ReviewDeps, config: ReviewConfig | None = None) -> Flask:
    config = config or ReviewConfig()
    app = Flask("agent.review", template_folder=str(TEMPLATES), static_folder=str(STATIC),
                static_url_path="/static")
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="cg_review",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        MAX_CONTENT_LENGTH=256 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    review = Review(deps, config)
    app.extensions["crossingguard_review"] = review

    @app.before_request
    def load_session():
        g.account = None
        g.review_session = None
        s = review.sessions.get(session.get("sid"))
        if s is None:
            return
        account = review.store.account(s.username)
        if account is None or account.disabled:
            review.sessions.end(s.sid)   # disabled since signing in: the session ends now
            session.clear()
            return
        g.account = account
        g.review_session = s

    @app.after_request
    def headers(resp):
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
        return resp

    from agent.store import StoreUnavailable

    @app.errorhandler(StoreUnavailable)
    def store_down(exc):
        log.warning("review: %s", exc)
        if request.path.startswith("/api/"):
            return jsonify(error="The database is unavailable; try again shortly."), 503
        from flask import render_template
        return render_template("error.html", code=503,
                               message="The database is unavailable; try again shortly."), 503

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    @app.errorhandler(400)
    def http_error(exc):
        code = getattr(exc, "code", 500) or 500
        msg = {404: "Not found.", 405: "Method not allowed.", 413: "Request too large.",
               400: "Bad request."}.get(code, "Error.")
        if request.path.startswith("/api/"):
            return jsonify(error=msg), code
        from flask import render_template
        return render_template("error.html", code=code, message=msg), code

    from agent.review import api, pages
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    return app


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
