"""`crossingguard run --workers N`: throughput and proxy CPU per request, 1 worker vs 2, in one run.

Workload: the 15-year-old's device (127.0.0.12) makes "visits" to YouTube hosts (a catalog
platform: every request is intercepted, decided, logged to the activity chain): a new proxy
connection (CONNECT + TLS) and REQUESTS_PER_VISIT keep-alive GETs each, from several client
threads (tests/support/loadgen.py, a lean raw-socket client). The origin and the upstream CONNECT
forwarder run in their own processes. Each configuration gets a fresh --home and the same load.

Figures, per store (SQLite under --home; PostgreSQL when a throw-away cluster can be started):
  throughput       ok requests/s seen by the client; ratio 2 workers / 1 worker
  proxy CPU/req    user+system CPU of every proxy process (supervisor, workers, their classifier
                   pools) divided by requests; ratio 2 workers / 1 worker (target <= 1.10: the work
                   per request does not grow with processes, so capacity grows with cores)
  client CPU/req   this load generator's CPU per request, and the machine's cores: what caps raw
                   throughput when the generator shares the cores with the proxy

Usage: python bench/bench_workers.py [--visits N] [--threads T] [--rounds R] [--no-postgres]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import loadgen  # noqa: E402
from tests.support import (CrossingGuardProcess, free_port, spawn_forwarder, spawn_origin, trust,  # noqa: E402
                           make_pki, write_devices, write_test_roster)

CLIENT_IP = "127.0.0.12"
HOSTS = ("www.youtube.com", "m.youtube.com", "youtube.com")
REQUESTS_PER_VISIT = 4


def cpu_of_tree(root: int) -> float:
    """User+system CPU seconds of `root` and all its descendants alive now (from /proc)."""
    total, todo, seen = 0.0, [root], set()
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def switches_of_tree(root: int) -> int:
    """Involuntary context switches of every thread of `root` and its descendants (from /proc):
    how often the kernel took a CPU away from the proxy in the middle of its work."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("nonvoluntary_ctxt_switches:"):
                        total += int(line.split()[1])
                todo += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


class Proxy(CrossingGuardProcess):
    def __init__(self, home: Path, workers: int, **kw):
        super().__init__(home, **kw)
        cut = self.argv.index("--") if "--" in self.argv else len(self.argv)
        self.argv[cut:cut] = ["--workers", str(workers)]


def start(workers: int, store_url: str | None, base: Path, roster, devices, fwd_port: int) -> Proxy:
    home = Path(tempfile.mkdtemp(dir=base, prefix=f"w{workers}-"))
    policy = None
    if store_url:
        from agent.context import DEFAULT_POLICY
        policy = home.parent / f"policy-{home.name}.yaml"
        policy.write_text(DEFAULT_POLICY.read_text() + f"\nstore:\n  url: {store_url}\n")
    proxy = Proxy(home, workers, roster=roster.directory, devices=devices, policy=policy,
                  port=free_port(), metrics_port=0, start_timeout=120,
                  mitm_args=["--mode", f"upstream:http://127.0.0.1:{fwd_port}", "--set", "ssl_insecure=true"])
    return proxy.start()


def warm(proxy: Proxy, threads: int) -> None:
    """Every worker loaded its models, minted its leaf certificates and filled its caches."""
    ctx = trust(proxy.ca_file)
    hosts = [HOSTS[i % len(HOSTS)] for i in range(40)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, ok, bad = loadgen.run(("127.0.0.1", proxy.port), hosts, REQUESTS_PER_VISIT, ctx, threads,
                                 source_ip=CLIENT_IP)
        if ok and not bad:
            return


def one_round(proxy: Proxy, visits: int, threads: int) -> tuple[float, float, float, int, float]:
    """(ok requests/s, proxy CPU s per request, client CPU s per request, errors,
    involuntary context switches of the proxy per request)."""
    ctx = trust(proxy.ca_file)
    hosts = [HOSTS[i % len(HOSTS)] for i in range(visits)]
    c0, s0 = cpu_of_tree(proxy.proc.pid), switches_of_tree(proxy.proc.pid)
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    rate, ok, bad = loadgen.run(("127.0.0.1", proxy.port), hosts, REQUESTS_PER_VISIT, ctx, threads,
                                source_ip=CLIENT_IP)
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    c1, s1 = cpu_of_tree(proxy.proc.pid), switches_of_tree(proxy.proc.pid)
    client = ((u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)) / max(ok, 1)
    return rate, (c1 - c0) / max(ok, 1), client, bad, (s1 - s0) / max(ok, 1)


def measure_pair(store_url, base, roster, devices, fwd_port, visits, threads, rounds) -> tuple[dict, dict]:
    """Both configurations run at once (an idle worker group costs ~0.2% of a core, measured) and
    their rounds alternate, so drifting background load on this shared machine hits both alike."""
    proxies = {1: start(1, store_url, base, roster, devices, fwd_port),
               2: start(2, store_url, base, roster, devices, fwd_port)}
    try:
        for p in proxies.values():
            warm(p, threads)
        samples = {1: [], 2: []}
        for r in range(rounds):
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                samples[n].append(one_round(proxies[n], visits, threads))
    finally:
        for p in proxies.values():
            p.stop()
    out = []
    for n in (1, 2):
        rates, cpus, clients, errs, sw = zip(*samples[n])
        out.append({"rate": statistics.median(rates), "cpu": statistics.median(cpus),
                    "client": statistics.median(clients), "errors": sum(errs), "switches": statistics.median(sw)})
    return out[0], out[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visits", type=int, default=150)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--no-postgres", action="store_true")
    a = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="cg-bench-workers-"))
    pki = make_pki(base / "pki")
    roster = write_test_roster(base / "roster")
    devices = write_devices(base / "devices.csv", [("dev-teen", roster.teen, CLIENT_IP, "")])
    stores: list[tuple[str, str | None]] = [("sqlite", None)]
    cluster = None
    if not a.no_postgres:
        from tests.support.postgres import PostgresCluster, postgres_unavailable
        why = postgres_unavailable()
        if why:
            print(f"PostgreSQL: skipped ({why})")
        else:
            cluster = PostgresCluster().__enter__()
    print(f"bench_workers: {a.visits} visits x {REQUESTS_PER_VISIT} requests, {a.threads} client threads, "
          f"{a.rounds} rounds (median); {os.cpu_count()} CPUs shared by proxy, client, origin, forwarder")
    try:
        if cluster is not None:
            stores.append(("postgresql", cluster.create_database("bench")))
        with spawn_origin(pki.leaf_cert, pki.leaf_key) as origin, \
                spawn_forwarder(origin.ports[0], origin.ports[1]) as fwd:
            for name, url in stores:
                one, two = measure_pair(url, base, roster, devices, fwd.ports[0], a.visits, a.threads, a.rounds)
                cpu_ratio = two["cpu"] / one["cpu"]
                print(f"\n[{name}]  (load average during the run: {os.getloadavg()[0]:.1f})")
                for label, r in (("1 worker ", one), ("2 workers", two)):
                    print(f"  {label}  {r['rate']:7.1f} req/s   proxy CPU {r['cpu'] * 1000:6.2f} ms/req   "
                          f"client CPU {r['client'] * 1000:5.2f} ms/req   preempted {r['switches']:.2f}/req   "
                          f"errors {r['errors']}")
                print(f"  throughput ratio 2/1 workers: {two['rate'] / one['rate']:.2f}")
                print(f"  proxy CPU per request ratio 2/1 workers: {cpu_ratio:.2f} "
                      f"(target <= 1.10: {'met' if cpu_ratio <= 1.10 else 'NOT met'})")
                total = two["cpu"] + two["client"]
                print(f"  what caps raw throughput: proxy {two['cpu'] * 1000:.2f} + client {two['client'] * 1000:.2f} "
                      f"ms of CPU per request on {os.cpu_count()} cores -> at most "
                      f"{os.cpu_count() / total:.0f} req/s here before origin/forwarder/kernel costs; "
                      f"one proxy process alone: {1 / one['cpu']:.0f} req/s per core")
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
