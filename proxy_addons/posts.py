"""Posts addon: read what a student sends to a platform, judge it, and raise incidents.

Runs on write requests (POST/PUT/PATCH) and client WebSocket messages that the policy let
through (Enforce already decided; this addon never overrides a block). Extraction and the
classifiers run in a process pool (proxy_addons.classifier_pool): the event loop only awaits.

Per category the policy chooses (policy `incidents:`):
  flag  the post goes through and an incident is written for counselors;
  hold  the post is not sent; the student gets a page saying why (e.g. another student's
        personal information, student guideline 4) and an incident is written.

FAIL-OPEN, written down where it is made: if the classifier pool fails or times out, the post
is let through and the failure is logged and counted (ADDON_ERRORS "posts"). The policy had
already allowed the write; classification is a safety net on top, and failing closed here would
silently drop every post on the network whenever a worker dies. IT sees the error count rise.

FAIL-CLOSED for what cannot be read (issue 11): a write whose body the extractors could not read
(agent.incidents.unreadable_hold says which) is held for students and unknown devices and counted
(crossingguard_unreadable_posts_total{platform, action="held"|"passed"}). Only the extraction
limit is shipped to a worker: a body over crossingguard_post_max_bytes is compacted here first (a
padded JSON or form post keeps every field, each value capped; a multipart form keeps its text
parts, capped, and the files that still fit: classifiers/extract/scan.py) or,
when it cannot be (media, unreadable), not sent to the pool at all, so a 50 MB upload
never grows a worker. A student's multipart upload over crossingguard_stream_bodies is read while
it streams (proxy_addons/streamread.py): only its text parts, capped, reach the pool, and the end
of its body waits for the judgment here.

Privacy: post text leaves this process only inside an incident; nothing is logged per post.
"""
from __future__ import annotations

import asyncio
import logging
import time

from mitmproxy import ctx, exceptions, http

from agent.incidents import Outcome, hold_decision, judge, unreadable_hold
from agent.metrics import (ADDON_ERRORS, CLASSIFIER_LATENCY, COUNTERS, EXTRACTION_FAILURES, INCIDENTS,
                           POSTS, POSTS_CLASSIFIED, UNREADABLE_POSTS)
from classifiers.extract import read_within_limit
from classifiers.extract.result import ExtractError, TooLarge
from classifiers.jobs import Job, JobResult
from proxy_addons.classifier_pool import ClassifierService
from proxy_addons.blockpage import block_response
from proxy_addons.streamread import CLASSIFY_KEY, READER_KEY
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.posts")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def should_judge(method: str, decision) -> bool:
    """Only writes the policy allowed, to a known platform, are read."""
    return (decision is not None and decision.verdict == "allow" and decision.platform is not None
            and method.upper() in WRITE_METHODS)


class Posts:
    name = "crossingguard_posts"

    def __init__(self, core) -> None:
        self.core = core
        self.service: ClassifierService | None = None
        self.enabled = True
        self.max_bytes = 1_000_000

    def load(self, loader) -> None:
        loader.add_option("crossingguard_classify", bool, True,
                          "Read outgoing posts on social platforms and judge them (bullying, threats, "
                          "self-harm, impersonation, personal information). Off: writes are only logged.")
        loader.add_option("crossingguard_classify_workers", int, 1,
                          "Worker processes for extraction and classification (CPU-bound; one per spare core).")
        loader.add_option("crossingguard_post_max_bytes", int, 1_000_000,
                          "Largest request body read for posts; larger bodies are logged as skipped, never parsed.")

    def configure(self, updated) -> None:
        if not {"crossingguard_classify", "crossingguard_classify_workers", "crossingguard_post_max_bytes",
                "crossingguard_policy", "crossingguard_roster"} & set(updated):
            return
        o = ctx.options
        if o.crossingguard_classify_workers < 1:
            raise exceptions.OptionsError("crossingguard_classify_workers must be at least 1")
        if o.crossingguard_post_max_bytes < 1024:
            raise exceptions.OptionsError("crossingguard_post_max_bytes must be at least 1024")
        self.enabled = o.crossingguard_classify
        self.max_bytes = o.crossingguard_post_max_bytes
        if self.service is not None:
            self.service.close()
            self.service = None
        if not self.enabled or self.core.state is None:
            return
        context = self.core.state.context
        self.service = ClassifierService(roster_path=str(context.roster_path),
                                         policy_path=str(context.policy_path),
                                         workers=o.crossingguard_classify_workers,
                                         max_bytes=o.crossingguard_post_max_bytes)

    def running(self) -> None:
        if self.service is not None:
            self.service.start()   # spawn and warm the workers before the first post

    def done(self) -> None:
        if self.service is not None:
            self.service.close()
            self.service = None

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A judged write may turn out to be a multipart upload over the stream limit: its text is
        then read while it streams (proxy_addons/streamread.py), which starts our judgment through
        the starter left here, as soon as the text is complete."""
        if self.service is None or flow.request.method.upper() not in WRITE_METHODS:
            return
        if should_judge(flow.request.method, verdict_of(flow).decision):
            flow.metadata[CLASSIFY_KEY] = self._classify_streamed

    def _classify_streamed(self, flow: http.HTTPFlow, body: bytes) -> tuple[Job, asyncio.Future]:
        """The text parts of a streamed upload (a small multipart body, same boundary) sent to the
        pool now; the result is awaited in `request` (called from the stream callable, on the loop)."""
        v = verdict_of(flow)
        headers = tuple((k, v_) for k, v_ in flow.request.headers.items(multi=True)
                        if k.lower() not in ("content-length", "content-encoding", "transfer-encoding"))
        job = Job(method=flow.request.method, url=flow.request.pretty_url, headers=headers, body=body,
                  author=_user(v), platform=v.decision.platform)
        return job, asyncio.ensure_future(self.service.judge(job))

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.service is None:
            return
        post = flow.metadata.get(READER_KEY)
        if post is not None:
            await self._judge_streamed(flow, post)
            return
        if flow.request.stream:
            return   # streamed past the limit: bodies.py decided it (held or passed) on the headers
        v = verdict_of(flow)
        if not should_judge(flow.request.method, v.decision):
            return
        try:
            body = flow.request.raw_content or b""
            headers = tuple((k, v_) for k, v_ in flow.request.headers.items(multi=True))
            known = None
            if len(body) > self.max_bytes:
                # a linear, capped scan (scan.py), off the event loop so other flows keep moving
                body, headers, known = await asyncio.to_thread(within_limit, body, headers, self.max_bytes,
                                                               v.decision.platform)
            job = Job(method=flow.request.method, url=flow.request.pretty_url, headers=headers,
                      body=body, author=_user(v), platform=v.decision.platform)
            held = await self._judge(job, v, flow.request.headers.get("accept", ""), known)
        except Exception:   # fail open (module doc): async hooks are not wrapped by failmode.guarded
            COUNTERS.inc(ADDON_ERRORS, "posts")
            log.exception("crossingguard posts: judging a request failed; post let through")
            return
        if held is not None:
            flow.response = held

    async def _judge_streamed(self, flow: http.HTTPFlow, post) -> None:
        """A multipart upload read while it streamed (streamread): its text parts judged like a
        buffered post (the judgment started when the text was complete); a hold is handed to the
        stream as its page, and the stream aborts the site's side. No text parts (a media upload):
        nothing to judge. A body that could not be parsed was held by Bodies already."""
        v = verdict_of(flow)
        if post.page is not None or post.error is not None or post.job is None \
                or not should_judge(flow.request.method, v.decision):
            return
        try:
            held = await self._judge(post.job, v, flow.request.headers.get("accept", ""), pending=post.task)
        except Exception:   # fail open (module doc), as for a buffered post
            COUNTERS.inc(ADDON_ERRORS, "posts")
            log.exception("crossingguard posts: judging a streamed post failed; post let through")
            return
        if held is not None:
            post.page = held

    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        if self.service is None or flow.websocket is None:
            return
        message = flow.websocket.messages[-1]
        if not message.from_client or message.dropped:   # Enforce may have dropped it already
            return
        v = verdict_of(flow)
        if v.decision is None or v.decision.verdict != "allow" or v.decision.platform is None:
            return
        try:
            job = Job(method="WEBSOCKET", url=flow.request.pretty_url, headers=(), body=message.content,
                      author=_user(v), platform=v.decision.platform, websocket=True)
            held = await self._judge(job, v, "")
        except Exception:   # fail open (module doc)
            COUNTERS.inc(ADDON_ERRORS, "posts")
            log.exception("crossingguard posts: judging a WebSocket message failed; message relayed")
            return
        if held is not None:
            message.drop()   # held: the message is not relayed

    async def _judge(self, job: Job, v, accept: str, known: JobResult | None = None,
                     pending: asyncio.Future | None = None) -> http.Response | None:
        """Judge one request; returns the hold page when a post must not be sent.

        The judgement is agent.incidents.judge (pure); here: await the pool (or the classification
        already `pending` for a streamed post), count, hand each incident to a worker thread, and
        build the response from the hold Decision."""
        platform = v.decision.platform
        try:
            result: JobResult = known if known is not None else \
                await (pending if pending is not None else self.service.judge(job))
        except Exception:  # fail open: see module doc
            COUNTERS.inc(ADDON_ERRORS, "posts")
            log.exception("crossingguard posts: classification failed; post let through")
            return None
        if result.error:
            COUNTERS.inc(EXTRACTION_FAILURES, platform, _reason(result.error))
        elif result.skipped == "too_large":   # not_a_write / not_a_platform are not failures
            COUNTERS.inc(EXTRACTION_FAILURES, platform, "too_large")
        policy = self.core.state.policy
        if result.error or result.skipped == "too_large":
            mime = dict((k.lower(), v) for k, v in job.headers).get("content-type", "").split(";")[0].strip().lower()
            held = unreadable_hold(v.decision, getattr(v.subject, "role", "unknown"), mime, result.error,
                                   result.skipped)
            COUNTERS.inc(UNREADABLE_POSTS, platform, "held" if held is not None else "passed")
            if held is not None:
                v.decision = held
                return block_response(policy, held, v.request_id, accept)
        outcomes: list[Outcome] = []
        for judged in result.posts:
            COUNTERS.inc(POSTS, platform, judged.post.kind)
            COUNTERS.inc(POSTS_CLASSIFIED, platform)
            COUNTERS.observe(CLASSIFIER_LATENCY, result.seconds / max(len(result.posts), 1))
            # The hold is decided before anything is written (judge), so a failing store can
            # never turn a held post into a published one.
            outcome = judge(judged.classification, judged.post, v.subject, v.decision, policy,
                            request_id=v.request_id, device=v.identity.device if v.identity else None,
                            identified_by=v.identity.source if v.identity else None)
            outcomes.append(outcome)
            if outcome.incident is None:
                continue
            try:
                await self._record(outcome.incident)
                v.incidents.append(outcome.incident)   # the alerts addon (after us) alerts critical ones
            except Exception:
                # The store spools when the database is down; anything else (a bug, a full
                # disk) is logged and counted, and the remaining posts are still judged.
                COUNTERS.inc(ADDON_ERRORS, "posts")
                log.exception("crossingguard posts: writing an incident failed")
                continue
            for label in outcome.labels:
                COUNTERS.inc(INCIDENTS, label, outcome.severity, outcome.incident.school or "unassigned")
        decision = hold_decision(v.decision, outcomes)
        if decision is not None:
            v.decision = decision
            held = tuple(dict.fromkeys(c for outcome in outcomes for c in outcome.held))
            return block_response(policy, decision, v.request_id, accept, held=held)
        return None

    async def _record(self, incident) -> None:
        """Write the incident off the loop: the store takes a lock and may touch disk (or spool)."""
        store = self.core.state.context.store
        started = time.perf_counter()
        await asyncio.to_thread(store.add_incident, incident)
        if time.perf_counter() - started > 1.0:
            log.warning("crossingguard posts: writing an incident took %.1f s", time.perf_counter() - started)


def within_limit(body: bytes, headers: tuple, max_bytes: int, platform: str) -> tuple[bytes, tuple, JobResult | None]:
    """A body over the extraction limit, made fit to ship to a worker (module doc): a padded JSON or
    form post is compacted field by field (classifiers.extract.read_within_limit), so it is read and
    judged by what it says; what cannot be compacted (media, an unreadable body) is not
    shipped at all and answered here as too_large or the extraction error, as before. The compacted
    body is sent decoded, so Content-Encoding and any charset are dropped from its headers."""
    lower = {k.lower(): v for k, v in headers}
    try:
        compacted = read_within_limit(body, lower, max_bytes)
    except TooLarge:
        return b"", headers, JobResult(platform=platform, skipped="too_large")
    except ExtractError as exc:
        return b"", headers, JobResult(platform=platform, error=exc.reason)
    mime = lower.get("content-type", "").split(";")[0].strip()
    if mime.lower().startswith("multipart/"):
        mime = lower.get("content-type", "").strip()   # the boundary: the compacted body keeps it
    kept = tuple((k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-type", "content-length"))
    return compacted, kept + (("content-type", mime),), None


def _user(v) -> str | None:
    subject = v.subject
    user = getattr(subject, "user_id", None)
    return None if user in (None, "unknown") else user


def _reason(error: str | None) -> str:
    """A bounded label value from an extraction error message (first word only)."""
    if not error:
        return "unknown"
    word = error.split(":", 1)[0].split()[0].lower() if error.split() else "unknown"
    return word if word.replace("_", "").isalnum() and len(word) <= 32 else "other"

