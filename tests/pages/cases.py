"""The page cases, built from the shipped ENSATSD policy (pure core; no proxy needed).

Each case is (name, status, html, json_body): the page exactly as the proxy would send it, made by
proxy_addons/blockpage.py from a real PolicyEngine decision.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from agent.context import AppContext
from agent.incidents import Outcome, hold_decision
from agent.policy.model import Subject
from proxy_addons.blockpage import block_response, fail_response, upstream_response

AT = datetime(2026, 12, 7, 14, 5, tzinfo=timezone.utc)    # a Monday, 9:05 AM in Massachusetts
YOUNG = Subject("stu-young", "student", 11)
TEEN = Subject("stu-teen", "student", 15, classes=frozenset({"cls-1"}))
REQUEST_ID = "0a1b2c3d00000042"


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    html: str
    json: dict


@lru_cache(maxsize=1)
def policy_and_engine():
    ctx = AppContext(None, None, None, None)
    return ctx.policy, ctx.engine


def held(categories: tuple[str, ...], labels: tuple[str, ...] | None = None):
    """The decision and held categories of a post to YouTube whose labels hold `categories`."""
    policy, engine = policy_and_engine()
    allowed = engine.decide(TEEN, "www.youtube.com", "POST", AT)
    labels = labels or categories
    guidelines = tuple(g for c in categories for g in policy.incident_guidelines.get(c, ()))
    outcome = Outcome(labels=labels, held=categories, held_guidelines=guidelines)
    return hold_decision(allowed, [outcome]), categories


def _pair(make):
    """(HTML response, parsed JSON body) for one case, both as the proxy would send them."""
    page = make("text/html,application/xhtml+xml")
    body = make("application/json")
    assert page.headers["X-CrossingGuard-Request-Id"] == REQUEST_ID
    return page, json.loads(body.content)


def build(name: str) -> Case:
    policy, engine = policy_and_engine()
    if name in ("under13", "read_only", "category", "category_piracy"):
        subject, host, method = {
            "under13": (YOUNG, "www.instagram.com", "GET"),
            "read_only": (TEEN, "www.youtube.com", "POST"),
            "category": (TEEN, "www.instagram.com", "GET"),
            "category_piracy": (YOUNG, "thepiratebay.org", "GET"),
        }[name]
        decision = engine.decide(subject, host, method, AT)
        page, body = _pair(lambda accept: block_response(policy, decision, REQUEST_ID, accept, at=AT))
    elif name in ("held_threat", "held_bullying", "held_threat_also_bullying"):
        categories, labels = {
            "held_threat": (("threat",), None),
            "held_bullying": (("bullying",), None),
            "held_threat_also_bullying": (("threat",), ("bullying", "threat")),
        }[name]
        decision, cats = held(categories, labels)
        page, body = _pair(lambda accept: block_response(policy, decision, REQUEST_ID, accept, held=cats, at=AT))
    elif name == "upstream":
        page, body = _pair(lambda accept: upstream_response(
            policy, "www.example.org", "[Errno 111] Connect call failed ('93.184.215.14', 443)", REQUEST_ID,
            accept))
    elif name == "fail":
        page, body = _pair(lambda accept: fail_response(policy, "www.instagram.com", REQUEST_ID, accept))
    else:
        raise KeyError(name)
    return Case(name, page.status_code, page.get_text(), body)


CASES = ("under13", "read_only", "category", "category_piracy", "held_threat", "held_bullying",
         "held_threat_also_bullying", "upstream", "fail")
