"""AuthGuard: unsafe proxy-auth usernames are refused, successes cached, failures not."""
from __future__ import annotations

import pytest
from mitmproxy.addons import proxyauth
from mitmproxy.test import taddons

from proxy_addons.authguard import AuthGuard, GuardedValidator, is_safe_username


@pytest.mark.parametrize("name, safe", [
    ("eli.marsh", True),
    ("stu-1006", True),
    ("*", False),
    ("admin)(uid=*", False),
    ("a\\2a", False),
    ("nul\x00byte", False),
    ("", False),
    ("x" * 300, False),
])
def test_is_safe_username(name, safe):
    assert is_safe_username(name) is safe


class CountingValidator:
    def __init__(self, good: dict[str, str]):
        self.good, self.calls = good, 0

    def __call__(self, username, password):
        self.calls += 1
        return self.good.get(username) == password


def test_success_is_cached_until_ttl_and_failures_are_not():
    now = [0.0]
    inner = CountingValidator({"eli.marsh": "pw"})
    v = GuardedValidator(inner, ttl=60, clock=lambda: now[0])
    assert v("eli.marsh", "pw") and v("eli.marsh", "pw")
    assert inner.calls == 1                      # second one from the cache
    assert not v("eli.marsh", "wrong") and not v("eli.marsh", "wrong")
    assert inner.calls == 3                      # failures always asked again
    now[0] = 61
    assert v("eli.marsh", "pw")
    assert inner.calls == 4                      # expired: asked again


def test_unsafe_username_never_reaches_the_validator():
    inner = CountingValidator({"*": "pw"})
    v = GuardedValidator(inner, ttl=60)
    assert not v("*", "pw")
    assert inner.calls == 0


def test_addon_wraps_the_builtin_validator_once():
    pa, guard = proxyauth.ProxyAuth(), AuthGuard()
    with taddons.context(pa, guard) as tctx:
        tctx.configure(pa, proxyauth="eli.marsh:secret")
        tctx.configure(guard, crossingguard_auth_cache_s=30)
        assert isinstance(pa.validator, GuardedValidator)
        assert pa.validator("eli.marsh", "secret")
        assert not pa.validator("eli.marsh)(uid=*", "secret")
        tctx.configure(guard, crossingguard_auth_cache_s=10)   # re-wrap, never wrap a wrapper
        assert not isinstance(pa.validator.inner, GuardedValidator)
        assert pa.validator.ttl == 10
