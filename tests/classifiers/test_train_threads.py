"""Training runs every BLAS/OpenMP pool on one thread, including the pools of libraries the
training code imports lazily (round five limited before scipy's own OpenBLAS was loaded: the
command line and the test process then trained different bullying files)."""
from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json
from classifiers.train.threads import single_threaded
from threadpoolctl import threadpool_info
with single_threaded():
    import classifiers.train.fit, classifiers.train.heads, classifiers.train.kernel  # what train imports
    inside = [(i["filepath"].rsplit("/", 1)[-1], i["num_threads"]) for i in threadpool_info()]
print(json.dumps(inside))
"""


def test_every_pool_is_single_threaded_in_a_fresh_interpreter():
    # a fresh interpreter: nothing numeric imported yet, as when `crossingguard train` starts
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          env={"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
                               **{k: v for k, v in __import__("os").environ.items()
                                  if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}})
    assert done.returncode == 0, done.stderr
    pools = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(pools) >= 2, pools                       # numpy's and scipy's OpenBLAS at least
    assert all(n == 1 for _, n in pools), pools
