"""Which platform a request goes to, when the caller has not already decided it.

The proxy always passes the platform its policy decision named (the policy's own catalog, so a
platform a district adds is read too). Callers without a decision (the `extract` command) pass a
catalog: the policy's `Catalog`, or anything with `match(host)` returning an object with `id` and
`category`. This package keeps no list of domains of its own: the catalog is the only one.

Two platforms cannot be matched by host: Mastodon runs on any instance and Bluesky on any PDS, so
both are also matched by path, for any host (and YouTube's Data API on Google's shared API host).
"""
from __future__ import annotations

# DNS-over-HTTPS and web search are in the catalog for enforcement, not because people post there:
# their bodies (DNS messages, search telemetry) are never read as posts.
NOT_READ_CATEGORIES = frozenset({"doh", "search"})


def _platform_id(catalog, host: str) -> str | None:
    if catalog is None:
        return None
    try:
        platform = catalog.match(host)
    except Exception:
        return None
    if platform is None or getattr(platform, "category", None) in NOT_READ_CATEGORIES:
        return None
    return platform.id


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
    """The platform id for `host` in `catalog` (None: no host lookup), else by path."""
    # a platform whose real API lives on another product's host (Bluesky PDS on bsky.network is
    # fine by host; a Mastodon path on an unknown instance is not)
    return _platform_id(catalog, host) or by_path(path, host)
