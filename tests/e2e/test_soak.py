"""A bounded soak in the suite (issue 11): about two minutes of steady, realistic load on a real
`crossingguard run` (tests/support/soak.py: students reading, blocks, pass-through, DoH, posts in
a teacher session, idle connections), loopback only. After a warm-up, the proxy's open
descriptors do not grow and its RSS stays within bounds. The 30-minute version is bench/soak.py.

Marked `soak` (pytest -m "not soak" skips it): it costs ~2 minutes of wall time, mostly waiting.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import TEEN_IP, UNKNOWN_IP, YOUNG_IP
from tests.support import trust
from tests.support.soak import run_soak

pytestmark = [pytest.mark.e2e, pytest.mark.soak]

SECONDS = int(os.environ.get("CG_SOAK_SECONDS", "110"))
WARMUP = 30
RATE = 12          # mix entries per second (each up to 3 keep-alive requests)


def test_steady_load_for_two_minutes_keeps_descriptors_and_memory_flat(tmp_path, district, upstream, origin_pki):
    from tests.e2e.conftest import start_proxy
    _, roster, _ = district
    proxy = start_proxy(tmp_path / "home", district, upstream)
    with proxy:
        opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                           "--platform", "youtube", "--minutes", "30")
        assert opened.returncode == 0, opened.stderr
        result = run_soak(proxy.port, proxy.proc.pid, {"teen": TEEN_IP, "young": YOUNG_IP, "unknown": UNKNOWN_IP},
                          trust([proxy.ca_file, origin_pki.ca_cert]), seconds=SECONDS, rate=RATE)
        verified = proxy.cli("verify-log")
    warm, last = result.at(WARMUP), result.samples[-1]
    report = {"requests": result.requests, "errors": result.errors, "statuses": result.statuses,
              "failures": result.failures,
              "rss_warm_kb": warm.rss_kb, "rss_end_kb": last.rss_kb, "fds_warm": warm.fds, "fds_end": last.fds}
    print("soak:", json.dumps(report))
    assert result.requests >= SECONDS * RATE * 0.9, report
    assert result.errors <= result.requests * 0.01, report
    assert {200, 403} <= set(result.statuses), report
    assert last.fds <= warm.fds + 5, report                                   # no descriptor growth
    assert last.rss_kb <= warm.rss_kb * 1.10 + 8_000, report                  # bounded after warm-up
    assert verified.returncode == 0, verified.stdout + verified.stderr
