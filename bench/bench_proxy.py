"""Proxy throughput with all CrossingGuard addons, as a ratio to bare `mitmdump` (intercepting
everything), on the same local HTTPS workload in the same run. Loopback only, bounded loops.

Workload: "visits". A visit opens a NEW proxy connection (CONNECT + TLS handshake through the
proxy) and makes REQUESTS_PER_VISIT keep-alive GETs on it, then closes: how a browser loads a
page from one host. Several client threads run visits concurrently, with a lean raw-socket client
(tests/support/loadgen.py) so that the client's own CPU does not dominate the measurement. The origin (HTTPS echo) and
the upstream CONNECT forwarder run in their own processes; both proxies use the same upstream.

  (a) catalog:  every visit goes to a catalog platform the student may read (YouTube hosts),
                so CrossingGuard intercepts and decides every request.        target >= 0.85
  (b) mix:      80% of visits go to ordinary sites (passed through untouched by CrossingGuard,
                intercepted by bare mitmdump), 20% to catalog platforms.      target >= 3.0

How the client reaches the local origin (--connect):
  name: `CONNECT www.example.org:443` by host name, as a browser configured with a proxy does; every
        proxy in the comparison (bare, reference and CrossingGuard alike) loads this file as a
        script (`-s bench/bench_proxy.py`), whose RouteToOrigin addon points each upstream
        connection at the local origin in `server_connect` (we have no DNS for those names here).
  ip:   `CONNECT 127.0.0.1:<origin port>` with the host name only in the SNI and Host header, as an
        app connecting to an address does (CrossingGuard must then wait for the ClientHello).

The load generator and the origin run on the same machine as the proxy and share its CPUs, so the
throughput ratio is capped by their cost; the proxy-CPU-per-request ratio measures the proxy alone.
The client is a 15-year-old's registered device (source address 127.0.0.12).
Usage: python bench/bench_proxy.py [--visits N] [--threads T] [--rounds R] [--connect name|ip]

--commit-ab: the cost of durable activity lines (group commit, `activity.durability: sync`, the
default) on the all-catalog workload (a): the same crossingguard with the shipped policy changed
only to `durability: async`, alternating rounds in the same run; prints sync/async throughput and
proxy CPU as ratios (the proxy process alone, and with its children: the fsync helper process does
the disk work of the sync side) (target: sync costs at most 10% throughput, ratio >= 0.90), the per-request
latency each implies (the client is a closed loop of --threads requests in flight), and the
fdatasync latency of this disk measured between the rounds. On loopback every response waits for
its line's fsync with nothing to hide it behind; --rtt-ms N holds each response N ms in both
proxies (as a real origin's round trip does; the fsync, started in the request hook, overlaps it).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mitmproxy import ctx as mitm_ctx  # noqa: E402

from tests.support import loadgen  # noqa: E402
from tests.support import (CrossingGuardProcess, ManagedProcess, cert_lifetime_days, free_port,  # noqa: E402
                           make_pki, mitmdump_argv, peer_certificate, spawn_forwarder,
                           spawn_origin, trust, write_devices, write_test_roster)

DEFAULT_REQUESTS_PER_VISIT = 4
REQUESTS_PER_VISIT = DEFAULT_REQUESTS_PER_VISIT
CLIENT_IP = "127.0.0.12"
CATALOG_HOSTS = ("www.youtube.com", "m.youtube.com", "youtube.com")
ORDINARY_HOSTS = ("www.example.org", "www.example.com", "ordinary.test", "docs.example.org")


def plan(kind: str, visits: int) -> list[str]:
    """The host of each visit, deterministic: catalog only, or 4 ordinary visits in every 5."""
    if kind == "catalog":
        return [CATALOG_HOSTS[i % len(CATALOG_HOSTS)] for i in range(visits)]
    return [CATALOG_HOSTS[i % 3] if i % 5 == 0 else ORDINARY_HOSTS[i % len(ORDINARY_HOSTS)]
            for i in range(visits)]


def process_cpu_seconds(pid: int) -> float | None:
    """User+system CPU of a process (all threads), from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def tree_cpu_seconds(pid: int) -> float | None:
    """`process_cpu_seconds` of a process and all its descendants (the fsync helper, classifier
    workers): what group commit costs in CPU wherever it runs."""
    total, todo, seen = 0.0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        cpu = process_cpu_seconds(p)
        if cpu is None:
            if p == pid:
                return None
            continue
        total += cpu
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


CONNECT_TO: str | None = None   # "127.0.0.1:<origin port>" in --route direct --connect ip


class RouteToOrigin:
    """Loaded into every proxy of the comparison (`-s bench/bench_proxy.py`) for --connect name:
    sends each upstream connection to the local origin, whatever name the client asked for."""

    def load(self, loader) -> None:
        loader.add_option("bench_origin", str, "", "host:port every upstream connection goes to (bench only)")
        loader.add_option("bench_rtt_ms", int, 0,
                          "milliseconds each response is held, as an internet round "
                          "trip to a real origin would take (bench only; --rtt-ms)")

    async def responseheaders(self, flow) -> None:
        # The response arrives this much later, as from a real origin. CrossingGuard writes the
        # activity line in its `request` hook, before this, so the line's fsync overlaps the wait
        # as it overlaps a real upstream round trip (scripts' hooks run before CrossingGuard's, so
        # its own responseheaders, which awaits the fsync, comes after this).
        if mitm_ctx.options.bench_rtt_ms > 0:
            await asyncio.sleep(mitm_ctx.options.bench_rtt_ms / 1000)

    def __init__(self) -> None:
        self._asked: dict[str, tuple] = {}   # server connection id -> the address the client asked for

    def server_connect(self, data) -> None:
        if mitm_ctx.options.bench_origin:
            host, _, port = mitm_ctx.options.bench_origin.rpartition(":")
            self._asked[data.server.id] = data.server.address
            data.server.address = (host, int(port))

    def server_connected(self, data) -> None:
        # Put the asked-for name back once connected, as real DNS resolution leaves it: mitmproxy
        # reuses a server connection for the next request only if its address matches the request's
        # host, so a rewritten address would cost every later request a new connection and TLS
        # handshake (most visibly with connection_strategy=lazy, which `crossingguard run` uses).
        # mitmproxy forbids setting address on an open connection, hence __dict__ (bench only).
        asked = self._asked.pop(data.server.id, None)
        if asked is not None:
            data.server.__dict__["address"] = asked

    def server_connect_error(self, data) -> None:
        self._asked.pop(data.server.id, None)


addons = [RouteToOrigin()]   # when mitmproxy loads this file as a script


def run_workload(proxy_url: str, ssl_ctx, hosts: list[str], threads: int) -> tuple[float, int, int]:
    """(requests per second, requests ok, errors) with the lean raw-socket client."""
    host, port = proxy_url.rsplit("//", 1)[1].rsplit(":", 1)
    return loadgen.run((host, int(port)), hosts, REQUESTS_PER_VISIT, ssl_ctx, threads, CLIENT_IP,
                       connect_to=CONNECT_TO)


ORIGIN_PID: int | None = None
SIDE_CPU: dict[str, list[float]] = {}   # proxy name -> load generator + origin CPU ms/request per run


def measure(proc, url: str, ctx, hosts: list[str], threads: int, name: str = "") -> tuple[float, float | None, int]:
    """(requests/s, proxy CPU ms per request or None, errors) for one run of the workload; the CPU the
    load generator (this process) and the origin spent per request goes to SIDE_CPU[name]."""
    before = process_cpu_seconds(proc.proc.pid)
    side_before = (time.process_time(), process_cpu_seconds(ORIGIN_PID) if ORIGIN_PID else None)
    rps, ok, err = run_workload(url, ctx, hosts, threads)
    after = process_cpu_seconds(proc.proc.pid)
    side_after = (time.process_time(), process_cpu_seconds(ORIGIN_PID) if ORIGIN_PID else None)
    cpu_ms = (after - before) * 1000 / ok if before is not None and after is not None and ok else None
    if ok and side_before[1] is not None and side_after[1] is not None:
        side = (side_after[0] - side_before[0]) + (side_after[1] - side_before[1])
        SIDE_CPU.setdefault(name, []).append(side * 1000 / ok)
    return rps, cpu_ms, err


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visits", type=int, default=150, help="visits per measurement (default 150)")
    ap.add_argument("--threads", type=int, default=8, help="concurrent client threads (default 8)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating measurements per proxy (median)")
    ap.add_argument("--route", choices=("direct", "upstream"), default="direct",
                    help="direct: proxies in regular mode, CONNECT 127.0.0.1:<origin> with the real host "
                         "name as SNI and Host (as in production, no extra hop); upstream: "
                         "--mode upstream: via the CONNECT forwarder (as the end-to-end tests do)")
    ap.add_argument("--requests-per-visit", type=int, default=DEFAULT_REQUESTS_PER_VISIT,
                    help=f"keep-alive requests per new connection (default {DEFAULT_REQUESTS_PER_VISIT}, about what "
                         "a page load makes per connection; more requests per connection favour pass-through)")
    ap.add_argument("--connect", choices=("name", "ip"), default="name",
                    help="route direct: CONNECT by host name (as browsers do; default) or to the origin's "
                         "IP address with the name only in the SNI (as an app connecting to an address)")
    ap.add_argument("--cg-set", action="append", default=[], metavar="OPTION=VALUE",
                    help="extra `--set OPTION=VALUE` for the crossingguard side only, after `--` as a district "
                         "would pass it (A/B of a setting, e.g. connection_strategy=eager); repeatable")
    ap.add_argument("--commit-ab", action="store_true",
                    help="measure group commit: durability sync vs async on workload (a) (module doc)")
    ap.add_argument("--rtt-ms", type=int, default=0,
                    help="--connect name: hold each response this many ms in every proxy of the comparison, as an "
                         "internet round trip to a real origin would (default 0: loopback origin)")
    a = ap.parse_args(argv)
    global REQUESTS_PER_VISIT
    REQUESTS_PER_VISIT = max(1, a.requests_per_visit)

    with tempfile.TemporaryDirectory(prefix="cg-bench-") as tmpdir:
        return _run(a, Path(tmpdir))


def async_policy(tmp: Path) -> Path:
    """The shipped policy with only `activity.durability: async` added."""
    from agent.context import DEFAULT_POLICY
    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    assert "\nactivity:\n" in text, "the shipped policy has no activity section"
    out = tmp / "policy-async.yaml"
    out.write_text(text.replace("\nactivity:\n", "\nactivity:\n  durability: async\n", 1), encoding="utf-8")
    return out


def fdatasync_ms(directory: Path, n: int = 100) -> list[float]:
    """Milliseconds of each of n (append one activity-sized line, fdatasync) on the filesystem of
    `directory`: what the writer pays per group-commit batch, measured on this disk in this run."""
    path = directory / "fsync-probe.tmp"
    line = b'{"time":"2026-01-01T00:00:00.000-08:00","probe":"' + b"x" * 200 + b'"}\n'
    out: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(fd, line)
            os.fdatasync(fd)
            out.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return out


def _commit_ab(a, tmp: Path, roster, devices, upstream: list[str]) -> int:
    cg_args = upstream + [x for kv in a.cg_set for x in ("--set", kv)]
    sync = CrossingGuardProcess(tmp / "home-sync", roster=roster.directory, devices=devices, mitm_args=cg_args)
    asyn = CrossingGuardProcess(tmp / "home-async", roster=roster.directory, devices=devices, mitm_args=cg_args,
                                policy=async_policy(tmp))
    with sync, asyn:
        ctxs = {n: trust(p.ca_file) for n, p in (("sync", sync), ("async", asyn))}   # all intercepted
        for name, proc in (("sync", sync), ("async", asyn)):
            run_workload(proc.url, ctxs[name], list(CATALOG_HOSTS) * 4, 2)   # warm-up
        hosts = plan("catalog", a.visits)
        load_before = _load()
        rates: dict[str, list[float]] = {"sync": [], "async": []}
        cpus: dict[str, list[float]] = {"sync": [], "async": []}
        tree: dict[str, list[float]] = {"sync": [], "async": []}
        errors = {"sync": 0, "async": 0}
        fsyncs: list[float] = []
        for _ in range(a.rounds):
            for name, proc in (("sync", sync), ("async", asyn)):
                t0 = tree_cpu_seconds(proc.proc.pid)
                rps, cpu_ms, err = measure(proc, proc.url, ctxs[name], hosts, a.threads, name)
                t1 = tree_cpu_seconds(proc.proc.pid)
                rates[name].append(rps)
                if cpu_ms is not None:
                    cpus[name].append(cpu_ms)
                if t0 is not None and t1 is not None and rps > 0:
                    tree[name].append((t1 - t0) * 1000 / (len(hosts) * REQUESTS_PER_VISIT))
                errors[name] += err
            fsyncs += fdatasync_ms(tmp / "home-sync" / "activity")   # same disk, between the rounds
        load_after = _load()
        s_, as_ = statistics.median(rates["sync"]), statistics.median(rates["async"])
        # Each round measures sync then async back to back: the ratio within a round shares the
        # machine's load at that moment, so its median is less noisy than the ratio of medians.
        paired = statistics.median(s / x for s, x in zip(rates["sync"], rates["async"]))
        print(f"group commit on workload (a), every request logged: {a.visits} visits x {a.rounds} rounds, "
              f"{a.threads} threads, {REQUESTS_PER_VISIT} requests per visit")
        print(f"    throughput  durability sync {s_:7.1f} req/s, async {as_:7.1f} req/s, ratio {s_ / as_:.3f} "
              f"(target >= 0.90) {'OK' if s_ / as_ >= 0.90 else 'BELOW TARGET'}   "
              f"[rounds: sync {', '.join(f'{x:.0f}' for x in rates['sync'])}; "
              f"async {', '.join(f'{x:.0f}' for x in rates['async'])}]")
        print(f"    per round   median of the rounds' sync/async ratios {paired:.3f}")
        if cpus["sync"] and cpus["async"]:
            cs, ca = statistics.median(cpus["sync"]), statistics.median(cpus["async"])
            print(f"    proxy CPU   sync {cs:.2f} ms/req, async {ca:.2f} ms/req (ratio {ca / cs:.3f})")
        if tree["sync"] and tree["async"]:
            ts, ta = statistics.median(tree["sync"]), statistics.median(tree["async"])
            print(f"    with children (the fsync helper, classifier workers) sync {ts:.2f} ms/req, async {ta:.2f} ms/req "
                  f"(ratio {ta / ts:.3f})")
        # Closed loop: each client thread has one request in flight, so latency = threads / rate
        # (Little's law); the difference is what waiting for the line's fsync adds to a request.
        lat_s, lat_a = a.threads / s_ * 1000, a.threads / as_ * 1000
        fs = sorted(fsyncs)
        print(f"    latency     {a.threads} requests in flight (one per client thread): sync {lat_s:.1f} ms, async "
              f"{lat_a:.1f} ms per request (+{lat_s - lat_a:.1f} ms); origin round trip added: {a.rtt_ms:g} ms")
        print(f"    fdatasync   on this disk, same run ({len(fs)} samples between rounds): median "
              f"{statistics.median(fs):.2f} ms, p90 {fs[int(len(fs) * 0.9)]:.2f} ms, max {fs[-1]:.2f} ms")
        print(f"    errors      sync {errors['sync']}, async {errors['async']}")
        print(f"    machine     load average (1 min) {load_before} before, {load_after} after, on {os.cpu_count()} "
              f"CPUs shared with the load generator and the origin (and, here, any other jobs)")
        lines = {n: sum(1 for f in (tmp / f"home-{n}" / "activity").glob("*.jsonl") for _ in open(f, "rb"))
                 for n in ("sync", "async")}
        print(f"    activity lines written: sync {lines['sync']}, async {lines['async']}")
    return 0


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _run(a, tmp: Path) -> int:
    global CONNECT_TO, ORIGIN_PID
    pki = make_pki(tmp / "pki")
    roster = write_test_roster(tmp / "roster")
    devices = write_devices(tmp / "devices.csv", [("dev-teen", roster.teen, CLIENT_IP, "")])
    with spawn_origin(pki.leaf_cert, pki.leaf_key) as origin:
        https_port, http_port = origin.ports
        ORIGIN_PID = origin.proc.pid
        with spawn_forwarder(https_port, http_port) as fwd:
            local = []
            if a.route == "upstream":
                upstream = ["--mode", f"upstream:http://127.0.0.1:{fwd.ports[0]}", "--set", "ssl_insecure=true"]
            else:
                upstream = ["--set", "ssl_insecure=true"]
                # the origin is on loopback: crossingguard's own-machine refusal is off for the bench
                # (added to crossingguard's arguments only; stock mitmdump does not know the option)
                local = ["--set", "crossingguard_local_destinations=allow"]
                if a.connect == "ip":
                    CONNECT_TO = f"127.0.0.1:{https_port}"
                else:
                    upstream += ["-s", str(Path(__file__).resolve()), "--set", f"bench_origin=127.0.0.1:{https_port}",
                                 "--set", f"bench_rtt_ms={a.rtt_ms}"]
            if a.commit_ab:
                return _commit_ab(a, tmp, roster, devices, upstream + local)
            bare_port = free_port()
            bare = ManagedProcess(mitmdump_argv("-q", "--listen-host", "127.0.0.1", "--listen-port", str(bare_port),
                                                "--set", f"confdir={tmp / 'bare-ca'}", *upstream),
                                  bare_port, tmp / "bare.log")
            # Exactly `crossingguard run` (its lean master and defaults), the bench's routing after `--`.
            cg_args = upstream + local + [x for kv in a.cg_set for x in ("--set", kv)]
            cg = CrossingGuardProcess(tmp / "home", roster=roster.directory, devices=devices, mitm_args=cg_args)
            # Reference: mitmproxy's own pass-through (--ignore-hosts) for the ordinary sites, no addons.
            ref_port = free_port()
            ignore = "|".join(h.replace(".", r"\.") for h in ORDINARY_HOSTS)
            ref = ManagedProcess(mitmdump_argv("-q", "--listen-host", "127.0.0.1", "--listen-port", str(ref_port),
                                               "--set", f"confdir={tmp / 'bare-ca'}", "--ignore-hosts", ignore,
                                               *upstream), ref_port, tmp / "ref.log")
            with bare, cg, ref:
                ctx_bare = trust([tmp / "bare-ca" / "mitmproxy-ca-cert.pem", pki.ca_cert])
                ctx_cg = trust([cg.ca_file, pki.ca_cert])
                # warm-up (CA load, leaf generation for each host), not measured
                for url, ctx in ((bare.url, ctx_bare), (cg.url, ctx_cg)):
                    run_workload(url, ctx, list(CATALOG_HOSTS + ORDINARY_HOSTS) * 2, 2)
                leaf_days = cert_lifetime_days(peer_certificate(cg.host, cg.port, "www.instagram.com",
                                                                source_ip=CLIENT_IP, connect_to=CONNECT_TO))
                how = "upstream forwarder" if a.route == "upstream" else \
                    ("CONNECT by host name" if a.connect == "name" else "CONNECT to an IP address, name in SNI only")
                print(f"workload: visits of {REQUESTS_PER_VISIT} keep-alive HTTPS GETs on a new proxy "
                      f"connection each (TLS 1.3 handshake per visit); {a.visits} visits x {a.rounds} rounds, "
                      f"{a.threads} client threads; route {a.route}, {how}; the load generator and origin share "
                      f"the {os.cpu_count()} CPUs with the proxy")
                print(f"crossingguard: `crossingguard run -- {' '.join(cg_args)}` (its own master and defaults); "
                      f"bare: stock `mitmdump` with the same routing")
                for kind, target in (("catalog", 0.85), ("mix", 3.0)):
                    hosts = plan(kind, a.visits)
                    SIDE_CPU.clear()
                    rates = {"bare": [], "cg": []}
                    cpus = {"bare": [], "cg": []}
                    errors = {"bare": 0, "cg": 0}
                    for _ in range(a.rounds):   # alternate, so drifting machine load hits both alike
                        for name, proc, ctx in (("bare", bare, ctx_bare), ("cg", cg, ctx_cg)):
                            rps, cpu_ms, err = measure(proc, proc.url, ctx, hosts, a.threads, name)
                            rates[name].append(rps)
                            if cpu_ms is not None:
                                cpus[name].append(cpu_ms)
                            errors[name] += err
                    if kind == "mix":
                        ref_rates, ref_cpus = [], []
                        for _ in range(a.rounds):
                            rps, cpu_ms, _err = measure(ref, ref.url, ctx_bare, hosts, a.threads)
                            ref_rates.append(rps)
                            if cpu_ms is not None:
                                ref_cpus.append(cpu_ms)
                    b, c = statistics.median(rates["bare"]), statistics.median(rates["cg"])
                    label = "(a) every request to a catalog platform" if kind == "catalog" else \
                        "(b) 80% ordinary sites / 20% catalog"
                    print(f"{label}:")
                    print(f"    throughput  bare mitmdump {b:7.1f} req/s, crossingguard {c:7.1f} req/s, "
                          f"ratio {c / b:.2f} (target >= {target}) {'OK' if c / b >= target else 'BELOW TARGET'}"
                          f"   [rounds: bare {', '.join(f'{x:.0f}' for x in rates['bare'])}; "
                          f"cg {', '.join(f'{x:.0f}' for x in rates['cg'])}]")
                    if cpus["bare"] and cpus["cg"]:
                        cb, cc = statistics.median(cpus["bare"]), statistics.median(cpus["cg"])
                        print(f"    proxy CPU   bare mitmdump {cb:.2f} ms/req, crossingguard {cc:.2f} ms/req, "
                              f"CPU-normalized ratio {cb / cc:.2f} (throughput ratio when the proxy is the "
                              f"bottleneck; robust to other load on the machine)")
                    if SIDE_CPU.get("bare") and SIDE_CPU.get("cg"):
                        print(f"    client+origin CPU (same machine) with bare {statistics.median(SIDE_CPU['bare']):.2f} "
                              f"ms/req, with crossingguard {statistics.median(SIDE_CPU['cg']):.2f} ms/req: "
                              f"what caps the throughput ratio once the proxy is cheap")
                    print(f"    errors      bare {errors['bare']}, crossingguard {errors['cg']}")
                    if kind == "mix":
                        r = statistics.median(ref_rates)
                        extra = f", {statistics.median(ref_cpus):.2f} ms/req proxy CPU" if ref_cpus else ""
                        print(f"    reference   bare mitmdump --ignore-hosts <ordinary sites>, no addons: {r:.1f} req/s"
                              f" (ratio {r / b:.2f} to bare{extra}): the ceiling mitmproxy's own pass-through allows")
                try:
                    load = os.getloadavg()[0]
                    print(f"machine load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
                except OSError:
                    pass
                print(f"leaf certificate lifetime (from a real handshake through crossingguard): {leaf_days:.1f} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
