"""How many take-home devices one proxy process holds: WireGuard listeners (one UDP port per device).

Why one listener per device (and not many peers per listener): agent/wireguard.py and docs/deploy.md.
This bench prices that choice. For each count of enrolled devices (default 0, 50, 200) it makes a
fresh --home, enrols the devices (`WireGuardRegistry.add`, exactly what `crossingguard devices
wireguard add` does), starts `crossingguard run --wireguard` and waits until every device's UDP port
is bound by the proxy, then measures the proxy process:

  start        seconds from start until every listener is bound
  RSS          resident memory (MiB) of the proxy process (its classifier pool and review app are
               separate processes, unchanged by listeners, and not counted)
  fds          open descriptors; threads: OS threads
  idle CPU     share of one core with no traffic, over --idle-seconds (WireGuard keepalive and
               handshake timers run per listener)

and prints the cost per listener: (value at N - value at 0) / N. Figures go to docs/deploy.md.

Usage: python bench/bench_wireguard_listeners.py [--counts 0,50,200] [--idle-seconds 10]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import CrossingGuardProcess  # noqa: E402



def free_udp_base(count: int) -> int:
    """A base port with `count` consecutive free UDP ports on 0.0.0.0 (other jobs share the machine)."""
    for base in range(41000, 60000 - count, 997):
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("0.0.0.0", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} consecutive free UDP ports")


def udp_ports_of(pid: int) -> set[int]:
    """Local ports of the UDP sockets process `pid` holds (its fds matched against /proc/net/udp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[9] in inodes:
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    return ports


def cpu(pid: int) -> float:
    """Seconds on a CPU of every thread of `pid` (schedstat: nanoseconds, finer than clock ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def measure(count: int, base: Path, idle_seconds: float) -> dict:
    from agent.wireguard import WireGuardRegistry
    home = Path(tempfile.mkdtemp(dir=base, prefix=f"wg{count}-"))
    first = free_udp_base(max(count, 1))
    reg = WireGuardRegistry(home)
    for i in range(count):
        reg.add(f"tab-{i:05d}", f"student-{i:05d}", base_port=first)
    wanted = {d.port for d in reg.devices()}
    proxy = CrossingGuardProcess(home, metrics_port=0, start_timeout=120, run_args=["--wireguard"])
    t0 = time.monotonic()
    proxy.start()
    try:
        pid = proxy.proc.pid
        deadline = time.monotonic() + 180
        while not wanted <= udp_ports_of(pid):
            if time.monotonic() > deadline or proxy.proc.poll() is not None:
                missing = len(wanted - udp_ports_of(pid)) if proxy.proc.poll() is None else len(wanted)
                raise RuntimeError(f"{count} devices: {missing} listeners not bound; see {proxy.log_path}")
            time.sleep(0.2)
        started = time.monotonic() - t0
        time.sleep(5)                          # start-up work (pool, first snapshots) settles
        c0 = cpu(pid)
        time.sleep(idle_seconds)
        idle = (cpu(pid) - c0) / idle_seconds
        return {"count": count, "start": started, "rss": status(pid, "VmRSS") / 1024,
                "fds": len(list(Path(f"/proc/{pid}/fd").iterdir())), "threads": status(pid, "Threads"),
                "idle": idle, "bound": len(wanted & udp_ports_of(pid))}
    finally:
        proxy.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="0,50,200", help="comma-separated device counts; the first is the baseline")
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    a = ap.parse_args()
    counts = [int(x) for x in a.counts.split(",")]
    base = Path(tempfile.mkdtemp(prefix="cg-bench-wg-"))
    print(f"bench_wireguard_listeners: one `crossingguard run --wireguard` per count; {os.cpu_count()} CPUs; "
          f"load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        rows = [measure(n, base, a.idle_seconds) for n in counts]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{'devices':>8} {'bound':>6} {'start s':>8} {'RSS MiB':>8} {'fds':>6} {'threads':>8} {'idle CPU':>9}")
    for r in rows:
        print(f"{r['count']:>8} {r['bound']:>6} {r['start']:>8.1f} {r['rss']:>8.1f} {r['fds']:>6} {r['threads']:>8} "
              f"{r['idle'] * 100:>8.2f}%")
    b = rows[0]
    for r in rows[1:]:
        n = r["count"] - b["count"]
        if n <= 0:
            continue
        print(f"per listener ({b['count']} -> {r['count']} devices): "
              f"{(r['rss'] - b['rss']) * 1024 / n:.0f} KiB RSS, {(r['fds'] - b['fds']) / n:.2f} fds, "
              f"{(r['threads'] - b['threads']) / n:.3f} threads, "
              f"{(r['idle'] - b['idle']) * 1e6 / n:.1f} µs of CPU per second idle, "
              f"{(r['start'] - b['start']) * 1000 / n:.0f} ms of start-up")
    print(f"load average after: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
