"""Activity addon: every request to a catalog platform, allowed or not, goes to the activity log.

One record per request (agent.activity.ActivityLog: a writer thread hash-chains JSON lines into
daily files under <home>/activity; `write()` only enqueues, so the event loop never waits on disk).
The path is logged WITHOUT its query string (queries carry search terms and tokens).
Also logged: refused CONNECTs to pinned hosts, and requests a failing addon stopped (verdict from
the fail mode, rule "filter_error"). The log is flushed and closed in `done` (clean shutdown).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from mitmproxy import http

from agent.activity.record import ActivityRecord
from proxy_addons.failmode import guarded
from proxy_addons.verdict import KEY, host_of

log = logging.getLogger("crossingguard.activity")


def make_record(flow: http.HTTPFlow, v, policy) -> ActivityRecord | None:
    """The activity record for a flow, or None when it is not logged.

    Logged: requests to catalog platforms in the policy's activity categories (all categories
    when the policy lists none), and requests the fail mode handled.
    """
    d = v.decision
    if d is None and v.failed is None:
        return None
    if d is not None and v.failed is None:
        if d.platform is None:
            return None
        wanted = getattr(policy, "activity_categories", None)
        if wanted and d.category not in wanted:
            return None
    tz = policy.timezone
    subject, identity = v.subject, v.identity
    schools = getattr(subject, "schools", ()) or ()
    if d is not None:
        verdict, action, rule, guideline = d.verdict, d.action, d.rule, d.guideline
        platform, cohort = d.platform, d.cohort
    else:
        verdict = "block" if v.fail_action == "block" else "allow"
        action, rule, guideline, cohort = f"fail_{verdict}", "filter_error", "", None
        matched = policy.catalog.match(host_of(flow))
        platform = matched.id if matched is not None else None
    return ActivityRecord(
        time=datetime.fromtimestamp(v.started, timezone.utc).astimezone(tz).isoformat(timespec="milliseconds"),
        request_id=v.request_id,
        user=getattr(subject, "user_id", None) or getattr(identity, "user_id", None) or "unknown",
        device=getattr(identity, "device", None),
        school=schools[0] if schools else None,
        cohort=cohort,
        platform=platform,
        host=host_of(flow),
        method=flow.request.method,
        path=flow.request.path.split("?", 1)[0].split("#", 1)[0],
        verdict=verdict,
        action=action,
        rule=rule,
        guideline=guideline,
    )


FLUSH_INTERVAL = 0.1   # seconds records wait on the loop before going to the log as one burst


class Activity:
    name = "crossingguard_activity"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core) -> None:
        self.core = core
        self.log = None
        self._generation = -1
        # Group commit: ActivityLog's writer fsyncs (and checkpoints) once per batch it finds in
        # its queue. Handing records over one by one at proxy rates made that one fsync per
        # request (~1.3 ms of CPU each, measured). We hand them over in bursts every
        # FLUSH_INTERVAL instead, so a batch holds everything from that interval. Crash cost:
        # at most FLUSH_INTERVAL of records, the same order as the log's own queue.
        self._buffer: list[ActivityRecord] = []
        self._drain_scheduled = False

    def configure(self, updated) -> None:
        state = self.core.state
        if state is None or self._generation == self.core.generation:
            return
        from agent.activity import ActivityLog
        self.close()
        directory = state.home / "activity"
        directory.mkdir(parents=True, exist_ok=True)
        self.log = ActivityLog(directory, state.policy.timezone)
        self._generation = self.core.generation   # the log registers its own metrics

    def _write(self, flow) -> None:
        v = flow.metadata.get(KEY)
        if v is None or self.log is None or v.logged:
            return
        v.logged = True
        record = make_record(flow, v, self.core.require().policy)
        if record is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:      # no event loop (tools, tests): write through
            self.log.write(record)
            return
        self._buffer.append(record)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            loop.call_later(FLUSH_INTERVAL, self._drain)

    def _drain(self) -> None:
        self._drain_scheduled = False
        records, self._buffer = self._buffer, []
        if self.log is None:
            return
        for record in records:
            self.log.write(record)

    # Logged when the request is complete, after Posts (earlier in the addon list) may have held
    # it, so the line carries the final verdict. mitmproxy runs the `request` hook for blocked
    # flows too; a flow that dies before it (client gone mid-body) is logged from `error`.
    @guarded("activity")
    def request(self, flow: http.HTTPFlow) -> None:
        self._write(flow)

    @guarded("activity")
    def error(self, flow: http.HTTPFlow) -> None:
        self._write(flow)

    @guarded("activity")
    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None and flow.response.status_code == 403:
            self._write(flow)   # a refused tunnel to a pinned platform

    def close(self) -> None:
        self._drain()
        if self.log is not None:
            try:
                self.log.flush(timeout=10)
            finally:
                self.log.close()
            self.log = None

    def done(self) -> None:
        self.close()
