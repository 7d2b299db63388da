"""One thread for every BLAS and OpenMP pool while models are trained.

Why: a solver's sums come out in the same order only at a fixed thread count, so `crossingguard
train` reproduces the shipped files bit for bit on any machine and at any OMP_NUM_THREADS.

threadpoolctl limits only the pools of libraries already loaded. numpy, scipy and scikit-learn
each bring their own (scipy its own OpenBLAS, scikit-learn libgomp), and the training code
imports them lazily; so they are imported here first. Round five limited before importing them:
the command line then ran scipy's OpenBLAS on two threads while the test process (which had
imported scipy already) ran it on one, and the two gave different bullying files (EXPERIMENTS.md,
round six).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def load_numeric_libraries() -> None:
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.sparse.linalg  # noqa: F401
    import sklearn.decomposition  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.svm  # noqa: F401


@contextmanager
def single_threaded() -> Iterator[None]:
    load_numeric_libraries()
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        yield
