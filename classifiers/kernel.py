"""The kernel member at run time (round five, issue 13; trained in classifiers/train/kernel.py):
per category an RBF-kernel support vector machine on the encoder's vectors, its decision computed
here in numpy from the shipped arrays, so no pickle and no scikit-learn at run time:

    decision(x) = sum_i dual_i * exp(-gamma * |x - sv_i|^2) + intercept

which is sklearn.svm.SVC.decision_function for a binary RBF model (dual_coef_[0], intercept_[0]).
The ensemble (classifiers.heads.Heads.encoder_part) adds w_kernel * decision per window.

File: models/kernel.npz (allow_pickle=False): per category `sv_<c>` (support vectors, float16:
the seed posts' own vectors, our synthetic posts only), `dual_<c>` (float64), `meta_<c>`
(float64: intercept, gamma). In memory the support vectors of all categories are held once, in
float64 (KernelMember._build).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

KERNEL_FILE = "kernel.npz"
SV_DTYPE = np.float16       # the stored support vectors (EXPERIMENTS.md round five: score difference)


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
    def load(cls, path: Path, categories: Sequence[str]) -> "KernelMember":
        """The models of `categories` from `path`; a missing file, array or a shape that does not
        fit raises KernelFileError naming the file and the array."""
        if not path.is_file():
            raise KernelFileError(f"{path}: no such file (the kernel member's arrays)")
        km = cls()
        try:
            with np.load(path, allow_pickle=False) as z:
                for c in categories:
                    for name in (f"sv_{c}", f"dual_{c}", f"meta_{c}"):
                        if name not in z.files:
                            raise KernelFileError(f"{path}: {name}: missing")
                    sv, dual, meta = z[f"sv_{c}"], z[f"dual_{c}"], z[f"meta_{c}"]
                    if sv.ndim != 2 or dual.shape != (sv.shape[0],) or meta.shape != (2,):
                        raise KernelFileError(f"{path}: {c}: shapes sv {sv.shape}, dual {dual.shape}, meta {meta.shape} do not fit")
                    km.sv[c] = sv          # as stored (float16); widened once in _build
                    km.dual[c] = dual.astype(np.float64)
                    km.intercept[c], km.gamma[c] = float(meta[0]), float(meta[1])
        except KernelFileError:
            raise
        except (OSError, ValueError) as exc:
            raise KernelFileError(f"{path}: unreadable: {exc}") from exc
        if km.dual:
            km._build()     # now, not at a first call that threads could race to
        return km


def save_kernel(path: Path, models: dict[str, dict], keep: Sequence[str] = (), dtype=SV_DTYPE) -> None:
    """Write `models` (category -> {"sv", "dual", "intercept", "gamma"}) to `path`; the categories
    in `keep` are copied from the file already there (a retraining of some categories)."""
    arrays: dict[str, np.ndarray] = {}
    if keep and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            for c in keep:
                for name in (f"sv_{c}", f"dual_{c}", f"meta_{c}"):
                    if name in z.files:
                        arrays[name] = z[name]
    for c, m in models.items():
        arrays[f"sv_{c}"] = np.asarray(m["sv"]).astype(dtype)
        arrays[f"dual_{c}"] = np.asarray(m["dual"], dtype=np.float64)
        arrays[f"meta_{c}"] = np.array([m["intercept"], m["gamma"]], dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
