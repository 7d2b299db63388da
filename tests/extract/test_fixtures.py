"""Every fixture request yields exactly the posts its file says (tests/fixtures/extract/*.jsonl)."""
from __future__ import annotations

import json

import pytest

from tests.extract.shipped import extract_request, extract_websocket
from tests.extract.conftest import load_fixtures, request_args

FIXTURES = load_fixtures()


def run_fixture(row):
    if "websocket" in row:
        w = row["websocket"]
        return extract_websocket(w["host"], w["path"], w["message"])
    return extract_request(*request_args(row["request"]))


def matches(post, want) -> bool:
    if post.kind != want["kind"] or post.text != want["text"]:
        return False
    for key in ("account", "target"):
        if key in want and getattr(post, key) != want[key]:
            return False
    if "attachments" in want:
        if len(post.attachments) != len(want["attachments"]):
            return False
        for att, w in zip(post.attachments, want["attachments"]):
            if att.content_type != w["content_type"] or len(att.sha256) != 64 or att.size <= 0:
                return False
            if w.get("phash") and not (att.phash and len(att.phash) == 16):
                return False
    return True


@pytest.mark.parametrize("name,row", FIXTURES, ids=[n for n, _ in FIXTURES])
def test_fixture(name, row):
    result = run_fixture(row)
    assert result.error is None, result.error
    assert result.platform == row["platform"]
    for want in row["expect"]:
        assert any(matches(p, want) for p in result.posts), f"missing {want!r} in {result.posts!r}"
    if row.get("exact", True):
        assert len(result.posts) == len(row["expect"]), result.posts
    dumped = json.dumps(result.to_json(), ensure_ascii=False)
    for secret in row.get("forbid", []):
        assert secret not in dumped


def test_fixture_set_covers_every_platform_and_trap():
    platforms = {row["platform"] for _, row in FIXTURES}
    for pid in ("x", "instagram", "facebook", "threads", "tiktok", "youtube", "reddit", "discord", "snapchat",
                "pinterest", "tumblr", "bluesky", "mastodon", "twitch"):
        assert pid in platforms
    encodings = {row["request"]["headers"].get("content-encoding") for _, row in FIXTURES if "request" in row}
    assert {"gzip", "br", "zstd", "deflate"} <= encodings
    assert sum(1 for _, row in FIXTURES if row["expect"] == []) >= 5      # requests that must yield nothing
