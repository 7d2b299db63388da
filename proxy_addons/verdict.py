"""What our addons know about one flow, shared through `flow.metadata["crossingguard"]`.

Each addon fills in its part (identity, then decision) and later addons read it: no addon
calls another directly, so each stays one concern and can be tested alone with tflow.
"""
from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # for readers and type checkers; verdict.py stays free of imports at run time
    from agent.identity import Identity
    from agent.policy import Decision, Subject

KEY = "crossingguard"


_PREFIX = os.urandom(4).hex()          # per process: ids from two proxy processes never collide
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """16 hex digits (process prefix + counter): finds one request in the activity log.

    Not a secret, so no per-request randomness (a getrandom syscall per request costs ~10 us in
    this sandbox; the counter costs nothing).
    """
    return f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFF:08x}"


@dataclass
class FlowVerdict:
    request_id: str = field(default_factory=new_request_id)
    identity: Identity | None = None
    subject: Subject | None = None
    decision: Decision | None = None
    started: float = field(default_factory=time.time)
    failed: str | None = None     # name of the addon whose hook raised (fail mode applied)
    fail_action: str | None = None  # "block" | "allow": what the fail mode did
    host: str | None = None       # the request's host (Host header / authority), computed once
    logged: bool = False          # written to the activity log (exactly once per flow)


def host_of(flow) -> str:
    """flow.request.pretty_host, lower-cased, computed once per flow (it parses and IDNA-checks
    the authority each time it is read, ~12 us)."""
    v = verdict_of(flow)
    if v.host is None:
        v.host = flow.request.pretty_host.lower().rstrip(".")
    return v.host


def verdict_of(flow) -> FlowVerdict:
    """The flow's FlowVerdict, created on first use."""
    v = flow.metadata.get(KEY)
    if v is None:
        v = flow.metadata[KEY] = FlowVerdict()
    return v
