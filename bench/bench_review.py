"""Review app: queue page and /api/incidents server time with 100,000 incidents (SQLite).

Server time = the request handled in-process by the Flask app (routing, session, store query,
audit write, rendering), measured with the test client, so the figure is the app's and not the
network's. Target: p95 under 100 ms. Baseline in the same run: the same requests over a store of
1,000 incidents; the ratio shows whether keyset paging keeps the cost flat as the table grows.

    python bench/bench_review.py [--incidents 100000] [--requests 60] [--postgres]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.context import AppContext  # noqa: E402
from agent.review.app import ReviewConfig, ReviewDeps, create_app  # noqa: E402
from agent.store.incident import iso, new_id  # noqa: E402

SCHOOLS = ("org-mid", "org-main", "org-s3", "org-s4", "org-s5", "org-s6")
SEVERITY = (("critical", 0.05), ("high", 0.25), ("medium", 0.40), ("low", 0.30))
LABELS = {"critical": ["threat"], "high": ["bullying"], "medium": ["pii"], "low": []}
STATUS = (("closed", 0.6), ("dismissed", 0.2), ("open", 0.12), ("reviewing", 0.06), ("escalated", 0.02))
PLATFORMS = ("instagram", "tiktok", "snapchat", "x", "discord", "youtube")


def pick(rng, table):
    r, acc = rng.random(), 0.0
    for value, p in table:
        acc += p
        if r < acc:
            return value
    return table[-1][0]


def populate(store, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    rows = []
    for i in range(n):
        sev = pick(rng, SEVERITY)
        created = now - timedelta(seconds=rng.randrange(0, 180 * 86400))
        rows.append((new_id("inc"), iso(created), f"stu-{rng.randrange(1000, 9000)}", rng.choice(PLATFORMS), "post",
                     "synthetic post text number %d" % i, json.dumps(LABELS[sev]), json.dumps({"bullying": 0.1}),
                     "[]", sev, json.dumps(["student.9"]), pick(rng, STATUS), None, rng.choice(SCHOOLS)))

    def write(conn):
        conn.cursor().executemany(store.dialect.sql(
            "INSERT INTO incidents (id, created, user_id, platform, kind, text, labels, scores, evidence, severity, "
            "guidelines, status, request_id, school) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), rows)
    with store._lock:  # noqa: SLF001 - a bench fills the table in one transaction
        store._write(write)  # noqa: SLF001
        store._write(lambda conn: conn.execute("ANALYZE"))  # noqa: SLF001 - fresh planner statistics


def signed_in(app, username):
    review = app.extensions["crossingguard_review"]
    s = review.sessions.create(username, "127.0.0.1")
    c = app.test_client()
    c.set_cookie("cg_review", app.session_interface.get_signing_serializer(app).dumps({"sid": s.sid}))
    return c


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def measure(n: int, requests: int, url: str | None = None) -> dict[str, tuple[float, float]]:
    from agent.store import open_store
    home = Path(tempfile.mkdtemp(prefix="cg-bench-review-"))
    ctx = AppContext(home)
    store = open_store(url, home)
    store.add_account("admin", "admin", (), None, actor="bench")
    store.add_account("counselor", "counselor", ("org-mid", "org-main"), None, actor="bench")
    t0 = time.perf_counter()
    populate(store, n)
    print(f"  {n:,} incidents written in {time.perf_counter() - t0:.1f} s", flush=True)
    app = create_app(ReviewDeps(store, ctx.policy, ctx.roster, ctx.devices), ReviewConfig())
    admin, counselor = signed_in(app, "admin"), signed_in(app, "counselor")
    # a cursor 20 pages deep, to show deep pages cost what the first costs
    cursor = deep = None
    for _ in range(20):
        cursor = admin.get("/api/incidents" + (f"?cursor={cursor}" if cursor else "")).json["next"]
        deep = cursor or deep
        if cursor is None:
            break
    cases = {
        "queue page (admin)": (admin, "/queue"),
        "queue page (counselor, 2 schools)": (counselor, "/queue"),
        "queue page status=open&category=threat": (admin, "/queue?status=open&category=threat"),
        "/api/incidents (admin)": (admin, "/api/incidents"),
        "/api/incidents page 21": (admin, f"/api/incidents?cursor={deep}"),
        "/api/incidents school+platform": (admin, "/api/incidents?school=org-s3&platform=tiktok"),
        "/api/incidents limit=500": (admin, "/api/incidents?limit=500"),
    }
    out = {}
    for name, (client, url) in cases.items():
        client.get(url)  # warm
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        out[name] = (pct(times, 50), pct(times, 95))
    store.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=1_000)
    ap.add_argument("--requests", type=int, default=60)
    ap.add_argument("--postgres", action="store_true",
                    help="also on a throw-away PostgreSQL cluster (tests/support/postgres.py)")
    ap.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL figures")
    args = ap.parse_args(argv)
    rc = 0 if args.no_sqlite else report("SQLite", args, None)
    if args.postgres:
        try:
            from tests.support.postgres import PostgresCluster, postgres_unavailable
        except ImportError:
            print("PostgreSQL: tests/support/postgres.py is not in this checkout; skipped")
            return rc
        why = postgres_unavailable()
        if why:
            print(f"PostgreSQL: skipped: {why}")
            return rc
        with PostgresCluster() as pg:
            rc |= report("PostgreSQL", args, pg)
    return rc


def report(engine: str, args, pg) -> int:
    url_base = pg.create_database("bench_base") if pg else None
    url_big = pg.create_database("bench_big") if pg else None
    print(f"\n[{engine}] baseline: {args.baseline:,} incidents")
    base = measure(args.baseline, args.requests, url_base)
    print(f"[{engine}] measured: {args.incidents:,} incidents")
    big = measure(args.incidents, args.requests, url_big)
    print(f"\n{'request':42s} {'p50 ms':>8s} {'p95 ms':>8s} {'p95 @' + format(args.baseline, ','):>10s} {'ratio':>6s}")
    worst = 0.0
    for name, (p50, p95) in big.items():
        b95 = base[name][1]
        worst = max(worst, p95)
        print(f"{name:42s} {p50:8.1f} {p95:8.1f} {b95:10.1f} {p95 / b95:6.2f}")
    print(f"\n[{engine}] worst p95 {worst:.1f} ms at {args.incidents:,} incidents: target < 100 ms -> "
          + ("MET" if worst < 100 else "NOT MET"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
