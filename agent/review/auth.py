"""Passwords, sign-in throttling and server-side sessions of the review app.

Pure of Flask: the app (agent/review/app.py) wires these to requests.

- Passwords: argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile). A hash made with
  older parameters is re-hashed at the next good sign-in.
- Throttling: repeated failures lock the ACCOUNT (a password guesser spread over many addresses)
  and, with a higher bound, the ADDRESS (one machine trying many accounts). While locked even
  the right password is refused, so a lock cannot be used to confirm a guess. State is kept in
  memory: a restart clears it (written down in docs/review.md), which costs an attacker a
  restart per window, something they cannot cause from outside.
- Sessions: the cookie (signed by Flask) carries only a random session id; what it grants lives
  here, so sign-out and disabling an account end a session at once, and the idle timeout is
  enforced by the server, not by the cookie's expiry.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# Verified against when the account does not exist, so a wrong username costs the same time as
# a wrong password (no account enumeration by timing).
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; False for a mismatch, no hash, or a broken hash."""
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return False


def generate_password() -> str:
    """A password for the first admin: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


@dataclass
class ThrottleRule:
    max_failures: int      # failures within `window` seconds that lock the key
    window: float
    lockout: float         # seconds the key stays locked after the last failure that tripped it


class LoginThrottle:
    """Failures per key ("account:NAME", "address:IP") in a sliding window."""

    def __init__(self, account: ThrottleRule | None = None, address: ThrottleRule | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.rules = {"account": account or ThrottleRule(5, 900, 900),
                      "address": address or ThrottleRule(20, 900, 900)}
        self.clock = clock
        self._failures: dict[str, deque] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, address: str) -> list[tuple[str, str]]:
        return [("account", "account:" + username.strip().lower()), ("address", "address:" + address)]

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until a sign-in may be tried again (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [self._locked_until.get(key, 0) - now for _, key in self.keys(username, address)]
        return max([0.0] + waits)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for kind, key in self.keys(username, address):
                rule = self.rules[kind]
                q = self._failures.setdefault(key, deque())
                q.append(now)
                while q and q[0] <= now - rule.window:
                    q.popleft()
                if len(q) >= rule.max_failures:
                    self._locked_until[key] = now + rule.lockout
            if len(self._failures) > 100_000:   # bounded memory under a spray of usernames
                self._prune(now)

    def succeeded(self, username: str, address: str) -> None:
        """A good sign-in clears the account's failures (not the address's: one right password
        must not reset a machine that is trying many accounts)."""
        with self._lock:
            key = self.keys(username, address)[0][1]
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        longest = max(r.window for r in self.rules.values())
        for key in [k for k, q in self._failures.items() if not q or q[-1] <= now - longest]:
            del self._failures[key]
        for key in [k for k, t in self._locked_until.items() if t <= now]:
            del self._locked_until[key]


@dataclass
class Session:
    sid: str
    username: str
    csrf: str
    created: float
    last_seen: float
    address: str = ""
    data: dict = field(default_factory=dict)


class SessionRegistry:
    """Signed-in sessions, by id; idle ones expire."""

    def __init__(self, idle_seconds: float = 1800, clock: Callable[[], float] = time.monotonic):
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, username: str, address: str = "") -> Session:
        now = self.clock()
        s = Session(secrets.token_urlsafe(32), username, secrets.token_urlsafe(32), now, now, address)
        with self._lock:
            self._expire(now)
            self._sessions[s.sid] = s
        return s

    def get(self, sid: str | None, touch: bool = True) -> Session | None:
        if not sid:
            return None
        now = self.clock()
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                return None
            if now - s.last_seen > self.idle_seconds:
                del self._sessions[sid]
                return None
            if touch:
                s.last_seen = now
            return s

    def end(self, sid: str | None) -> Session | None:
        with self._lock:
            return self._sessions.pop(sid, None) if sid else None

    def end_user(self, username: str) -> int:
        with self._lock:
            gone = [sid for sid, s in self._sessions.items() if s.username == username]
            for sid in gone:
                del self._sessions[sid]
            return len(gone)

    def _expire(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if now - s.last_seen > self.idle_seconds]:
            del self._sessions[sid]
