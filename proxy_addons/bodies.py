"""Bodies addon: large bodies are streamed, not held in the proxy's memory (issue 11: five parallel
50 MB uploads took the proxy to 888 MB), while every request is still judged.

For a request whose declared length is over `crossingguard_stream_bodies` (default 2 MB), decided
in `requestheaders` after Enforce (the policy decision is made on the headers, before any body
byte is read):
  - blocked by the policy: the connection is closed at once (no page: sending one would mean
    reading, and holding, the whole upload first);
  - a write to a platform from a student or unknown device whose body is text (not an image,
    video, audio, octet-stream or multipart upload): it could not be read within the extraction
    limit anyway, so it is refused, fail closed as for every unreadable post (posts.py), and counted
    in crossingguard_unreadable_posts_total{action="held"};
  - anything else (media uploads, staff, reads): streamed to the site chunk by chunk; the post
    classifier does not see such a body (only crossingguard_post_max_bytes would be read anyway).
Responses over the same size are streamed to the client too.

Only declared lengths are known before the body arrives: a chunked upload without a length is
buffered as before (browsers send lengths for form and file uploads).
"""
from __future__ import annotations

import logging

from mitmproxy import ctx, exceptions, http
from mitmproxy.utils import human

from agent.incidents import MEDIA_TYPES
from agent.metrics import COUNTERS, UNREADABLE_POSTS
from agent.policy.model import STAFF_ROLES
from proxy_addons.failmode import guarded
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.bodies")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def declared_length(headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


class Bodies:
    name = "crossingguard_bodies"

    def __init__(self, core) -> None:
        self.core = core
        self.threshold: int | None = 2 * 1024 * 1024

    def load(self, loader) -> None:
        loader.add_option("crossingguard_stream_bodies", str, "2m",
                          "Bodies declared larger than this are streamed, not held in memory (k/m/g suffixes; "
                          "empty: never). Blocked or unreadable large student posts are refused.")

    def configure(self, updated) -> None:
        if "crossingguard_stream_bodies" in updated:
            try:
                self.threshold = human.parse_size(ctx.options.crossingguard_stream_bodies or None)
            except ValueError as exc:
                raise exceptions.OptionsError(f"crossingguard_stream_bodies: {exc}") from None

    @guarded("bodies")
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        size = declared_length(flow.request.headers)
        if self.threshold is None or size is None or size <= self.threshold:
            return
        v = verdict_of(flow)
        decision = v.decision
        if flow.response is not None:
            # Blocked (or refused by an earlier addon): close instead of reading the upload to
            # send the page.
            flow.response = None
            flow.kill()
            return
        if decision is None:
            return
        mime = flow.request.headers.get("content-type", "").split(";")[0].strip().lower()
        role = getattr(v.subject, "role", "unknown")
        if flow.request.method.upper() in WRITE_METHODS and decision.platform is not None \
                and role not in STAFF_ROLES and not mime.startswith(MEDIA_TYPES):
            COUNTERS.inc(UNREADABLE_POSTS, decision.platform, "held")
            log.warning("crossingguard: a %d-byte %s post to %s by a student could not be read; refused "
                        "(request id %s)", size, mime or "untyped", decision.platform, v.request_id)
            flow.kill()
            return
        flow.request.stream = True

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or self.threshold is None:
            return
        size = declared_length(flow.response.headers)
        if size is not None and size > self.threshold:
            flow.response.stream = True
