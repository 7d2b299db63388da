"""SafeSearch addon: YouTube Restricted Mode and Google/Bing SafeSearch for the subjects the policy names.

- YouTube hosts get the `YouTube-Restrict: Strict` request header (YouTube's documented network
  control for Restricted Mode).
- Google web/image search gets `safe=active`; Bing search gets `adlt=strict`.
Which subjects: `engine.safesearch(subject)` (students and unknown devices in the shipped policy).
Runs after Enforce (blocked requests already have a response and are skipped).
"""
from __future__ import annotations

from mitmproxy import http

from proxy_addons.failmode import guarded
from proxy_addons.verdict import host_of, verdict_of

YOUTUBE_DOMAINS = ("youtube.com", "youtube-nocookie.com", "youtubei.googleapis.com",
                   "youtube.googleapis.com", "m.youtube.com")
GOOGLE_SEARCH_PATHS = ("/search", "/images", "/complete/search", "/webhp", "/imghp")
BING_SEARCH_PATHS = ("/search", "/images", "/videos", "/news", "/AS/Suggestions")


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def is_youtube(host: str) -> bool:
    return any(_under(host, d) for d in YOUTUBE_DOMAINS)


def is_google(host: str) -> bool:
    """google.com, www.google.co.uk, ... (a Google search front end, not every *.google* name)."""
    labels = host.split(".")
    if labels and labels[0] == "www":
        labels = labels[1:]
    return len(labels) in (2, 3) and labels[0] == "google" and all(len(x) <= 3 for x in labels[1:])


def is_bing(host: str) -> bool:
    return host in ("bing.com", "www.bing.com", "cn.bing.com")


def is_safesearch_host(host: str) -> bool:
    """Hosts this addon rewrites (the pass-through decision intercepts them for these subjects)."""
    host = host.lower().rstrip(".")
    return is_youtube(host) or is_google(host) or is_bing(host)


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
        host = host_of(flow)
        if not is_safesearch_host(host):
            return
        state = self.core.require()
        if not state.engine.safesearch(v.subject):
            return
        settings = state.policy.safesearch
        if is_youtube(host):
            value = getattr(settings, "youtube_header", "Strict")
            if value:
                flow.request.headers["YouTube-Restrict"] = value
            return
        path = flow.request.path.split("?", 1)[0]
        if is_google(host) and path.startswith(GOOGLE_SEARCH_PATHS) and getattr(settings, "google", True):
            flow.request.query["safe"] = "active"
        elif is_bing(host) and path.startswith(BING_SEARCH_PATHS) and getattr(settings, "bing", True):
            flow.request.query["adlt"] = "strict"
