"""The kernel member (round five, issue 13; model card "Model"): per category, an RBF-kernel
support vector machine on the encoder vectors of the hand-written seed posts alone
(sklearn.svm.SVC, libsvm; no probability=True, so fitting is deterministic).

Rows as the seed head's (classifiers.train.heads.seed_rows): positives are the category's seeds
(with `concern`, a worried friend, for self_harm: their category is self_harm), negatives every
other seed; threat seeds are left out of bullying.

Out-of-fold decisions (for the stack and so for the thresholds) come from folds BY WRITER: the
group of a seed post is the file it came from (seed_posts.csv and each seeds/*.csv were written by
one writer each), GroupKFold over those groups. Folds by text hash put a writer's paraphrases on
both sides of a fold and made the decisions, and the thresholds chosen on them, optimistic.
C and gamma are chosen by the same leave-writer-out decisions (select_params), never on the
realistic evaluation sets.

Shipped without pickle (classifiers.kernel.save_kernel / KernelMember): the support vectors (the
seed posts' own vectors: only our synthetic posts, never public data) as rows of heads.npz's seed vectors, the dual
coefficients and intercept as float64, gamma in the file; classifiers.kernel computes the decision
in numpy.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.svm import SVC

from classifiers.train.heads import Seed, seed_rows

# Chosen by leave-writer-out figures over C in (1, 3, 10) x gamma in (0.5, 1, 2) (gamma 1 is
# sklearn's "scale" on unit vectors): EXPERIMENTS.md, "round five: kernel member".
KERNEL_C = {"bullying": 10.0, "threat": 10.0, "self_harm": 10.0}
KERNEL_GAMMA = {"bullying": 1.0, "threat": 1.0, "self_harm": 1.0}
WRITER_FOLDS = 6
GRID_C = (1.0, 3.0, 10.0)
GRID_GAMMA = (0.5, 1.0, 2.0)


def writer_folds(writers: Sequence[str], n_splits: int = WRITER_FOLDS) -> np.ndarray:
    """Each row's fold (0..n_splits-1) with every writer's rows in one fold (GroupKFold: folds of
    about equal size, deterministic)."""
    writers = np.asarray(writers)
    n = min(n_splits, len(set(writers.tolist())))
    folds = np.full(len(writers), -1)
    for k, (_, test) in enumerate(GroupKFold(n_splits=n).split(np.zeros(len(writers)), groups=writers)):
        folds[test] = k
    return folds


def fit_svc(X: np.ndarray, y: np.ndarray, C: float, gamma: float) -> SVC:
    return SVC(C=C, kernel="rbf", gamma=gamma, class_weight="balanced").fit(np.asarray(X, dtype=np.float64), y)


def oof_decisions(X: np.ndarray, y: np.ndarray, folds: np.ndarray, C: float, gamma: float) -> np.ndarray:
    """Each row's decision from the SVM fitted on the other folds (other writers)."""
    out = np.zeros(len(y))
    for k in sorted(set(folds.tolist())):
        te = folds == k
        out[te] = fit_svc(X[~te], y[~te], C, gamma).decision_function(np.asarray(X[te], dtype=np.float64))
    return out


def rows_for(category: str, seeds: Sequence[Seed]) -> tuple[list[Seed], np.ndarray]:
    use = seed_rows(category, seeds)
    return use, np.array([int(x.category == category) for x in use])


def fp_at_recall(y: np.ndarray, d: np.ndarray, target: float = 0.90, mask: np.ndarray | None = None) -> float:
    """Share of negatives (within `mask`) at or over the threshold that keeps `target` of the positives."""
    thr = float(np.quantile(d[y == 1], 1 - target))
    neg = (y == 0) if mask is None else ((y == 0) & mask)
    return float((d[neg] >= thr).mean()) if neg.any() else 0.0


def select_params(category: str, seeds: Sequence[Seed], X: np.ndarray, writers: dict[str, str],
                  grid_c: Sequence[float] = GRID_C, grid_gamma: Sequence[float] = GRID_GAMMA, log=print) -> dict:
    """Leave-writer-out figures per (C, gamma): ROC-AUC and the share of the hard-negative seeds
    ("none") labelled at 90% recall, on out-of-writer-fold decisions. X: one row per seed_rows."""
    use, y = rows_for(category, seeds)
    folds = writer_folds([writers[x.text] for x in use])
    none = np.array([x.category == "none" for x in use])
    out = {}
    for C in grid_c:
        for g in grid_gamma:
            d = oof_decisions(X, y, folds, C, g)
            out[(C, g)] = {"roc_auc": round(float(roc_auc_score(y, d)), 4),
                           "none_fp_at_90": round(fp_at_recall(y, d, 0.90, none), 4),
                           "none_fp_at_95": round(fp_at_recall(y, d, 0.95, none), 4)}
            log(f"{category} C={C} gamma={g} {out[(C, g)]}")
    return out


def fit_kernel_member(category: str, seeds: Sequence[Seed], X: np.ndarray, writers: dict[str, str],
                      C: float | None = None, gamma: float | None = None) -> dict:
    """The member of `category`: the full fit's support vectors (float32 here; stored as seed rows),
    dual coefficients, intercept, gamma; each seed's out-of-writer-fold decision ("texts", "oof");
    leave-writer-out figures. X: one row per seed_rows(category, seeds)."""
    C = KERNEL_C[category] if C is None else C
    gamma = KERNEL_GAMMA[category] if gamma is None else gamma
    use, y = rows_for(category, seeds)
    folds = writer_folds([writers[x.text] for x in use])
    oof = oof_decisions(X, y, folds, C, gamma)
    m = fit_svc(X, y, C, gamma)
    none = np.array([x.category == "none" for x in use])
    note = {"C": C, "gamma": gamma, "n": len(use), "positives": int(y.sum()),
            "support_vectors": int(m.support_.size), "writer_folds": int(folds.max() + 1),
            "writers": sorted({writers[x.text] for x in use}),
            "oof_roc_auc": round(float(roc_auc_score(y, oof)), 4),
            "oof_none_labelled_at_recall_90": round(fp_at_recall(y, oof, 0.90, none), 4)}
    return {"sv": m.support_vectors_.astype(np.float32), "dual": m.dual_coef_[0].astype(np.float64),
            "intercept": float(m.intercept_[0]), "gamma": float(gamma), "texts": [x.text for x in use],
            "oof": oof, "folds": folds, "note": note, "model": m}
