"""SafeSearch addon: YouTube Restricted Mode and Google/Bing SafeSearch for the subjects the policy names.

Keyed on platform ids of the policy's catalog (the catalog is the only list of domains):
- `youtube` gets the `YouTube-Restrict` request header (YouTube's documented network control for
  Restricted Mode; Strict or Moderate from the policy);
- `google_search` (web/image search) gets `safe=active`; `bing` search gets `adlt=strict`.
A district that adds a host to one of these platforms in its policy (catalog.add_domains) gets
SafeSearch there too. Every catalog platform is intercepted (engine.must_intercept), so these
requests are seen without any host list here.
Which subjects: `engine.safesearch(subject)` (students and unknown devices in the shipped policy).
Runs after Enforce (blocked requests already have a response and are skipped).
"""
from __future__ import annotations

from mitmproxy import http

from proxy_addons.failmode import guarded
from proxy_addons.verdict import host_of, verdict_of

# platform id -> what is added (the policy's safesearch settings say whether, and how strict)
YOUTUBE, GOOGLE, BING = "youtube", "google_search", "bing"
SAFESEARCH_PLATFORMS = frozenset({YOUTUBE, GOOGLE, BING})
GOOGLE_SEARCH_PATHS = ("/search", "/images", "/complete/search", "/webhp", "/imghp")
BING_SEARCH_PATHS = ("/search", "/images", "/videos", "/news", "/AS/Suggestions")


class SafeSearch:
    name = "crossingguard_safesearch"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core) -> None:
        self.core = core

    @guarded("safesearch")
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        v = verdict_of(flow)
        if v.subject is None:
            return
        state = self.core.require()
        # The Host header's platform (not the decision's, which may come from a stricter SNI).
        platform = state.engine.catalog.match(host_of(flow))
        if platform is None or platform.id not in SAFESEARCH_PLATFORMS:
            return
        if not state.engine.safesearch(v.subject):
            return
        settings = state.policy.safesearch
        if platform.id == YOUTUBE:
            value = settings.youtube_header
            if value:
                flow.request.headers["YouTube-Restrict"] = value
            return
        path = flow.request.path.split("?", 1)[0]
        if platform.id == GOOGLE and path.startswith(GOOGLE_SEARCH_PATHS) and settings.google:
            flow.request.query["safe"] = "active"
        elif platform.id == BING and path.startswith(BING_SEARCH_PATHS) and settings.bing:
            flow.request.query["adlt"] = "strict"
