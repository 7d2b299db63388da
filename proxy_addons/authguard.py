"""AuthGuard addon: harden and cache mitmproxy's built-in proxy-auth validator.

Two problems with the built-in `proxyauth` validators, both fixed here without replacing them:

1. LDAP filter injection (GHSA-527g-3w9m-29hv, fixed upstream in mitmproxy 12.2.2, not in
   11.0.2, the last release for Python 3.11): the username went into the LDAP search filter
   unescaped, so `*` or `)(uid=*` could match another entry. Roster usernames never contain
   RFC 4515 filter metacharacters, so such a username is refused before any validator sees it.
2. The validators run synchronously on the event loop; an LDAP bind per new connection stalls
   every flow. Successful validations are cached for `crossingguard_auth_cache_s` seconds,
   keyed by the username and a SHA-256 of the password (the password itself is never kept).
   Failures are not cached, so a corrected password works at once.

Fail-closed: a refused or failing validation is simply "not authenticated"; mitmproxy then asks
for credentials (407) and the identity falls back to the device registry or `unknown`.

Relies on the built-in addon's `validator` attribute (docs/mitmproxy-internals.md, item 7).
"""
from __future__ import annotations

import hashlib
import time

from mitmproxy import ctx, exceptions

LDAP_METACHARACTERS = frozenset("*()\\\x00")


def is_safe_username(username: str) -> bool:
    return bool(username) and len(username) <= 256 and not (set(username) & LDAP_METACHARACTERS)


class GuardedValidator:
    """Wraps a proxyauth validator: refuses unsafe usernames, caches successes for `ttl` seconds."""

    def __init__(self, inner, ttl: float, clock=time.monotonic) -> None:
        self.inner = inner
        self.ttl = ttl
        self.clock = clock
        self.cache: dict[tuple[str, bytes], float] = {}

    def __call__(self, username: str, password: str) -> bool:
        if not is_safe_username(username):
            return False
        key = (username, hashlib.sha256(password.encode("utf-8", "surrogateescape")).digest())
        now = self.clock()
        expires = self.cache.get(key)
        if expires is not None and expires > now:
            return True
        ok = bool(self.inner(username, password))
        if ok and self.ttl > 0:
            if len(self.cache) > 10_000:   # bounded: drop expired entries, then everything if needed
                self.cache = {k: t for k, t in self.cache.items() if t > now}
                if len(self.cache) > 10_000:
                    self.cache.clear()
            self.cache[key] = now + self.ttl
        else:
            self.cache.pop(key, None)
        return ok


class AuthGuard:
    name = "crossingguard_authguard"

    def load(self, loader) -> None:
        loader.add_option("crossingguard_auth_cache_s", int, 300,
                          "Seconds a successful proxy-auth validation is remembered (0: never). "
                          "Keeps LDAP binds off the event loop for returning clients.")

    def configure(self, updated) -> None:
        if "crossingguard_auth_cache_s" in updated and ctx.options.crossingguard_auth_cache_s < 0:
            raise exceptions.OptionsError("crossingguard_auth_cache_s must be 0 or more")
        if not {"proxyauth", "crossingguard_auth_cache_s"} & set(updated):
            return
        proxyauth = ctx.master.addons.get("proxyauth")
        validator = getattr(proxyauth, "validator", None)
        if validator is None:
            return
        inner = validator.inner if isinstance(validator, GuardedValidator) else validator
        proxyauth.validator = GuardedValidator(inner, ctx.options.crossingguard_auth_cache_s)
