"""Reading what a student wrote out of an outgoing request (issue 3, PLATFORMS.md).

`extract_request` and `extract_websocket` never raise on bad input: a body that cannot be read
comes back as `Extraction(error=reason)` for the caller to count; a body not read because of a
limit or a precondition as `skipped=reason` (too_large, not_a_write, not_a_platform). Bodies that
simply hold no user text (media uploads, telemetry, Discord gateway frames) come back with no
posts and neither field set, so callers that count `skipped` do not count normal traffic. Cost matters: these run on the
proxy's event loop for every write request, so parsing is lazy and bounded (size, depth, count).
"""
from __future__ import annotations

from typing import Mapping

from classifiers.extract.decode import decode_body
from classifiers.extract.generic import generic_extract, walk
from classifiers.extract.platforms import resolve
from classifiers.extract.posts import PostList
from classifiers.extract.registry import EXTRACTORS, TELEMETRY
from classifiers.extract.request import Request, to_utf8
from classifiers.extract.result import ExtractError, Extraction, TooLarge
from classifiers.extract.scan import compact, compact_multipart
from classifiers.extract.sites import twitch

__all__ = ["Extraction", "extract_request", "extract_websocket", "read_within_limit", "WRITE_METHODS",
           "DEFAULT_MAX_BYTES"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_MAX_BYTES = 1_000_000
SCAN_FACTOR = 4      # a body is decoded and scanned up to 4x the extraction limit, then compacted (scan.py)


def read_within_limit(body: bytes, headers: Mapping[str, str], max_bytes: int) -> bytes:
    """The body decoded (Content-Encoding undone, UTF-16/32 re-encoded as UTF-8) and, when that is
    over `max_bytes`, compacted field by field to within it (scan.py: a padded post is read, not
    held as unreadable). Decoding stops at SCAN_FACTOR x max_bytes (TooLarge: a bomb, or too much
    to scan). Raises TooLarge for a large body that is not JSON, a form or multipart (media, text)
    and ExtractError for one that cannot be read. `headers` keys are lower-case. The proxy calls this
    before shipping a body over the limit to a worker, so a worker never receives more than
    `max_bytes` (posts.py)."""
    content_type = headers.get("content-type", "").strip()
    body = to_utf8(decode_body(body, headers.get("content-encoding"), SCAN_FACTOR * max_bytes), content_type)
    if len(body) > SCAN_FACTOR * max_bytes:
        raise TooLarge()
    if len(body) > max_bytes:
        mime = content_type.split(";")[0].strip().lower()
        if mime.startswith("multipart/"):
            body = compact_multipart(body, content_type, max_bytes)
        else:
            body = compact(body, mime, max_bytes)
    return body


def extract_request(method: str, url: str, headers: Mapping[str, str] | None, body: bytes | None, *,
                    max_bytes: int = DEFAULT_MAX_BYTES, platform: str | None = None, catalog=None) -> Extraction:
    """`platform`: the id the caller already decided (the policy decision's), else found from the host
    in `catalog` (the policy's Catalog; None: by path only, see platforms.py)."""
    try:
        req = Request(method, url, dict(headers or {}), body or b"")
    except Exception as exc:                         # an unparsable URL
        return Extraction(None, error=f"bad_url: {type(exc).__name__}")
    platform = platform or resolve(req.host, req.path, catalog)
    if platform is None:
        # Only catalog platforms are read (privacy: the filter reads posts to social platforms, not the web).
        return Extraction(None, skipped="not_a_platform")
    if req.method not in WRITE_METHODS:
        return Extraction(platform, skipped="not_a_write")
    scan_max = SCAN_FACTOR * max_bytes
    if len(req.body) > scan_max:
        return Extraction(platform, skipped="too_large")
    if any(t in req.path for t in TELEMETRY):
        return Extraction(platform)                  # benign: not counted as a failure by the caller
    try:
        req.body = read_within_limit(req.body, req.headers, max_bytes)
        req.platform = platform
        if req.kind == "garbage":
            raise ExtractError("binary_garbage")
        if req.kind == "binary" and platform != "snapchat":
            return Extraction(platform)              # media upload bodies: nothing to read, not a failure
        out = PostList(req.attachments)
        extractor = EXTRACTORS.get(platform)
        if extractor is None or not extractor(req, out):
            generic_extract(req, out)
        return Extraction(req.platform, out.posts)
    except TooLarge:
        return Extraction(platform, skipped="too_large")
    except ExtractError as exc:
        return Extraction(platform, error=exc.reason)
    except Exception as exc:                         # fail-open for the proxy: a bug here never kills a flow
        return Extraction(platform, error=f"internal_{type(exc).__name__}")


def extract_websocket(host: str, path: str, message: bytes | str, *,
                      max_bytes: int = DEFAULT_MAX_BYTES, platform: str | None = None,
                      catalog=None) -> Extraction:
    """One client-to-server WebSocket message (mitmproxy's websocket_message hook, from_client only).
    `platform` / `catalog` as for `extract_request`."""
    try:
        host = (host or "").lower().rstrip(".")
        platform = platform or resolve(host, path or "/", catalog)
        if platform is None:
            return Extraction(None, skipped="not_a_platform")
        if len(message) > max_bytes:
            return Extraction(platform, skipped="too_large")
        if platform == "discord" and host.startswith("gateway"):
            # the gateway carries presence, heartbeats and received events; messages are sent over REST
            return Extraction(platform)
        if isinstance(message, bytes):
            try:
                message = message.decode("utf-8")
            except UnicodeDecodeError:
                return Extraction(platform)         # binary frames (protobuf, compressed): not read, not a failure
        out = PostList()
        if platform == "twitch":
            twitch.irc_lines(message, out)
            return Extraction(platform, out.posts)
        stripped = message.lstrip()
        if stripped[:1] not in ("{", "["):
            return Extraction(platform)
        import json
        try:
            data = json.loads(message)
        except (ValueError, RecursionError):
            return Extraction(platform, error="malformed_json")
        walk(data, out, "message")
        return Extraction(platform, out.posts)
    except Exception as exc:
        return Extraction(None, error=f"internal_{type(exc).__name__}")
