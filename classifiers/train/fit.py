"""Fit, calibrate and threshold one category's text model (classifiers/models/README.md).

Per category: normalize -> TfidfVectorizer(our analyzer, binary, l2, min_df) on the train part ->
LogisticRegression (balanced classes) -> keep the MAX_FEATURES strongest n-grams and refit (small
shipped files, fast scoring) -> Platt calibration on the validation part -> the threshold that
reaches the category's target precision on the validation part -> metrics on each test part.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from classifiers.datasets import (CATEGORY_SOURCES, SEED, SOURCES, Part, read_labelled_csv,
                                  split_source)
from classifiers.models_features import analyze
from classifiers.normalize import normalize_text
from classifiers.textmodels import CategoryModel
from classifiers.train.idioms import IDIOM_REPEAT, SELF_HARM_NEGATIVES, THREAT_NEGATIVES
from classifiers.train.metrics import binary_metrics, threshold_for_precision

MODEL_DATE = "2026-11-28"
MAX_FEATURES = 60_000
MIN_DF = 3
C = 4.0
# The precision each category's threshold is chosen for on validation data. Threat and self-harm
# trade precision for recall (a counselor reviewing a false alarm costs less than a missed plan);
# bullying needs fewer false accusations.
PRECISION_TARGET = {"bullying": 0.75, "threat": 0.85, "self_harm": 0.90}
# Negatives borrowed from the other categories' train parts, so e.g. "i want to kill myself" teaches
# the threat model that self-harm is not a threat, and casual teen talk is not self-harm.
IDIOM_NEGATIVES = {"threat": THREAT_NEGATIVES, "self_harm": SELF_HARM_NEGATIVES}
BORROWED_NEGATIVES = {
    "threat": (("suicidal_tweets", 1, 800), ("formspring", 0, 1500), ("olid", 0, 1500)),
    "self_harm": (("threatgram", 1, 800), ("formspring", 0, 1500), ("olid", 0, 1500),
                  ("kaggle_insults", 1, 500)),
    "bullying": (),
}


@dataclass
class TrainData:
    train: Part
    val: Part
    tests: dict[str, Part] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


def gather(category: str, data_dir: Path | None, splits: dict[str, dict[str, Part]] | None = None) -> TrainData:
    """Train/val/test parts for a category from the shared data (splits cached by the caller)."""
    splits = splits if splits is not None else {}

    def parts(name: str) -> dict[str, Part]:
        if name not in splits:
            splits[name] = split_source(name, data_dir)
        return splits[name]

    data = TrainData(Part(), Part(), {}, list(CATEGORY_SOURCES[category]))
    for name in CATEGORY_SOURCES[category]:
        p = parts(name)
        data.train.texts += p["train"].texts
        data.train.labels += p["train"].labels
        data.val.texts += p["val"].texts
        data.val.labels += p["val"].labels
        data.tests[name] = p["test"]
    for text in IDIOM_NEGATIVES.get(category, ()):
        for _ in range(IDIOM_REPEAT):
            data.train.add(text, 0)
    rng = random.Random(f"{SEED}:borrow:{category}")
    for name, label, n in BORROWED_NEGATIVES[category]:
        pool = [t for t, y in zip(parts(name)["train"].texts, parts(name)["train"].labels) if y == label]
        rng.shuffle(pool)
        for t in pool[:n]:
            data.train.add(t[:300], 0)
    return data


def gather_csv(path: Path) -> TrainData:
    """Any text,label CSV: a seeded 85/15 train/validation split (no test part)."""
    whole = read_labelled_csv(path)
    idx = list(range(len(whole)))
    random.Random(f"{SEED}:csv").shuffle(idx)
    n_val = max(1, int(0.15 * len(idx)))
    data = TrainData(Part(), Part(), {}, [str(path)])
    for k, i in enumerate(idx):
        (data.val if k < n_val else data.train).add(whole.texts[i], whole.labels[i])
    return data


def _fit(texts: list[str], labels: list[int], vocabulary=None):
    vec = TfidfVectorizer(analyzer=analyze, binary=True, norm="l2", min_df=1 if vocabulary else MIN_DF,
                          vocabulary=vocabulary, dtype=np.float32)
    X = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    clf.fit(X, labels)
    return vec, clf


def fit_category(category: str, data: TrainData, *, progress=None, data_note: dict | None = None) -> CategoryModel:
    step = progress.update if progress is not None else (lambda n=1: None)
    if len(set(data.train.labels)) < 2:
        raise ValueError(f"{category}: the training data needs both labels 0 and 1")
    ntrain = [normalize_text(t) for t in data.train.texts]
    nval = [normalize_text(t) for t in data.val.texts]
    step()
    vec, clf = _fit(ntrain, data.train.labels)
    step()
    vocab = vec.get_feature_names_out()
    if len(vocab) > MAX_FEATURES:
        keep = np.argsort(-np.abs(clf.coef_[0]))[:MAX_FEATURES]
        vec, clf = _fit(ntrain, data.train.labels, vocabulary=sorted(vocab[keep].tolist()))
    vocab = vec.get_feature_names_out().tolist()
    step()
    # Platt scaling on the validation part: p = sigmoid(a * d + b)
    dval = clf.decision_function(vec.transform(nval)) if nval else np.zeros(0)
    if len(set(data.val.labels)) == 2:
        platt = LogisticRegression(C=1e4, max_iter=1000).fit(dval.reshape(-1, 1), data.val.labels)
        a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    else:
        a, b = 1.0, 0.0
    pval = 1.0 / (1.0 + np.exp(-(a * dval + b)))
    target = PRECISION_TARGET.get(category, 0.8)
    thr, vprec, vrec = threshold_for_precision(data.val.labels, pval, target) if len(pval) else (0.5, 0.0, 0.0)
    step()
    model = CategoryModel(
        category=category, vocab=vocab, idf=vec.idf_.astype(np.float32),
        coef=clf.coef_[0].astype(np.float32), intercept=float(clf.intercept_[0]),
        calibration={"method": "platt", "a": a, "b": b, "fitted_on": "validation part"},
        threshold=round(thr, 4),
        meta={"date": MODEL_DATE, "sources": data.sources,
              "threshold_choice": {"precision_target": target, "val_precision": round(vprec, 4),
                                   "val_recall": round(vrec, 4)},
              "training": {"n_train": len(ntrain), "n_val": len(nval), "C": C, "min_df": MIN_DF,
                           "max_features": MAX_FEATURES, "char_ngrams": [3, 5], "word_ngrams": [1, 2]},
              **(data_note or {})})
    metrics = {}
    for name, part in data.tests.items():
        if not len(part):
            continue
        d = clf.decision_function(vec.transform([normalize_text(t) for t in part.texts]))
        p = 1.0 / (1.0 + np.exp(-(a * d + b)))
        metrics[name] = binary_metrics(part.labels, p, model.threshold)
    model.meta["test_metrics"] = metrics
    step()
    return model


STEPS_PER_CATEGORY = 5


def label_definitions(category: str) -> dict:
    return {name: SOURCES[name].label for name in CATEGORY_SOURCES.get(category, ())}
