"""A review app over a throw-away store with the demo roster, one account per role and a few
synthetic incidents in two schools (org-mid, org-main)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.context import AppContext
from agent.review.app import ReviewConfig, ReviewDeps, create_app
from agent.review.auth import LoginThrottle, ThrottleRule, hash_password
from agent.store import Incident

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)   # argon2 is slow on purpose: hash once for every account
HOSTILE = ('Meet me after class <script>alert("x")</script> <img src=x onerror="alert(2)"> '
           '<a href="javascript:alert(3)">click</a> or I will hurt you')

ACCOUNTS = {
    "admin1": ("admin", ()),
    "cmid": ("counselor", ("org-mid",)),
    "cmain": ("counselor", ("org-main",)),
    "aud": ("auditor", ()),
    "itguy": ("it", ()),
}


@dataclass
class Env:
    ctx: AppContext
    app: object
    ids: dict = field(default_factory=dict)

    @property
    def store(self):
        return self.ctx.store

    def client(self, username: str | None = None):
        c = self.app.test_client()
        c.csrf = None
        if username:
            r = c.post("/api/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.json
            c.csrf = r.json["csrf"]
        return c

    def audit(self, action: str | None = None):
        return [e for e in self.store.audit_entries() if action is None or e["action"] == action]


def make_incident(store, *, school, text="you are such a loser nobody likes you", labels=("bullying",),
                  severity="high", kind="post", user="stu-1001", created=None, platform="instagram",
                  evidence=(), device=None, identified_by=None):
    inc = Incident.new(user=user, platform=platform, kind=kind, text=text, labels=labels,
                       scores={c: (0.9 if c in labels else 0.05) for c in
                               ("bullying", "threat", "self_harm", "pii", "impersonation")},
                       evidence=evidence, severity=severity, guidelines=("student.9",), school=school,
                       created=created, device=device, identified_by=identified_by)
    store.add_incident(inc)
    return inc


def build_env(home: Path, throttle: LoginThrottle | None = None, idle_minutes: float = 30) -> Env:
    ctx = AppContext(home)
    ctx.ensure_home()
    for name, (role, schools) in ACCOUNTS.items():
        ctx.store.add_account(name, role, schools, PASSWORD_HASH, actor="test")
    deps = ReviewDeps(store=ctx.store, policy=ctx.policy, roster=ctx.roster, devices=ctx.devices)
    app = create_app(deps, ReviewConfig(idle_minutes=idle_minutes,
                                        throttle=throttle or LoginThrottle(ThrottleRule(5, 900, 900),
                                                                           ThrottleRule(50, 900, 900))))
    app.testing = True
    env = Env(ctx, app)
    now = datetime.now(timezone.utc)
    start = HOSTILE.index("hurt you")
    env.ids["mid_threat"] = make_incident(
        ctx.store, school="org-mid", text=HOSTILE, labels=("threat",), severity="critical",
        created=now - timedelta(minutes=42),
        evidence=({"category": "threat", "kind": "pattern", "text": "hurt you", "start": start,
                   "end": start + len("hurt you")},)).id
    env.ids["mid_bully"] = make_incident(ctx.store, school="org-mid", created=now - timedelta(hours=2)).id
    env.ids["main_bully"] = make_incident(ctx.store, school="org-main", user="stu-2001",
                                          text="main campus secret words").id
    env.ids["bypass"] = make_incident(ctx.store, school="org-mid", kind="bypass", labels=(), severity="medium",
                                      text="bypass text must stay hidden", platform="tiktok").id
    return env


@pytest.fixture
def env(tmp_path):
    e = build_env(tmp_path / "home")
    yield e
    e.store.close()
