"""Addon test fixtures: the shipped policy, a synthetic roster, and our addons in taddons.context."""
from __future__ import annotations

import pytest
from mitmproxy.test import taddons, tflow, tutils

from agent.context import AppContext
from proxy_addons.activity import Activity
from proxy_addons.state import Core, load_state
from proxy_addons.enforce import Enforce
from proxy_addons.identity import IdentityAddon
from proxy_addons.passthrough import Passthrough
from proxy_addons.safesearch import SafeSearch
from proxy_addons.sessions import SessionCache
from tests.support import write_devices, write_test_roster

YOUNG_IP, TEEN_IP, TEACHER_IP, UNKNOWN_IP = "10.1.0.11", "10.1.0.12", "10.1.0.13", "10.1.0.99"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    base = tmp_path_factory.mktemp("district")
    roster = write_test_roster(base / "roster")
    devices = write_devices(base / "devices.csv", [
        ("dev-young", roster.young, YOUNG_IP, ""), ("dev-teen", roster.teen, TEEN_IP, ""),
        ("dev-teacher", roster.teacher, TEACHER_IP, "")])
    return base, roster, devices


class Stack:
    """Our addons (without the optional metrics/posts ones) in hook order, inside taddons.context."""

    def __init__(self, tctx, core, sessions, identity, passthrough, enforce, safesearch, activity):
        self.tctx, self.core, self.sessions, self.identity = tctx, core, sessions, identity
        self.passthrough, self.enforce, self.safesearch, self.activity = passthrough, enforce, safesearch, activity
        self.chain = [core, sessions, identity, passthrough, enforce, safesearch, activity]

    @property
    def state(self):
        return self.core.state

    def send(self, flow):
        """What mitmproxy does for one complete request: every addon's `requestheaders`, then
        every addon's `request` (in list order)."""
        for event in ("requestheaders", "request"):
            for addon in self.chain:
                hook = getattr(addon, event, None)
                if hook:
                    hook(flow)
        return flow


def options_for(home, roster, devices, policy=None) -> dict:
    return {"crossingguard_home": str(home), "crossingguard_roster": str(roster.directory),
            "crossingguard_devices": str(devices), "crossingguard_policy": str(policy or "")}


@pytest.fixture
def stack(tmp_path, district):
    base, roster, devices = district
    home = tmp_path / "home"
    state = load_state(AppContext(home, None, roster.directory, devices))
    core = Core(state)
    sessions = SessionCache(core)
    identity = IdentityAddon(core)
    addons = (core, sessions, identity, Passthrough(core, identity), Enforce(core, sessions),
              SafeSearch(core), Activity(core))
    with taddons.context(*addons) as tctx:
        opts = options_for(home, roster, devices, state.context.policy_path)
        tctx.configure(core, **opts)
        addons[-1].configure(set(opts))
        s = Stack(tctx, *addons)
        try:
            yield s
        finally:
            addons[-1].done()


def make_flow(ip: str, host: str, method: str = "GET", path: str = "/", headers: dict | None = None,
              content: bytes = b""):
    req = tutils.treq(host=host, port=443, scheme=b"https", method=method.encode(), path=path.encode(),
                      authority=b"", content=content)
    req.headers.clear()
    req.headers["Host"] = host
    for k, v in (headers or {}).items():
        req.headers[k] = v
    f = tflow.tflow(req=req)
    f.client_conn.peername = (ip, 40000)
    return f
