"""Median PolicyEngine.decide() time with the shipped catalog and ENSATSD policy.

    .venv/bin/python bench/bench_decide.py [--rounds 200] [--batch 2000]

Workload: a realistic mix of hosts a school proxy sees (page, API and CDN hosts of
social platforms, kids platforms, search, DoH, piracy, and ordinary sites outside the
catalog), methods (mostly GET), and subjects (students under and over 13, unknown
devices, staff), with one open teacher session in the list. Timing is per batch of
calls (perf_counter_ns), reported per call; the figure is the median over rounds.

The baseline, measured in the same run over the same inputs, is a bare `dict.get`
of the host: it shows the cost of the interpreter loop itself, so the ratio says how
much work decide() adds on this machine. Target: median under 20 microseconds.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.context import DEFAULT_POLICY  # noqa: E402
from agent.policy.engine import PolicyEngine  # noqa: E402
from agent.policy.loader import load_policy  # noqa: E402
from agent.policy.model import Subject  # noqa: E402
from agent.policy.sessions import TeacherSession  # noqa: E402

CATALOG_HOSTS = [
    "www.instagram.com", "i.instagram.com", "scontent-bos5-1.cdninstagram.com", "scontent.xx.fbcdn.net",
    "www.facebook.com", "x.com", "pbs.twimg.com", "api.x.com", "www.tiktok.com", "v16-webapp.tiktokcdn.com",
    "www.youtube.com", "i.ytimg.com", "rr3---sn-ab5l6nrz.googlevideo.com", "youtubei.googleapis.com",
    "www.reddit.com", "i.redd.it", "discord.com", "cdn.discordapp.com", "www.snapchat.com", "www.pinterest.com",
    "i.pinimg.com", "www.linkedin.com", "static.licdn.com", "www.youtubekids.com", "pbskids.org",
    "www.google.com", "www.bing.com", "dns.google", "mozilla.cloudflare-dns.com", "thepiratebay.org",
    "WWW.Instagram.com:443", "web.whatsapp.com", "bsky.social",
]
OTHER_HOSTS = [
    "en.wikipedia.org", "docs.google.com", "classroom.google.com", "www.khanacademy.org", "login.microsoftonline.com",
    "fonts.gstatic.com", "cdn.jsdelivr.net", "www.nytimes.com", "api.github.com", "update.googleapis.com",
    "notinstagram.com", "a.b.c.d.example.org", "ensatsd.example", "10.1.2.3",
]


def workload(n: int, seed: int = 7):
    rng = random.Random(seed)
    at = datetime(2026, 10, 6, 14, 30, tzinfo=timezone.utc)
    subjects = [
        Subject("stu-1", "student", 11, ("06",), ("org-mid",), frozenset({"cls-a"}), "device", "d1"),
        Subject("stu-2", "student", 15, ("10",), ("org-main",), frozenset({"cls-b", "cls-c"}), "auth", None),
        Subject("stu-3", "student", 17, ("12",), ("org-main",), frozenset({"cls-c"}), "device", "d3"),
        Subject("stu-4", "student", None, ("09",), ("org-main",), frozenset(), "device", "d4"),
        Subject("unknown", "unknown", None, (), (), frozenset(), "unknown", "10.0.0.9"),
        Subject("tch-1", "teacher", 41, (), ("org-main",), frozenset({"cls-b"}), "auth", None),
    ]
    sessions = [TeacherSession("ses-1", "tch-1", "cls-b", "youtube", at - timedelta(minutes=5),
                               at + timedelta(minutes=40))]
    items = []
    for _ in range(n):
        host = rng.choice(CATALOG_HOSTS) if rng.random() < 0.7 else rng.choice(OTHER_HOSTS)
        method = "GET" if rng.random() < 0.8 else rng.choice(["POST", "PUT", "OPTIONS", "HEAD"])
        items.append((rng.choice(subjects), host, method))
    return items, at, sessions


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--batch", type=int, default=2000)
    args = ap.parse_args(argv)

    engine = PolicyEngine(load_policy(DEFAULT_POLICY), None)
    items, at, sessions = workload(args.batch)
    decide = engine.decide
    table = {h: h for h in CATALOG_HOSTS}
    get = table.get

    for subject, host, method in items:        # warm caches, as a running proxy would be
        decide(subject, host, method, at, sessions)

    decide_ns, base_ns = [], []
    perf = time.perf_counter_ns
    for _ in range(args.rounds):
        t0 = perf()
        for subject, host, method in items:
            decide(subject, host, method, at, sessions)
        t1 = perf()
        for subject, host, method in items:
            get(host)
        t2 = perf()
        decide_ns.append((t1 - t0) / len(items))
        base_ns.append((t2 - t1) / len(items))

    cold = PolicyEngine(engine.policy, None)   # first-sight cost: empty subject/decision caches
    t0 = perf()
    for subject, host, method in items[:200]:
        cold.decide(subject, host, method, at, sessions)
    cold_us = (perf() - t0) / 200 / 1000

    med = statistics.median(decide_ns) / 1000
    base = statistics.median(base_ns) / 1000
    p95 = sorted(decide_ns)[int(0.95 * len(decide_ns)) - 1] / 1000
    print(f"decide() median: {med:.2f} us per call  (p95 of rounds {p95:.2f} us; target < 20 us)")
    print(f"baseline dict.get median: {base:.3f} us per call; decide/baseline ratio: {med / base:.1f}x")
    print(f"first-sight decide (cold caches, 200 calls): {cold_us:.2f} us per call")
    print(f"workload: {len(items)} requests/round x {args.rounds} rounds, "
          f"{len(engine.catalog)} platforms, {len(engine.policy.rules)} rules")
    print(json.dumps({"decide_median_us": round(med, 3), "baseline_median_us": round(base, 4),
                      "ratio": round(med / base, 2), "cold_us": round(cold_us, 3), "target_us": 20,
                      "ok": med < 20}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
