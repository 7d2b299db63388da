"""The kernel member at run time (round five, issue 13; trained in classifiers/train/kernel.py):
per category an RBF-kernel support vector machine on the encoder's vectors, its decision computed
here in numpy from the shipped arrays, so no pickle and no scikit-learn at run time:

    decision(x) = sum_i dual_i * exp(-gamma * |x - sv_i|^2) + intercept

which is sklearn.svm.SVC.decision_function for a binary RBF model (dual_coef_[0], intercept_[0]).
The ensemble (classifiers.heads.Heads.encoder_part) adds w_kernel * decision per window.

File: models/kernel.npz (allow_pickle=False): per category `svi_<c>` (int32: each support vector's
row in heads.npz's seed-post vectors (`knn_vectors4` since round seven, `knn_vectors` before),
which it always is, the SVMs being fitted on those rows; -1 for one that is not), `sv_<c>` (the
support vectors that are not seed rows, in order, as stored vectors; none in the shipped file),
`dual_<c>` (float64), `meta_<c>` (float64: intercept, gamma). Indices instead of copies (round
six): the file went from 4.9 MB to ~0.1 MB. In memory the support vectors of all categories are
held once, in float64 (KernelMember._build).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

KERNEL_FILE = "kernel.npz"
SV_DTYPE = np.float16       # support vectors stored as vectors (not seed rows): round five's dtype


class KernelFileError(Exception):
    pass


def rbf_decision(X: np.ndarray, sv: np.ndarray, dual: np.ndarray, intercept: float, gamma: float) -> np.ndarray:
    """(n,) decisions of an RBF-kernel SVM for the rows of X; computed in the wider of X's and
    sv's float types (float64 reproduces sklearn to ~1e-12)."""
    dt = np.result_type(X.dtype, sv.dtype, np.float32)
    X, sv = np.asarray(X, dtype=dt), np.asarray(sv, dtype=dt)
    d2 = (X * X).sum(axis=1)[:, None] + (sv * sv).sum(axis=1)[None, :] - 2.0 * (X @ sv.T)
    np.maximum(d2, 0.0, out=d2)
    return np.exp(-gamma * d2) @ np.asarray(dual, dtype=dt) + intercept


@dataclass
class KernelMember:
    """The kernel SVMs by category: `sv` as shipped until the bank is built (at load, or at first
    use for one built by hand), then the one float64 bank (`bank`) and each category's rows in it."""
    sv: dict[str, np.ndarray] = field(default_factory=dict)
    dual: dict[str, np.ndarray] = field(default_factory=dict)
    intercept: dict[str, float] = field(default_factory=dict)
    gamma: dict[str, float] = field(default_factory=dict)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.dual)

    # built at first use: the support vectors of every category once (float64, deduplicated: the
    # categories share 28% of them), each category's rows in it, and their squared norms
    _bank: np.ndarray | None = field(default=None, repr=False)
    _rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _sq: np.ndarray | None = field(default=None, repr=False)

    def _build(self) -> None:
        # deduplicated by the rows' bytes (np.unique's sort of a float64 copy left ~20 MB more resident)
        first: dict[bytes, int] = {}
        for c in self.categories:
            sv = np.ascontiguousarray(self.sv[c])
            self._rows[c] = np.array([first.setdefault(r.tobytes(), len(first)) for r in sv], dtype=np.int64)
        dim = next(iter(self.sv.values())).shape[1]
        bank = np.empty((len(first), dim), dtype=np.float64)
        for c in self.categories:
            bank[self._rows[c]] = self.sv[c]
        self._bank, self._sq = bank, (bank * bank).sum(axis=1)
        # the per-category copies are no longer needed
        self.sv = {c: np.empty((0, dim), dtype=self.sv[c].dtype) for c in self.sv}

    def decisions(self, vectors: np.ndarray, categories: Sequence[str]) -> np.ndarray:
        """(n, len(categories)): each category's decision, 0 for a category without a model.
        Products in float64 against one bank: a post's decision does not depend on its batch
        (float32 products differed by ~1e-9 between a post alone and in a batch)."""
        out = np.zeros((len(vectors), len(categories)))
        if not self.dual:
            return out
        if self._bank is None:
            self._build()
        x = np.asarray(vectors, dtype=np.float64)
        d2 = (x * x).sum(axis=1)[:, None] + self._sq[None, :] - 2.0 * (x @ self._bank.T)
        np.maximum(d2, 0.0, out=d2)
        for j, c in enumerate(categories):
            if c in self._rows:
                out[:, j] = np.exp(-self.gamma[c] * d2[:, self._rows[c]]) @ self.dual[c] + self.intercept[c]
        return out

    @property
    def bank(self) -> np.ndarray:
        """The distinct support vectors of every category (float64)."""
        if self._bank is None:
            self._build()
        return self._bank

    def decision(self, category: str, vectors: np.ndarray) -> np.ndarray:
        return self.decisions(vectors, [category])[:, 0]

    @classmethod
    def load(cls, path: Path, categories: Sequence[str], seed_vectors: np.ndarray | None = None) -> "KernelMember":
        """The models of `categories` from `path`, support vectors given by row resolved against
        `seed_vectors` (heads.npz's seed-post vectors, as the kNN member reads them); a missing
        file or array, a shape that does not fit or a row outside the seed vectors raises
        KernelFileError naming the file and the array."""
        km = cls()
        for c, m in read_kernel(path, categories, seed_vectors).items():
            km.sv[c], km.dual[c] = m["sv"], m["dual"]      # sv as stored; widened once in _build
            km.intercept[c], km.gamma[c] = m["intercept"], m["gamma"]
        if km.dual:
            km._build()     # now, not at a first call that threads could race to
        return km


def read_kernel(path: Path, categories: Sequence[str], seed_vectors: np.ndarray | None = None) -> dict[str, dict]:
    """category -> {"sv", "dual", "intercept", "gamma"} from `path`, the support vectors resolved
    (see the module docstring); errors as KernelMember.load."""
    if not path.is_file():
        raise KernelFileError(f"{path}: no such file (the kernel member's arrays)")
    out: dict[str, dict] = {}
    try:
        with np.load(path, allow_pickle=False) as z:
            for c in categories:
                for name in (f"dual_{c}", f"meta_{c}"):
                    if name not in z.files:
                        raise KernelFileError(f"{path}: {name}: missing")
                if f"svi_{c}" not in z.files and f"sv_{c}" not in z.files:
                    raise KernelFileError(f"{path}: svi_{c}: missing (and no sv_{c})")
                sv = _resolve(path, c, z, seed_vectors)
                dual, meta = z[f"dual_{c}"], z[f"meta_{c}"]
                if sv.ndim != 2 or dual.shape != (sv.shape[0],) or meta.shape != (2,):
                    raise KernelFileError(f"{path}: {c}: shapes sv {sv.shape}, dual {dual.shape}, meta {meta.shape} do not fit")
                out[c] = {"sv": sv, "dual": dual.astype(np.float64), "intercept": float(meta[0]), "gamma": float(meta[1])}
    except KernelFileError:
        raise
    except (OSError, ValueError) as exc:
        raise KernelFileError(f"{path}: unreadable: {exc}") from exc
    return out


def _resolve(path: Path, c: str, z, seed_vectors: np.ndarray | None) -> np.ndarray:
    """Category c's support vectors: seed rows by `svi_<c>`, the others from `sv_<c>` in order
    (a file of round five has `sv_<c>` alone)."""
    if f"svi_{c}" not in z.files:
        return z[f"sv_{c}"]
    idx = z[f"svi_{c}"]
    rest = z[f"sv_{c}"] if f"sv_{c}" in z.files else None
    if idx.ndim != 1:
        raise KernelFileError(f"{path}: svi_{c}: shape {idx.shape}, expected one row index per support vector")
    if seed_vectors is None:
        raise KernelFileError(f"{path}: svi_{c}: support vectors by seed row, but heads.npz has no seed vectors (knn_vectors4 or knn_vectors)")
    if idx.size and (idx.max() >= len(seed_vectors) or idx.min() < -1):
        raise KernelFileError(f"{path}: svi_{c}: rows {int(idx.min())}..{int(idx.max())} outside the "
                              f"{len(seed_vectors)} seed vectors of heads.npz (files from different trainings?)")
    own = idx < 0
    n_own = int(own.sum())
    if n_own != (0 if rest is None else rest.shape[0]) or (rest is not None and rest.ndim != 2):
        raise KernelFileError(f"{path}: sv_{c}: {0 if rest is None else rest.shape[0]} stored support vectors "
                              f"for {n_own} rows marked -1 in svi_{c}")
    dtype = seed_vectors.dtype if rest is None else np.result_type(seed_vectors.dtype, rest.dtype)
    sv = np.empty((len(idx), seed_vectors.shape[1]), dtype=dtype)
    sv[~own] = seed_vectors[idx[~own]]
    if n_own:
        sv[own] = rest
    return sv


def save_kernel(path: Path, models: dict[str, dict], keep: Sequence[str] = (), dtype=SV_DTYPE,
                seed_vectors: np.ndarray | None = None, old_seed_vectors: np.ndarray | None = None) -> dict[str, int]:
    """Write `models` (category -> {"sv", "dual", "intercept", "gamma"}) to `path`; the categories
    in `keep` are copied from the file already there (a retraining of some categories; its rows
    resolved against `old_seed_vectors`, the seed vectors as loaded from the heads.npz it was
    written with, and stored anew against `seed_vectors`).

    `seed_vectors`: the seed vectors as KernelMember.load will get them. A support vector equal to
    a seed row (in seed_vectors' dtype: training fits the SVMs on those rows) is stored as the
    row's index; the others as vectors in `dtype`. Returns, per category, how many are not seed
    rows."""
    kept = read_kernel(path, [c for c in keep if c not in models], old_seed_vectors) if keep and path.is_file() else {}
    row_of: dict[bytes, int] = {}
    if seed_vectors is not None:
        seed_vectors = np.ascontiguousarray(seed_vectors)
        for i, r in enumerate(seed_vectors):
            row_of.setdefault(r.tobytes(), i)
    arrays: dict[str, np.ndarray] = {}
    not_seed: dict[str, int] = {}
    for c, m in {**kept, **models}.items():
        sv = np.asarray(m["sv"])
        if seed_vectors is not None:
            # a kept category's vectors are already as loaded; a trained one's become so when stored
            stored = np.ascontiguousarray(sv.astype(seed_vectors.dtype))
            idx = np.array([row_of.get(r.tobytes(), -1) for r in stored], dtype=np.int32)
            arrays[f"svi_{c}"] = idx
            if (idx < 0).any():
                arrays[f"sv_{c}"] = sv[idx < 0].astype(dtype)
            not_seed[c] = int((idx < 0).sum())
        else:
            arrays[f"sv_{c}"] = sv.astype(dtype)
            not_seed[c] = len(sv)
        arrays[f"dual_{c}"] = np.asarray(m["dual"], dtype=np.float64)
        arrays[f"meta_{c}"] = np.array([m["intercept"], m["gamma"]], dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return not_seed
