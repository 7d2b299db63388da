"""Run every benchmark in turn and print their figures (`make bench`).

Each benchmark is its own script (it prints a ratio against a baseline measured in the same
run); they run one after another so they do not compete for the two cores.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("bench_decide.py", "bench_classifiers.py", "bench_proxy.py", "bench_metrics.py", "bench_sensor.py",
           "bench_store.py", "bench_review.py", "bench_workers.py", "bench_wireguard_listeners.py")


def main(argv: list[str]) -> int:
    wanted = argv or list(BENCHES)
    failed = []
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        rc = subprocess.call([sys.executable, str(HERE / name)], cwd=HERE.parent)
        print(f"--- {name}: exit {rc} in {time.monotonic() - started:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
