"""Leave-one-source-out figures next to in-source ones (`crossingguard evaluate --loso`).

What an unseen source will do is measured by training without it. For each category and each of
its sources S (classifiers/train/heads.py HEAD_SOURCES, the same capped seeded samples the heads
train on):
- in-source: members fitted on every source's train sample, scored on S's test sample;
- leave-one-out: the same recipe fitted without S (train and validation samples), scored on S's
  test sample.
The recipe is the shipped one in small: an encoder head (logistic regression on the 384-d
vectors), a TF-IDF logistic regression (word 1-2 and character 2-5 grams; the shipped TF-IDF
models cannot be refitted per fold in minutes, so this one stands for them), and the ensemble of
the two fitted on the validation samples of the sources in training. ROC-AUC with a bootstrap
95% interval for each member and the ensemble. Embeddings come from the cache (heads.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from scipy.sparse import hstack

from classifiers.encoder import Encoder
from classifiers.train.heads import EmbeddingCache, HEAD_SOURCES, fit_head, fit_stack, gather_heads, logit, prepare

BOOTSTRAP = 500
SEED = 20261206


def auc_ci(y: Sequence[int], p: Sequence[float], seed: int = SEED) -> dict:
    y, p = np.asarray(y), np.asarray(p, dtype=np.float64)
    if len(set(y.tolist())) < 2:
        return {"auc": None, "ci95": None, "n": int(len(y)), "positives": int(y.sum())}
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            aucs.append(roc_auc_score(y[idx], p[idx]))
    return {"auc": round(float(roc_auc_score(y, p)), 4),
            "ci95": [round(float(np.quantile(aucs, 0.025)), 4), round(float(np.quantile(aucs, 0.975)), 4)],
            "n": int(len(y)), "positives": int(y.sum())}


class _Tfidf:
    def __init__(self, texts: list[str], y: Sequence[int]):
        self.w = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self.c = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=150_000)
        X = hstack([self.w.fit_transform(texts), self.c.fit_transform(texts)]).tocsr()
        self.clf = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(X, np.asarray(y))

    def proba(self, texts: list[str]) -> np.ndarray:
        X = hstack([self.w.transform(texts), self.c.transform(texts)]).tocsr()
        return self.clf.predict_proba(X)[:, 1]


def _fit_and_score(train_t, train_X, train_y, val_t, val_X, val_y, test_t, test_X, test_y) -> dict:
    coef, icpt = fit_head(train_X, train_y)
    tf = _Tfidf(train_t, train_y)
    dva, dte = val_X.astype(np.float64) @ coef + icpt, test_X.astype(np.float64) @ coef + icpt
    pva, pte = tf.proba(val_t), tf.proba(test_t)
    w, b = fit_stack(pva, dva, val_y)
    ens = 1 / (1 + np.exp(-(w[0] * logit(pte) + w[1] * dte + b)))
    return {"tfidf": auc_ci(test_y, pte), "head": auc_ci(test_y, dte), "ensemble": auc_ci(test_y, ens)}


def loso(categories: Sequence[str], data_dir: Path | None, encoder: Encoder,
         shipped: Callable[[list[str]], dict] | None = None, baseline: Callable[[list[str]], np.ndarray] | None = None,
         log=lambda m: None) -> list[dict]:
    """One result per (category, source): in-source and leave-one-out figures; `shipped` (the
    shipped models' model_proba) and `baseline` (alt-profanity-check, bullying only) are scored on
    the same test samples."""
    cache = EmbeddingCache()
    splits: dict = {}
    out = []
    for cat in categories:
        data = gather_heads(cat, data_dir, splits)
        Xtr, Xva = cache.embed(encoder, prepare(data.train.texts)), cache.embed(encoder, prepare(data.val.texts))
        src_tr, src_va = np.array(data.train_source), np.array(data.val_source)
        ytr, yva = np.asarray(data.train.labels), np.asarray(data.val.labels)
        ttr, tva = np.array(data.train.texts, dtype=object), np.array(data.val.texts, dtype=object)
        for name in HEAD_SOURCES[cat]:
            test = data.tests[name]
            Xte, yte = cache.embed(encoder, prepare(test.texts)), np.asarray(test.labels)
            row: dict = {"category": cat, "source": name}
            log(f"{cat}/{name}: in-source")
            row["in_source"] = _fit_and_score(list(ttr), Xtr, ytr, list(tva), Xva, yva, test.texts, Xte, yte)
            # leave S out: its train rows (and rows borrowed from it) and its validation rows
            keep_tr = np.array([not s.startswith(name) for s in src_tr])
            keep_va = src_va != name
            log(f"{cat}/{name}: left out")
            row["left_out"] = _fit_and_score(list(ttr[keep_tr]), Xtr[keep_tr], ytr[keep_tr], list(tva[keep_va]),
                                             Xva[keep_va], yva[keep_va], test.texts, Xte, yte)
            if shipped is not None:
                row["shipped_models"] = auc_ci(yte, shipped(test.texts)[cat])
            if baseline is not None and cat == "bullying":
                row["alt_profanity_check"] = auc_ci(yte, baseline(test.texts))
            out.append(row)
    return out
