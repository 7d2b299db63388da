"""Activity addon: every request to a catalog platform, allowed or not, goes to the activity log.

One record per request (agent.activity.ActivityLog: a writer thread hash-chains JSON lines into
daily files under <home>/activity; `write()` only enqueues, so the event loop never waits on disk).
The path is logged WITHOUT its query string (queries carry search terms and tokens).
Also logged: refused CONNECTs to pinned hosts, and requests a failing addon stopped (verdict from
the fail mode, rule "filter_error"). The log is flushed and closed in `done` (clean shutdown).

Durable before answered (policy `activity.durability: sync`, the default): the records written
during one event-loop iteration are handed to the log together at its end (`call_soon`, no timer)
with ONE commit ticket (an asyncio future resolved once the batch holding them is fsynced, group
commit: agent/activity/log.py; the first hand-over starts the log's group commit on this loop, so
the loop renders the lines and the fsync helper process writes and syncs them, and its answer
resolves the future on the loop, with no thread in between), and `responseheaders` (which runs before any
response byte goes to the client, for server responses and block pages alike) returns that future
when it is not resolved yet, so mitmproxy awaits it; nothing when the line is already on disk. So
the flow waits about one fsync, off the event loop (no task or timer per flow); other flows go on. If the line cannot be
made durable within COMMIT_TIMEOUT (a stalled disk) the response is released anyway and counted
(crossingguard_activity_commit_timeouts_total): holding every response of the district on a disk
failure would take the network down with the log; the gap is logged and visible in the metric.
With `durability: async` records are handed over in bursts every FLUSH_INTERVAL and nothing
waits (a crash can lose the last burst; `verify-log` prints the mode).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from datetime import datetime, timezone

from mitmproxy import http

from agent.activity.record import ActivityRecord
from agent.metrics import ACTIVITY_COMMIT_TIMEOUTS, COUNTERS
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


FLUSH_INTERVAL = 0.1   # async mode: seconds records wait on the loop before going to the log as one burst
COMMIT_TIMEOUT = 10.0  # sync mode: seconds a response waits at most for its line to be durable
EXPIRY_CHECK = 1.0     # sync mode: how often the COMMIT_TIMEOUT watchdog looks (module doc)
COMMIT_KEY = "crossingguard_commit"   # flow.metadata: the commit future of the flow's line


class Activity:
    name = "crossingguard_activity"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core, worker: int | None = None) -> None:
        self.core = core
        # Under `run --workers N` each worker writes a chain of its own (agent/activity/chains.py).
        # Given at construction, not as an option: mitmproxy configures an addon with the option
        # defaults before the command line is applied, and opening the top-level chain for that
        # moment in two workers at once would collide on its writer lock.
        self.worker = worker
        self.log = None
        self._generation = -1
        # Group commit: ActivityLog's writer fsyncs (and checkpoints) once per batch it finds in
        # its queue. Handing records over one by one at proxy rates made that one fsync per
        # request (~1.3 ms of CPU each, measured). We hand them over in bursts every
        # FLUSH_INTERVAL instead, so a batch holds everything from that interval. Crash cost:
        # at most FLUSH_INTERVAL of records, the same order as the log's own queue.
        self._buffer: list[ActivityRecord] = []
        self._drain_scheduled = False
        # sync mode: (deadline, commit future) in write order, for the COMMIT_TIMEOUT watchdog:
        # one timer for all flows instead of a timeout per awaited response.
        self._pending: collections.deque = collections.deque()
        self._expiry_scheduled = False
        self._group: tuple | None = None   # sync mode: (future, records) of this loop iteration
        self._commit_started = False       # sync mode: the log commits on the loop (start_group_commit)

    def configure(self, updated) -> None:
        state = self.core.state
        if state is None or self._generation == self.core.generation:
            return
        from agent.activity import ActivityLog
        from agent.activity.chains import chain_dir, register
        self.close()
        directory = chain_dir(state.home / "activity", self.worker)
        directory.mkdir(parents=True, exist_ok=True)
        if self.worker is not None:
            register(state.home / "activity", self.worker)
        self.log = ActivityLog(directory, state.policy.timezone)
        self._commit_started = False
        self._generation = self.core.generation   # the log registers its own metrics

    def _write(self, flow) -> None:
        v = flow.metadata.get(KEY)
        if v is None or self.log is None or v.logged:
            return
        v.logged = True
        policy = self.core.require().policy
        record = make_record(flow, v, policy)
        if record is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:      # no event loop (tools, tests): write through
            self.log.write(record)
            return
        if getattr(policy, "activity_durability", "sync") == "sync":
            # The records of one loop iteration share one commit future and go to the log as one
            # item at the end of the iteration (call_soon: no delay, no timer): per flow, only a
            # list append here; one queue put, one writer wake-up and one resolution per group.
            if self._group is None:
                self._group = (loop.create_future(), [])
                loop.call_soon(self._hand_over)
            fut, records = self._group
            records.append(record)
            flow.metadata[COMMIT_KEY] = fut
            return
        self._buffer.append(record)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            loop.call_later(FLUSH_INTERVAL, self._drain)

    def _hand_over(self) -> None:
        """sync mode: gives the loop iteration's records to the log with their shared future."""
        if self._group is None:
            return
        (fut, records), self._group = self._group, None
        if self.log is None:
            fut.set_result(False)   # closed under us: release the responses (nothing can be written)
            return
        if not self._commit_started:   # once per log, on the loop that will watch the helper's answers
            self._commit_started = True
            self.log.start_group_commit(asyncio.get_running_loop())
        self.log.write_group(records, fut)
        self._pending.append((time.monotonic() + COMMIT_TIMEOUT, fut,
                              f"{records[0].request_id} (+{len(records) - 1} more)" if len(records) > 1
                              else records[0].request_id))
        if not self._expiry_scheduled:
            self._expiry_scheduled = True
            asyncio.get_running_loop().call_later(EXPIRY_CHECK, self._expire)

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

    def responseheaders(self, flow: http.HTTPFlow):
        """Holds the response until the flow's activity line is durable (module doc): returns the
        commit future itself when it is not resolved yet (mitmproxy awaits what a hook returns),
        nothing when the line is already on disk. No coroutine or timer per flow: the future is
        resolved by the log (the fsync helper's answer, or the writer thread), or with False by
        `_expire` after COMMIT_TIMEOUT."""
        fut = flow.metadata.pop(COMMIT_KEY, None)
        if fut is None or fut.done():
            return None
        if self.log is not None:
            # The helper's answer may be in its socket already (it arrived in the same loop iteration
            # as this response): one recv resolves the future here instead of suspending the flow.
            # Measured at a fast disk: 87% of commits were done at this hook, 7% by this poll, 6% awaited.
            self.log.poll_commits()
        if fut.done():
            return None
        return fut

    def _expire(self) -> None:
        """The COMMIT_TIMEOUT watchdog: releases responses whose line is still not durable."""
        self._expiry_scheduled = False
        pending, now = self._pending, time.monotonic()
        while pending and (pending[0][1].done() or pending[0][0] <= now):
            _, fut, request_id = pending.popleft()
            if not fut.done():
                fut.set_result(False)
                COUNTERS.inc(ACTIVITY_COMMIT_TIMEOUTS)
                log.error("activity line of request %s not durable after %.0f s; response released",
                          request_id, COMMIT_TIMEOUT)
        if pending:
            self._expiry_scheduled = True
            asyncio.get_running_loop().call_later(EXPIRY_CHECK, self._expire)

    @guarded("activity")
    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None and flow.response.status_code == 403:
            self._write(flow)   # a refused tunnel to a pinned platform

    def close(self) -> None:
        self._drain()
        if self._group is not None and self.log is not None:
            (fut, records), self._group = self._group, None
            self.log.write_group(records, fut)   # the writer resolves it; the flush below waits for it
        if self.log is not None:
            try:
                self.log.flush(timeout=10)
            finally:
                self.log.close()
            self.log = None

    def done(self) -> None:
        self.close()
