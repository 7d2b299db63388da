"""Incidents written per second through the proxy's write path, to SQLite and to PostgreSQL
(a throw-away local cluster, tests/support/postgres.py), as a ratio; and the spool's rate (the
database down). The write path is the one proxy_addons/posts.py takes: one shared Store, each
add_incident handed to a worker thread (`asyncio.to_thread`) from the event loop, CONCURRENCY
at once (posts arriving together). Loopback only, bounded loops.

Also the alert latency: a real `crossingguard run` with `--alert-webhook` to a local receiver;
a 15-year-old (in a teacher session) posts threats one after another; for each, the time from
sending the post to the webhook receiving its alert (target under 5 s).

Usage: python bench/bench_store.py [--incidents N] [--concurrency C] [--alerts M] [--skip-alerts]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent.store import Incident, open_store  # noqa: E402
from tests.support.postgres import PostgresCluster, postgres_unavailable  # noqa: E402


def incident(i: int) -> Incident:
    return Incident.new(user=f"stu-{i % 500}", platform="instagram", kind="comment",
                        text=f"synthetic bench post number {i}, nobody likes you loser",
                        labels=("bullying",), scores={"bullying": 0.91, "threat": 0.02},
                        evidence=({"category": "bullying", "kind": "model", "text": "loser", "start": 40,
                                   "end": 45, "weight": 1.0},),
                        severity="high", guidelines=("student.9",), request_id=f"req-{i}", school="org-main")


async def write_all(store, incidents: list[Incident], concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one(inc):
        async with sem:
            await asyncio.to_thread(store.add_incident, inc)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in incidents))
    return time.perf_counter() - started


def rate(url: str | None, home: Path, n: int, concurrency: int, rounds: int = 3) -> float:
    """Best of `rounds` (incidents per second), each on a fresh batch of ids."""
    store = open_store(url, home, timeout=5)
    best = 0.0
    for r in range(rounds):
        batch = [incident(r * n + i) for i in range(n)]
        seconds = asyncio.run(write_all(store, batch, concurrency))
        best = max(best, n / seconds)
    stored = len(store.incidents()) if not store.last_error else None
    store.close()
    if stored is not None and stored != rounds * n:
        raise SystemExit(f"{url or 'sqlite'}: expected {rounds * n} incidents stored, found {stored}")
    return best


def bench_stores(n: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cg-bench-store-") as tmp:
        tmp = Path(tmp)
        sqlite = rate(None, tmp / "sqlite", n, concurrency)
        print(f"SQLite (WAL, home/crossingguard.db): {sqlite:8.0f} incidents/s  "
              f"({n} per round, {concurrency} concurrent, best of 3)")
        reason = postgres_unavailable()
        if reason:
            print(f"PostgreSQL: skipped ({reason})")
            return
        with PostgresCluster() as pg:
            url = pg.create_database("bench")
            postgres = rate(url, tmp / "pg", n, concurrency)
            print(f"PostgreSQL (local cluster, TCP): {postgres:8.0f} incidents/s  ratio PostgreSQL/SQLite "
                  f"{postgres / sqlite:.2f}")
            pg.stop()
            spool = rate(url, tmp / "pg-down", n, concurrency, rounds=1)
            print(f"spool (PostgreSQL down):          {spool:8.0f} incidents/s  ratio spool/SQLite "
                  f"{spool / sqlite:.2f}")


def bench_alert_latency(count: int) -> None:
    import json

    from tests.support import (ConnectForwarder, CrossingGuardProcess, LocalOrigin, make_pki, proxied_client,
                               write_devices, write_test_roster)
    from tests.support.receivers import WebhookReceiver

    with tempfile.TemporaryDirectory(prefix="cg-bench-alerts-") as tmp:
        tmp = Path(tmp)
        pki = make_pki(tmp / "pki")
        roster = write_test_roster(tmp / "roster")
        devices = write_devices(tmp / "devices.csv", [("dev-teen", roster.teen, "127.0.0.12", "")])
        secret = tmp / "secret"
        secret.write_text("bench-secret\n")
        with LocalOrigin(pki.leaf_cert, pki.leaf_key) as origin, \
                ConnectForwarder(origin.https_port, origin.http_port) as fwd, WebhookReceiver() as hook, \
                CrossingGuardProcess(tmp / "home", roster=roster.directory, devices=devices,
                                     run_args=["--alert-webhook", hook.url, "--alert-secret-file", str(secret)],
                                     mitm_args=["--mode", f"upstream:{fwd.url}", "--set", "ssl_insecure=true",
                                                "--set", "crossingguard_session_refresh_ms=300"]) as proxy:
            opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                               "--platform", "youtube", "--minutes", "30")
            assert opened.returncode == 0, opened.stderr
            url = "https://www.youtube.com/youtubei/v1/comment/create_comment"

            def comment(text):
                return {"context": {"client": {"clientName": "WEB", "clientVersion": "2.2026"}},
                        "createCommentParams": "Eg0SC2FiY2RlZmdoaWpr", "commentText": text}

            latencies = []
            with proxied_client(proxy.url, proxy.ca_file, source_ip="127.0.0.12", timeout=30) as c:
                deadline = time.monotonic() + 30
                while c.post(url, json=comment("hello class")).status_code != 200:
                    if time.monotonic() > deadline:
                        raise SystemExit("the teacher session never reached the proxy")
                    time.sleep(0.2)
                for i in range(count):
                    sent = time.time()
                    c.post(url, json=comment(f"I will shoot up the school tomorrow, everyone pays {i}"))
                    got = hook.wait_for(i + 1, timeout=30)
                    if len(got) < i + 1:
                        raise SystemExit(f"alert {i} did not arrive within 30 s")
                    latencies.append(got[i].at - sent)
            ids = {json.loads(r.body)["incident"] for r in hook.received}
            assert len(ids) == count, "an alert was doubled or lost"
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(f"alert latency post -> webhook ({count} critical posts, one at a time): "
          f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms  (target under 5000 ms: {'met' if latencies[-1] < 5 else 'NOT met'})")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--incidents", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--alerts", type=int, default=20)
    p.add_argument("--skip-alerts", action="store_true")
    args = p.parse_args(argv)
    bench_stores(args.incidents, args.concurrency)
    if not args.skip_alerts:
        bench_alert_latency(args.alerts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
