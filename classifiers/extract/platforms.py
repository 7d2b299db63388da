"""Which platform a request goes to.

The shipped catalog (agent.policy.catalog) is the authority for hosts. Two platforms cannot be
matched by host: Mastodon runs on any instance and Bluesky on any PDS, so both are also matched
by path, for any host. Until the catalog module exists, a small host map stands in for it.
"""
from __future__ import annotations

_FALLBACK_DOMAINS = {
    "x": ("x.com", "twitter.com", "twimg.com", "t.co"),
    "instagram": ("instagram.com", "cdninstagram.com"),
    "facebook": ("facebook.com", "fb.com", "fbcdn.net"),
    "messenger": ("messenger.com",),
    "threads": ("threads.net", "threads.com"),
    "tiktok": ("tiktok.com", "tiktokv.com", "musical.ly", "byteoversea.com"),
    "youtube": ("youtube.com", "youtu.be", "youtube.googleapis.com", "youtubei.googleapis.com"),
    "reddit": ("reddit.com", "redd.it"),
    "discord": ("discord.com", "discordapp.com", "discord.gg", "discord.media"),
    "snapchat": ("snapchat.com",),
    "pinterest": ("pinterest.com",),
    "tumblr": ("tumblr.com",),
    "twitch": ("twitch.tv",),
    "bluesky": ("bsky.app", "bsky.social", "bsky.network", "bsky.chat"),
    "linkedin": ("linkedin.com",),
}
_FALLBACK = {d: pid for pid, ds in _FALLBACK_DOMAINS.items() for d in ds}

# DNS-over-HTTPS and web search are in the catalog for enforcement, not because people post there:
# their bodies (DNS messages, search telemetry) are never read as posts.
NOT_READ_CATEGORIES = frozenset({"doh", "search"})

_catalog = None
_catalog_tried = False


def _catalog_match(host: str, catalog=None):
    """Returns (found_catalog, platform_id). `catalog`: a policy's extended catalog, else the shipped one."""
    global _catalog, _catalog_tried
    if catalog is not None:
        return True, _platform_id(catalog, host)
    if not _catalog_tried:
        _catalog_tried = True
        try:
            from agent.policy.catalog import default_catalog
            _catalog = default_catalog()
        except Exception:          # not built yet, or broken: the fallback map keeps extraction working
            _catalog = None
    if _catalog is None:
        return False, None
    return True, _platform_id(_catalog, host)


def _platform_id(catalog, host: str) -> str | None:
    try:
        platform = catalog.match(host)
    except Exception:
        return None
    if platform is None or getattr(platform, "category", None) in NOT_READ_CATEGORIES:
        return None
    return platform.id


def _fallback_match(host: str) -> str | None:
    labels = host.split(".")
    for i in range(len(labels) - 1):
        pid = _FALLBACK.get(".".join(labels[i:]))
        if pid:
            return pid
    return None


def by_path(path: str, host: str = "") -> str | None:
    # Google's shared API host serves the YouTube Data API under /youtube/
    if path.startswith("/youtube/") and (host == "googleapis.com" or host.endswith(".googleapis.com")):
        return "youtube"
    if path.startswith("/xrpc/") and (".bsky." in path or "com.atproto." in path):
        return "bluesky"
    if path.startswith(("/api/v1/statuses", "/api/v1/accounts", "/api/v2/media", "/api/v1/media")):
        return "mastodon"
    return None


def resolve(host: str, path: str, catalog=None) -> str | None:
    found, pid = _catalog_match(host, catalog)
    if not found:
        pid = _fallback_match(host)
    # a platform whose real API lives on another product's host (Bluesky PDS on bsky.network is
    # fine by host; a Mastodon path on an unknown instance is not)
    return pid or by_path(path, host)
