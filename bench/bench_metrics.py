"""What the Prometheus exporter costs: proxy throughput with and without it, plus the parts.

    .venv/bin/python bench/bench_metrics.py [--requests 600] [--clients 4] [--rounds 3] [--scrape-every 1]

1. Proxy throughput (the figure the issue asks for). Two real `crossingguard run` processes,
   identical but for `--metrics-port` (a free port vs 0 = exporter off), behind the same local
   HTTPS origin. Real HTTPS clients (keep-alive, `--clients` threads, a 15-year-old's device)
   fetch an allowed, intercepted platform page. With the exporter on, a scraper pulls /metrics
   every `--scrape-every` seconds (15x Prometheus' default 15 s, to make the cost visible). The
   two configurations alternate for `--rounds` rounds (ABAB...), so drift hits both; the figure
   is median(with) / median(without) requests per second, and the same ratio for the proxy
   process's CPU seconds per request (/proc), which a busy machine disturbs less. Note: the hot-path COUNTERS.inc calls
   in other addons run in both configurations; they are measured in part 2.
2. Micro: COUNTERS.inc() per call against a bare loop doing the same iteration, and one full
   collect()+render of a registry holding a realistic number of series.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import generate_latest  # noqa: E402

from agent import metrics as m  # noqa: E402
from agent.metrics.exporter import CrossingGuardCollector, build_registry  # noqa: E402
from agent.metrics.labels import KNOWN_PLATFORMS  # noqa: E402

TEEN_IP = "127.0.0.12"
URL = "https://www.youtube.com/watch?v=bench"     # allowed for a 15-year-old, intercepted (TLS)


def micro(n: int = 1_000_000) -> dict:
    counters = m.Counters()
    inc = counters.inc
    t0 = time.perf_counter_ns()
    for _ in range(n):
        pass
    bare = time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    for i in range(n):
        inc(m.REQUESTS, "instagram", "block", "block", "students_under13")
    timed = time.perf_counter_ns() - t0
    # A busy district: every known platform x 2 verdicts x 4 actions x 6 cohorts, plus blocks.
    platforms = sorted(KNOWN_PLATFORMS)
    for p in platforms:
        for v in ("allow", "block"):
            for a in ("allow", "block", "read_only", "monitor"):
                for c in range(6):
                    counters.inc(m.REQUESTS, p, v, a, f"cohort_{c}")
            counters.inc(m.BLOCKS, p, "student.4")
    registry = build_registry(CrossingGuardCollector(counters, m.StateSources()))
    samples = []
    size = 0
    for _ in range(50):
        t0 = time.perf_counter()
        size = len(generate_latest(registry))
        samples.append(time.perf_counter() - t0)
    return {"inc_ns": (timed - bare) / n, "loop_ns": bare / n,
            "scrape_ms": statistics.median(samples) * 1000, "scrape_bytes": size,
            "series": len(counters.values)}


def load(proxy_url: str, ca: Path, requests: int, clients: int) -> float:
    from tests.support import proxied_client
    per = requests // clients

    def worker(_):
        with proxied_client(proxy_url, ca, source_ip=TEEN_IP) as c:
            c.get(URL)   # warm the connection and the certificate cache
            t0 = time.perf_counter()
            for _ in range(per):
                r = c.get(URL)
                assert r.status_code == 200, r.status_code
            return time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    return per * clients / (time.perf_counter() - t0)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    import os
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scraper(port: int, every: float, stop: threading.Event, counts: list) -> None:
    while not stop.wait(every):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                r.read()
            counts.append(1)
        except OSError:
            pass


def throughput(args) -> dict:
    from tests.support import (ConnectForwarder, CrossingGuardProcess, LocalOrigin, free_port, make_pki,
                               write_devices, write_test_roster)
    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-metrics-"))
    roster = write_test_roster(tmp / "roster")
    devices = write_devices(tmp / "devices.csv", [("dev-teen", roster.teen, TEEN_IP, "")])
    pki = make_pki(tmp / "pki")
    results = {"with": [], "without": []}
    cpu = {"with": [], "without": []}     # proxy CPU seconds per request: robust to a busy machine
    scrapes = []
    with LocalOrigin(pki.leaf_cert, pki.leaf_key) as origin, \
            ConnectForwarder(origin.https_port, origin.http_port) as fwd:
        mitm = ["--mode", f"upstream:{fwd.url}", "--set", "ssl_insecure=true"]
        for rnd in range(args.rounds):
            for label in ("without", "with") if rnd % 2 == 0 else ("with", "without"):
                port = free_port() if label == "with" else 0
                home = tmp / f"home-{label}-{rnd}"
                with CrossingGuardProcess(home, roster=roster.directory, devices=devices, metrics_port=port,
                                          mitm_args=mitm) as proxy:
                    stop = threading.Event()
                    t = None
                    if port:
                        t = threading.Thread(target=scraper, args=(port, args.scrape_every, stop, scrapes))
                        t.start()
                    try:
                        c0 = cpu_seconds(proxy.proc.pid)
                        results[label].append(load(proxy.url, proxy.ca_file, args.requests, args.clients))
                        cpu[label].append((cpu_seconds(proxy.proc.pid) - c0) / args.requests)
                    finally:
                        stop.set()
                        if t:
                            t.join()
    with_, without = statistics.median(results["with"]), statistics.median(results["without"])
    cpu_with, cpu_without = statistics.median(cpu["with"]), statistics.median(cpu["without"])
    return {"rps_with": with_, "rps_without": without, "ratio": with_ / without,
            "cpu_ms_per_request_with": cpu_with * 1000, "cpu_ms_per_request_without": cpu_without * 1000,
            "cpu_ratio": cpu_with / cpu_without, "rounds": results, "scrapes": len(scrapes)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scrape-every", type=float, default=1.0)
    ap.add_argument("--micro-only", action="store_true")
    args = ap.parse_args(argv)
    mic = micro()
    print(f"COUNTERS.inc: {mic['inc_ns']:.0f} ns/call over a bare loop of {mic['loop_ns']:.0f} ns/iteration")
    print(f"scrape (collect+render, {mic['series']} counter series + process): {mic['scrape_ms']:.2f} ms, "
          f"{mic['scrape_bytes']} bytes")
    out = {"micro": mic}
    if not args.micro_only:
        t = throughput(args)
        out["throughput"] = t
        print(f"proxy throughput: {t['rps_with']:.0f} req/s with the exporter (scraped every "
              f"{args.scrape_every:g}s, {t['scrapes']} scrapes) vs {t['rps_without']:.0f} req/s without: "
              f"ratio {t['ratio']:.3f} (rounds: with {[round(x) for x in t['rounds']['with']]}, "
              f"without {[round(x) for x in t['rounds']['without']]})")
        print(f"proxy CPU per request: {t['cpu_ms_per_request_with']:.3f} ms with vs "
              f"{t['cpu_ms_per_request_without']:.3f} ms without: ratio {t['cpu_ratio']:.3f}")
        # Expected cost at Prometheus' 15 s interval, from the parts measured above.
        print(f"at a 15 s scrape interval one scrape costs {mic['scrape_ms'] / 15000:.4%} of a core")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
