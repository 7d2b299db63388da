"""posts.within_limit: what the proxy ships to a classifier worker for a body over the extraction
limit (issue 11): a padded JSON/form post compacted to at most the limit, decoded, with headers
that say so; anything else not shipped at all, answered as before."""
from __future__ import annotations

import gzip
import json

import pytest

from classifiers.extract import extract_request
from proxy_addons.posts import within_limit

LIMIT = 1_000_000
THREAT = "I will shoot up the school tomorrow"


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_padded_post_is_shipped_compacted_and_decoded(encoding):
    raw = json.dumps({"pad": "x" * 2_000_000, "commentText": THREAT}).encode()
    headers = (("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(raw))))
    if encoding:
        raw = gzip.compress(raw) + b"\0" * LIMIT          # over the limit on the wire as well
        headers += (("Content-Encoding", "gzip"),)
    body, shipped, known = within_limit(raw, headers, LIMIT, "youtube")
    assert known is None and 0 < len(body) <= LIMIT
    names = [k.lower() for k, _ in shipped]
    assert "content-encoding" not in names and "content-length" not in names
    assert ("content-type", "application/json") in shipped
    # the worker's extractor reads the shipped body as it is
    result = extract_request("POST", "https://www.youtube.com/youtubei/v1/comment/create_comment",
                             dict(shipped), body, platform="youtube", max_bytes=LIMIT)
    assert [p.text for p in result.posts] == [THREAT]


@pytest.mark.parametrize("mime,raw,expect", [
    ("image/jpeg", b"\xff\xd8" + b"x" * 1_200_000, ("too_large", None)),
    ("application/json", b'{"commentText": "' + b"x" * 1_200_000, (None, "malformed_json")),
    ("application/json", json.dumps({"p": [1] * 600_000}).encode(), (None, "too_many_fields")),
])
def test_what_cannot_be_compacted_is_never_shipped(mime, raw, expect):
    body, _, known = within_limit(raw, (("Content-Type", mime),), LIMIT, "youtube")
    assert body == b"" and known is not None
    assert (known.skipped, known.error) == expect
