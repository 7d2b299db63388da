"""The fail mode: an exception in one of our hooks never kills the proxy or silently opens it.

mitmproxy catches exceptions raised by addon hooks, logs them and lets the flow continue: a
broken filter would fail OPEN. Every hook of ours is wrapped with `@guarded("addon")`, which:
  1. logs the exception (rate-limited: one traceback per addon per minute, then a count),
  2. counts it: COUNTERS.inc(ADDON_ERRORS, addon),
  3. applies the policy's fail mode to the flow, chosen by the subject's role:
     policy.fail_mode_for(role) (a page that says the filter had a problem, status 503, or
     allow). The defaults for roles the policy file does not name have one owner,
     agent.policy.model.default_fail_mode: staff allow, everyone not proven staff blocks.
     With no policy loaded at all, every role blocks.

FAIL-CLOSED / FAIL-OPEN CHOICES, written down here where they are made:
  - HTTP request hooks: the policy's fail mode for the role (above). With no subject known yet
    (identity itself failed), the role is "unknown": blocked unless the policy says otherwise.
  - Connection-level hooks (tls_clienthello, http_connect): no page can be shown, and refusing
    tunnels would cut the whole internet on a bug, so we fail towards INSPECTION: the connection
    is intercepted (mitmproxy's default) and the per-request hooks then decide with their own
    fail mode. A pinned host we failed to classify therefore breaks (TLS error) rather than
    passing unseen.
  - Response/done hooks: nothing left to enforce; logged and counted only.
"""
from __future__ import annotations

import functools
import logging
import time

from mitmproxy import http

from agent.metrics import ADDON_ERRORS, COUNTERS
from agent.policy import Policy
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.addons")

_last_logged: dict[str, float] = {}
_suppressed: dict[str, int] = {}


def fail_mode_for(policy: Policy | None, role: str | None) -> str:
    """"block" or "allow" for this role. No policy loaded yet: block (nobody is proven staff)."""
    if policy is None:
        return "block"
    return "allow" if policy.fail_mode_for(role) == "allow" else "block"


def _log_exception(addon: str) -> None:
    now = time.monotonic()
    if now - _last_logged.get(addon, -1e9) >= 60:
        n = _suppressed.pop(addon, 0)
        more = f" ({n} more since the last report)" if n else ""
        log.exception("crossingguard addon %s failed%s; fail mode applied", addon, more)
        _last_logged[addon] = now
    else:
        _suppressed[addon] = _suppressed.get(addon, 0) + 1


def apply_fail_mode(flow, addon: str, core) -> None:
    """Give an HTTP flow the fail mode for its subject's role (see module doc)."""
    if not isinstance(flow, http.HTTPFlow) or flow.response is not None:
        return
    v = verdict_of(flow)
    if v.failed is None:
        v.failed = addon
    state = getattr(core, "state", None)
    policy = state.policy if state is not None else None
    role = getattr(v.subject, "role", None)
    if flow.request.method == "CONNECT":
        v.fail_action = "allow"   # connection level: fail towards inspection (module doc)
        return
    mode = fail_mode_for(policy, role)
    v.fail_action = mode
    if mode == "block":
        from proxy_addons.blockpage import fail_response
        flow.response = fail_response(policy, flow.request.pretty_host, v.request_id,
                                      flow.request.headers.get("accept", ""))


def guarded(addon: str):
    """Decorator for hook methods `(self, obj)`: exceptions -> log, count, fail mode (never raise).

    The decorated method's instance must have a `core` attribute (for the policy's fail mode).
    """
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(self, obj, *args):
            try:
                return fn(self, obj, *args)
            except Exception:
                COUNTERS.inc(ADDON_ERRORS, addon)
                _log_exception(addon)
                try:
                    apply_fail_mode(obj, addon, getattr(self, "core", None))
                except Exception:  # the fail path itself must never raise into mitmproxy
                    log.exception("crossingguard: applying the fail mode failed")
                    if isinstance(obj, http.HTTPFlow) and obj.response is None and \
                            obj.request.method != "CONNECT":
                        obj.kill()
                return None
        return wrapper
    return decorate
