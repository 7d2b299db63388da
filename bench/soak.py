"""Soak: a real `crossingguard run` under steady, realistic load for a long time (default 30
minutes), loopback only. Prints the proxy's RSS and open descriptors over time and the growth
after warm-up, as a ratio to the warm-up value in the same run (target: RSS growth < 10%,
descriptors flat). The load mix is tests/support/soak.py (students reading, blocks, pass-through,
DoH, posts in a teacher session, idle connections).

Usage: python bench/soak.py [--minutes 30] [--rate 12] [--warmup-minutes 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import (ConnectForwarder, CrossingGuardProcess, LocalOrigin, make_pki, trust,  # noqa: E402
                           write_devices, write_test_roster)
from tests.support.soak import run_soak  # noqa: E402

ADDRESSES = {"young": "127.0.0.11", "teen": "127.0.0.12", "unknown": "127.0.0.99"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=12.0, help="mix entries per second (default 12)")
    ap.add_argument("--warmup-minutes", type=float, default=2.0)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cg-soak-") as tmpdir:
        tmp = Path(tmpdir)
        roster = write_test_roster(tmp / "roster")
        devices = write_devices(tmp / "devices.csv", [("dev-young", roster.young, ADDRESSES["young"], ""),
                                                      ("dev-teen", roster.teen, ADDRESSES["teen"], "")])
        pki = make_pki(tmp / "pki")
        with LocalOrigin(pki.leaf_cert, pki.leaf_key) as origin, \
                ConnectForwarder(origin.https_port, origin.http_port) as fwd, \
                CrossingGuardProcess(tmp / "home", roster=roster.directory, devices=devices,
                                     mitm_args=["--mode", f"upstream:{fwd.url}", "--set", "ssl_insecure=true"]) as proxy:
            opened = proxy.cli("session", "open", "--teacher", roster.teacher, "--class", roster.class_id,
                               "--platform", "youtube", "--minutes", str(int(a.minutes) + 10))
            if opened.returncode != 0:
                print(opened.stderr, file=sys.stderr)
                return 1
            seconds = a.minutes * 60
            result = run_soak(proxy.port, proxy.proc.pid, ADDRESSES, trust([proxy.ca_file, pki.ca_cert]), seconds=seconds,
                              rate=a.rate, sample_every=max(5.0, seconds / 60))
            verified = proxy.cli("verify-log")
    warm = result.at(a.warmup_minutes * 60)
    last = result.samples[-1]
    print(f"soak: {a.minutes:g} min at {a.rate:g} mix entries/s; {result.requests} entries, {result.errors} errors, "
          f"statuses {dict(sorted(result.statuses.items()))}")
    for s in result.samples[:: max(1, len(result.samples) // 12)] + [last]:
        print(f"    t={s.at:7.0f}s  RSS {s.rss_kb / 1024:7.1f} MB  fds {s.fds}")
    growth = (last.rss_kb - warm.rss_kb) / warm.rss_kb
    print(f"RSS after warm-up ({a.warmup_minutes:g} min) {warm.rss_kb / 1024:.1f} MB, at the end {last.rss_kb / 1024:.1f} MB: "
          f"growth {growth:+.1%} (target < 10%) {'OK' if growth < 0.10 else 'ABOVE TARGET'}")
    print(f"descriptors after warm-up {warm.fds}, at the end {last.fds} "
          f"({'flat' if last.fds <= warm.fds + 5 else 'GROWING'})")
    print(f"verify-log after the run: {'ok' if verified.returncode == 0 else verified.stdout.strip()}")
    return 0 if growth < 0.10 and last.fds <= warm.fds + 5 and verified.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
