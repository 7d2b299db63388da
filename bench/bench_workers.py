"""`crossingguard run --workers N`: throughput and proxy CPU per request, 1 worker vs 2, in one run.

Workload: the 15-year-old's device (127.0.0.12) makes "visits" to YouTube hosts (a catalog
platform: every request is intercepted, decided, logged to the activity chain): a new proxy
connection (CONNECT + TLS) and REQUESTS_PER_VISIT keep-alive GETs each, from several client
threads (tests/support/loadgen.py, a lean raw-socket client). The origin and the upstream CONNECT
forwarder run in their own processes. Each configuration gets a fresh --home and the same load.

Two loads, both measured in the same run for both configurations, rounds alternating:
  SATURATED  T client threads as fast as they can (closed loop): the most either configuration
             serves here. On a machine where the client, origin and forwarder share the cores, two
             busy workers are also preempted far more often, which costs CPU per request.
  FIXED      the SAME offered load for 1 and 2 workers (open loop: visits start on a schedule),
             --fraction (0.65) of the 1-worker saturated rate: neither configuration is starved,
             so the CPU per request compares the work itself. This is the figure for "capacity
             grows with cores": a district sizes for peak load below saturation.

Figures, per store (SQLite under --home; PostgreSQL when a throw-away cluster can be started):
  throughput       ok requests/s seen by the client; ratio 2 workers / 1 worker
  proxy CPU/req    user+system CPU of every proxy process (supervisor, workers, their classifier
                   pools) divided by requests; ratio 2 workers / 1 worker (target <= 1.10: the work
                   per request does not grow with processes, so capacity grows with cores)
  preempted/req    involuntary context switches of the proxy's threads per request
  wake-ups/req     voluntary context switches (a thread slept and was woken) per request: the
                   fewer requests each wake-up handles, the less the event loop and the activity
                   writer batch
  idle CPU         what the proxy processes use with no traffic at all, over --idle-seconds
  client CPU/req   this load generator's CPU per request, and the machine's cores: what caps raw
                   throughput when the generator shares the cores with the proxy
At the fixed load the worker processes' CPU and wake-ups are also split by thread: the event loop
(main thread), the activity writer (the thread that wrote the most) and the rest.
The load average (1/5/15 min) is printed at the start and after each store: other jobs on a
shared machine show up there, and figures taken under a high one are noisy.

  --pin            a third configuration: 2 workers, worker i pinned to CPU i (is affinity worth
                   an option? docs/operations.md has the answer measured here)

Usage: python bench/bench_workers.py [--visits N] [--threads T] [--rounds R] [--fraction F]
                                     [--paced-seconds S] [--idle-seconds S] [--pin] [--no-postgres]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
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
IDLE_NOTE = "whole process tree, share of one core"


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


def tree_tasks(root: int):
    """Every thread (/proc/PID/task/TID) of `root` and of its descendants, each once; threads
    and processes that end meanwhile are skipped."""
    todo, seen = [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                todo += [int(x) for x in (task / "children").read_text().split()]
            except (OSError, ValueError):
                pass
            yield task


def switches_of_tree(root: int) -> tuple[int, int]:
    """(involuntary context switches, voluntary ones) of every thread of `root` and its
    descendants (from /proc). Involuntary: the kernel took a CPU away from the proxy mid-work
    (oversubscription). Voluntary: a thread went to sleep and was woken again; per request this
    grows when each process has less to do per wake-up (less batching)."""
    inv = vol = 0
    for task in tree_tasks(root):
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("nonvoluntary_ctxt_switches:"):
                    inv += int(line.split()[1])
                elif line.startswith("voluntary_ctxt_switches:"):
                    vol += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return inv, vol


def per_request(after: tuple, before: tuple, ok: int) -> tuple:
    return tuple((a - b) / max(ok, 1) for a, b in zip(after, before))


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


def paced_round(proxy: Proxy, rate: float, seconds: float, threads: int) -> tuple[float, float, float, int, tuple]:
    """Offer `rate` requests/s for `seconds` (open loop: visit i starts at t0 + i / visit rate,
    whatever the earlier visits are doing) and return what one_round returns; the first value is
    the rate achieved, which falls short of `rate` only when the proxy cannot keep up."""
    import threading
    ctx = trust(proxy.ca_file)
    per_visit = rate / REQUESTS_PER_VISIT
    total = max(1, int(per_visit * seconds))
    lock = threading.Lock()
    nxt, counts = [0], [0, 0]

    def client() -> None:
        while True:
            with lock:
                i = nxt[0]
                if i >= total:
                    return
                nxt[0] += 1
            delay = t0 + i / per_visit - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                statuses = loadgen.visit(("127.0.0.1", proxy.port), HOSTS[i % len(HOSTS)], REQUESTS_PER_VISIT,
                                         ctx, source_ip=CLIENT_IP)
                ok = sum(1 for x in statuses if x == 200)
                bad = len(statuses) - ok
            except (OSError, ValueError, ConnectionError):
                ok, bad = 0, REQUESTS_PER_VISIT
            with lock:
                counts[0] += ok
                counts[1] += bad

    c0, s0 = cpu_of_tree(proxy.proc.pid), switches_of_tree(proxy.proc.pid)
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    ts = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    t0 = time.perf_counter() + 0.05
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=seconds * 10 + 60)
    elapsed = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    c1, s1 = cpu_of_tree(proxy.proc.pid), switches_of_tree(proxy.proc.pid)
    ok, bad = counts
    client_cpu = ((u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)) / max(ok, 1)
    return ok / elapsed, (c1 - c0) / max(ok, 1), client_cpu, bad, per_request(s1, s0, ok)


def settle(proxies: dict, limit: float = 90.0) -> None:
    """Wait until start-up work after the warm-up is over (each worker's classifier pool loads its
    models in the background; with 2 workers that is two pools): every tree under 3% of a core for
    2 s, at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(v < 0.03 for v in idle_cpu(proxies, 2.0).values()):
            return


def sched_of_tree(root: int) -> tuple[float, int]:
    """(seconds on a CPU, voluntary context switches) of every thread of `root` and its
    descendants: schedstat's nanoseconds, fine enough for an idle process (clock ticks are not)."""
    ns = vol = 0
    for task in tree_tasks(root):
        try:
            ns += int((task / "schedstat").read_text().split()[0])
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    vol += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return ns / 1e9, vol


def idle_cpu(proxies: dict, seconds: float, wakeups: dict | None = None) -> dict:
    """CPU seconds per second (share of one core) each proxy tree uses with no traffic at all,
    measured over the same `seconds` for every configuration; wake-ups per second into `wakeups`."""
    before = {n: sched_of_tree(p.proc.pid) for n, p in proxies.items()}
    time.sleep(seconds)
    after = {n: sched_of_tree(p.proc.pid) for n, p in proxies.items()}
    if wakeups is not None:
        wakeups.update({n: (after[n][1] - before[n][1]) / seconds for n in proxies})
    return {n: (after[n][0] - before[n][0]) / seconds for n in proxies}


def one_round(proxy: Proxy, visits: int, threads: int) -> tuple[float, float, float, int, tuple]:
    """(ok requests/s, proxy CPU s per request, client CPU s per request, errors,
    (involuntary, voluntary context switches) of the proxy per request)."""
    ctx = trust(proxy.ca_file)
    hosts = [HOSTS[i % len(HOSTS)] for i in range(visits)]
    c0, s0 = cpu_of_tree(proxy.proc.pid), switches_of_tree(proxy.proc.pid)
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    rate, ok, bad = loadgen.run(("127.0.0.1", proxy.port), hosts, REQUESTS_PER_VISIT, ctx, threads,
                                source_ip=CLIENT_IP)
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    c1, s1 = cpu_of_tree(proxy.proc.pid), switches_of_tree(proxy.proc.pid)
    client = ((u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)) / max(ok, 1)
    return rate, (c1 - c0) / max(ok, 1), client, bad, per_request(s1, s0, ok)


def thread_snapshot(pids: list[int]) -> dict:
    """{(pid, tid): (cpu ns, voluntary switches, bytes written)} for every thread of `pids`."""
    out = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                ns = int((task / "schedstat").read_text().split()[0])
                vol = next(int(ln.split()[1]) for ln in (task / "status").read_text().splitlines()
                           if ln.startswith("voluntary_ctxt_switches:"))
                wchar = next(int(ln.split()[1]) for ln in (task / "io").read_text().splitlines()
                             if ln.startswith("wchar:"))
            except (OSError, ValueError, StopIteration, IndexError):
                continue
            out[(pid, int(task.name))] = (ns, vol, wchar)
    return out


def by_role(before: dict, after: dict) -> dict:
    """CPU seconds and wake-ups per thread role of the worker processes: "loop" (the main thread:
    mitmproxy's event loop), "writer" (each process's thread that wrote the most bytes: the
    activity log writer) and "other"."""
    roles = {"loop": [0.0, 0], "writer": [0.0, 0], "other": [0.0, 0]}
    deltas = {k: tuple(a - b for a, b in zip(after[k], before[k])) for k in after if k in before}
    writers = {}
    for (pid, tid), d in deltas.items():
        if tid != pid and d[2] > deltas.get(writers.get(pid), (0, 0, -1))[2]:
            writers[pid] = (pid, tid)
    for key, d in deltas.items():
        role = "loop" if key[0] == key[1] else "writer" if writers.get(key[0]) == key else "other"
        roles[role][0] += d[0] / 1e9
        roles[role][1] += d[1]
    return roles


def summary(samples: list) -> dict:
    rates, cpus, clients, errs, sw = zip(*samples)
    return {"rate": statistics.median(rates), "cpu": statistics.median(cpus), "client": statistics.median(clients),
            "errors": sum(errs), "switches": statistics.median(x[0] for x in sw),
            "wakeups": statistics.median(x[1] for x in sw), "cpus": cpus}


LABELS = {"1": "1 worker ", "2": "2 workers", "2p": "2 pinned "}


def worker_pids(proxy: Proxy) -> list[int]:
    """The worker processes under a `--workers N` supervisor, by index (their command lines say it)."""
    out = {}
    for task in Path(f"/proc/{proxy.proc.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if b"--worker-index" in argv:
                out[int(argv[argv.index(b"--worker-index") + 1])] = int(child)
    return [out[i] for i in sorted(out)]


def pin(proxy: Proxy) -> None:
    """Worker i on CPU i (mod the CPUs), every thread of it: what a --cpu-affinity option would do.
    Their classifier pools stay free to run anywhere."""
    cpus = sorted(os.sched_getaffinity(0))
    for i, pid in enumerate(worker_pids(proxy)):
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.sched_setaffinity(int(task.name), {cpus[i % len(cpus)]})


def measure_pair(store_url, base, roster, devices, fwd_port, a) -> dict:
    """The configurations run at once (an idle one costs a fraction of a percent of a core,
    measured below) and their rounds alternate, so drifting background load on this shared
    machine hits them alike. First the saturated rounds, then the fixed-load rounds at
    a.fraction of the 1-worker saturated median. With a.pin a third configuration, 2 workers
    each pinned to its own CPU, shows whether affinity helps."""
    keys = ["1", "2"] + (["2p"] if a.pin else [])
    proxies = {k: start(int(k[0]), store_url, base, roster, devices, fwd_port) for k in keys}
    try:
        for p in proxies.values():
            warm(p, a.threads)
        if a.pin:
            pin(proxies["2p"])
        settle(proxies)
        wakes: dict = {}
        idle = idle_cpu(proxies, a.idle_seconds, wakes) if a.idle_seconds > 0 else {k: float("nan") for k in keys}
        sat = {k: [] for k in keys}
        for r in range(a.rounds):
            for k in (keys if r % 2 == 0 else keys[::-1]):
                sat[k].append(one_round(proxies[k], a.visits, a.threads))
        out = {"idle": idle, "idle_wakeups": wakes, "saturated": {k: summary(sat[k]) for k in keys}, "keys": keys}
        if a.fraction > 0:
            rate = a.fraction * out["saturated"]["1"]["rate"]
            fixed = {k: [] for k in keys}
            threads = {k: {"loop": [0.0, 0], "writer": [0.0, 0], "other": [0.0, 0], "ok": 0} for k in keys}
            for r in range(a.rounds):
                for k in (keys[::-1] if r % 2 == 0 else keys):
                    pids = [proxies[k].proc.pid] if k == "1" else worker_pids(proxies[k])
                    t0 = thread_snapshot(pids)
                    res = paced_round(proxies[k], rate, a.paced_seconds, 4 * a.threads)
                    roles = by_role(t0, thread_snapshot(pids))
                    fixed[k].append(res)
                    for role, (sec, wakes) in roles.items():
                        threads[k][role][0] += sec
                        threads[k][role][1] += wakes
                    threads[k]["ok"] += res[0] * a.paced_seconds
            out["fixed"] = {k: summary(fixed[k]) for k in keys}
            out["threads"] = threads
            out["offered"] = rate
    finally:
        for p in proxies.values():
            p.stop()
    return out


def loadavg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def report(name: str, res: dict) -> None:
    print(f"\n[{name}]  load average (1/5/15 min) after this store: {loadavg()}")
    keys, idle = res["keys"], res["idle"]
    wakes = res.get("idle_wakeups") or {}
    print(f"  idle (no traffic, {IDLE_NOTE}): " +
          ", ".join(f"{LABELS[k].strip()} {idle[k] * 100:.3f}% ({wakes.get(k, float('nan')):.1f} wake-ups/s)"
                    for k in keys))
    loads = [("SATURATED (closed loop, as fast as the client gets answers)", res["saturated"])]
    if "fixed" in res:
        loads.append((f"FIXED offered load {res['offered']:.0f} req/s for all (open loop)", res["fixed"]))
    for title, pair in loads:
        one = pair["1"]
        print(f"  {title}")
        for k in keys:
            r = pair[k]
            print(f"    {LABELS[k]}  {r['rate']:7.1f} req/s   proxy CPU {r['cpu'] * 1000:6.2f} ms/req "
                  f"(rounds {' '.join(f'{c * 1000:.2f}' for c in r['cpus'])})   "
                  f"client CPU {r['client'] * 1000:5.2f} ms/req   preempted {r['switches']:.2f}/req   "
                  f"wake-ups {r['wakeups']:.2f}/req   "
                  f"errors {r['errors']}")
        for k in keys[1:]:
            two = pair[k]
            ratio = two["cpu"] / one["cpu"]
            print(f"    {LABELS[k].strip()}: throughput ratio to 1 worker {two['rate'] / one['rate']:.2f}, "
                  f"proxy CPU per request ratio {ratio:.2f} "
                  f"(target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})")
    if "threads" in res:
        print("  FIXED load, worker processes by thread (all rounds; CPU ms / wake-ups per request):")
        for k in keys:
            t = res["threads"][k]
            n = max(t["ok"], 1)
            print(f"    {LABELS[k]}  " + "   ".join(
                f"{role} {t[role][0] * 1000 / n:.3f} ms / {t[role][1] / n:.2f}" for role in ("loop", "writer", "other")))
    two, one = res["saturated"]["2"], res["saturated"]["1"]
    total = two["cpu"] + two["client"]
    print(f"  what caps raw throughput: proxy {two['cpu'] * 1000:.2f} + client {two['client'] * 1000:.2f} "
          f"ms of CPU per request on {os.cpu_count()} cores -> at most "
          f"{os.cpu_count() / total:.0f} req/s here before origin/forwarder/kernel costs; "
          f"one proxy process alone: {1 / one['cpu']:.0f} req/s per core")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visits", type=int, default=150)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--fraction", type=float, default=0.65,
                    help="fixed offered load as a share of the 1-worker saturated rate (0: skip)")
    ap.add_argument("--paced-seconds", type=float, default=6.0, help="length of one fixed-load round")
    ap.add_argument("--idle-seconds", type=float, default=10.0, help="idle CPU measured over this long (0: skip)")
    ap.add_argument("--pin", action="store_true",
                    help="also measure 2 workers pinned to one CPU each (sched_setaffinity)")
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
          f"{a.rounds} rounds (median) per load; {os.cpu_count()} CPUs shared by proxy, client, origin, "
          f"forwarder; load average (1/5/15 min) at start: {loadavg()}")
    try:
        if cluster is not None:
            stores.append(("postgresql", cluster.create_database("bench")))
        with spawn_origin(pki.leaf_cert, pki.leaf_key) as origin, \
                spawn_forwarder(origin.ports[0], origin.ports[1]) as fwd:
            for name, url in stores:
                report(name, measure_pair(url, base, roster, devices, fwd.ports[0], a))
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
