"""Extraction runs for every write request: keep it cheap. Measured median is ~20 us per fixture;
the bound here is loose (CI machines vary) but catches an accidental quadratic or a heavy import."""
from __future__ import annotations

import statistics
import time

from tests.extract.shipped import extract_request
from tests.extract.conftest import load_fixtures, request_args


def test_median_time_per_fixture_request_is_small():
    reqs = [request_args(row["request"]) for _, row in load_fixtures() if "request" in row]
    for args in reqs:
        extract_request(*args)                                # warm caches and imports
    medians = []
    for args in reqs:
        runs = []
        for _ in range(15):
            t = time.perf_counter()
            extract_request(*args)
            runs.append(time.perf_counter() - t)
        medians.append(statistics.median(runs))
    assert statistics.median(medians) < 0.0005               # 500 us; measured ~20 us
    assert max(medians) < 0.02                                # image hashing included; measured ~0.3 ms


def test_large_text_body_is_linear():
    import json
    body = json.dumps({"content": "word " * 150_000}).encode()       # 750 kB, under the limit
    t = time.perf_counter()
    result = extract_request("POST", "https://discord.com/api/v9/channels/1/messages",
                             {"content-type": "application/json"}, body)
    assert time.perf_counter() - t < 0.5
    assert len(result.posts) == 1
