"""Metrics reported by `crossingguard evaluate`, the trainer and the bench (one definition)."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def binary_metrics(labels, scores, threshold: float) -> dict:
    y = np.asarray(labels, dtype=int)
    p = np.asarray(scores, dtype=float)
    out: dict = {"n": int(len(y)), "positives": int(y.sum()), "threshold": round(float(threshold), 4)}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
        out["pr_auc"] = round(float(average_precision_score(y, p)), 4)
    else:
        out["roc_auc"] = out["pr_auc"] = None   # undefined with a single class
    flagged = p >= threshold
    tp = int((flagged & (y == 1)).sum())
    out["precision"] = round(tp / int(flagged.sum()), 4) if flagged.any() else None
    out["recall"] = round(tp / int(y.sum()), 4) if y.sum() else None
    return out


def threshold_for_precision(labels, scores, target: float) -> tuple[float, float, float]:
    """The lowest threshold whose precision on (labels, scores) is at least `target`, i.e. the
    most recall at that precision. Returns (threshold, precision, recall) there; when the target
    cannot be reached, the threshold of best precision among those keeping 10% recall."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(scores, dtype=float)
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    prec = tp / k
    rec = tp / max(1, ys.sum())
    # only cut between distinct scores
    last = np.r_[ps[1:] != ps[:-1], True]
    ok = np.where(last & (prec >= target))[0]
    if len(ok):
        i = ok[-1]
    else:
        cand = np.where(last & (rec >= 0.1))[0]
        i = cand[np.argmax(prec[cand])] if len(cand) else len(ps) - 1
    return float(ps[i]), float(prec[i]), float(rec[i])
