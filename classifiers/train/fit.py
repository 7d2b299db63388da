"""Fit, calibrate and threshold one category's text model (classifiers/models/README.md).

Per category: normalize -> TfidfVectorizer(our analyzer, binary, l2, min_df) on the train part ->
LogisticRegression (balanced classes; bullying also sees dense LSA components, threat adds a
violent-vs-punitive side model and a word-only model, all folded back into the one coefficient
vector) -> keep the MAX_FEATURES strongest n-grams and refit (small shipped files, fast
scoring) -> Platt calibration on the validation part -> the threshold that reaches the
category's target precision on the validation part -> metrics on each test part.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from classifiers.datasets import (CATEGORY_SOURCES, SEED, SOURCES, Part, read_labelled_csv,
                                  aux_label, split_source, train_weight)
from classifiers.ngrams import WORD_N, analyzer, is_word_feature
from classifiers.normalize import normalize_text
from classifiers.textmodels import CategoryModel
from classifiers.train.idioms import IDIOM_REPEAT, SELF_HARM_NEGATIVES, THREAT_NEGATIVES
from classifiers.train.metrics import binary_metrics, threshold_for_precision

MODEL_DATE = "2026-11-28"
MAX_FEATURES = 60_000
# Threat keeps every n-gram seen twice (about 84,000 with its word trigrams): pruning to 60,000
# cost 0.0005 validation ROC-AUC (EXPERIMENTS.md, fourth round). Its file is still under 1 MB.
MAX_FEATURES_BY_CATEGORY = {"threat": 100_000}
MIN_DF = 3
C = 4.0
# Per category (measured on the validation/test parts, EXPERIMENTS.md): bullying prefers stronger
# regularisation once Formspring's weak positives are in; threat keeps rarer n-grams.
C_BY_CATEGORY = {"bullying": 1.0, "threat": 8.0, "self_harm": 4.0}
MIN_DF_BY_CATEGORY = {"bullying": 3, "threat": 2, "self_harm": 3}
# Bullying pools three sources that disagree (political Twitter, news comments, teen Q&A); Kaggle's
# insults are the easiest to learn and dominated the pooled fit. Doubling OLID and Formspring rows
# (measured: OLID 0.783 -> 0.798, Formspring 0.766 -> 0.770, Kaggle 0.891 -> 0.876) evens it out.
SOURCE_WEIGHT = {"olid": 2.0, "formspring": 2.0}
# Threat: ThreatGram's hard negatives are "punitive" replies (jail, impeach) that share the violent
# ones' targets and words. A side model fitted only on hostile replies (violent 1 vs punitive 0)
# is added to the main decision; both are linear in the same features, so one model ships.
AUX_CATEGORIES = ("threat",)
AUX_WEIGHT = 0.5
AUX_C = 2.0
# Longest word gram per category (ngrams.analyze); others use WORD_N (2). Threat phrases
# ("put a bullet", "hang them all") gained 0.001 validation ROC-AUC from word trigrams.
WORD_N_BY_CATEGORY = {"threat": 3}
# Categories whose single-word features are of squeezed words too (ngrams; phrases always
# are): threat, whose word model would otherwise be evaded by stretched letters. Bullying lost
# 0.003 validation ROC-AUC on OLID with squeezed single words, so it keeps plain ones, as does
# self-harm.
SQUEEZED_WORDS = ("threat",)
# Threat: a word-only model (the word-gram columns of the same TF-IDF rows, so still linear in the
# shipped features), with its own violent-vs-punitive side model, added with the given weight.
# The character grams generalize across spellings; the word model weighs whole phrases, which
# the character-gram model dilutes. Word grams are of squeezed words, so stretched letters do not
# evade it (the third round's unsqueezed version failed the obfuscation check). (C, weight) chosen
# on the validation part, EXPERIMENTS.md fourth round.
WORD_MODEL_BY_CATEGORY = {"threat": (32.0, 1.0)}
# Dense generalizing features (LSA): a TruncatedSVD of the TF-IDF matrix, fitted without labels on
# the train parts of every category, is appended to the sparse n-grams (scaled by SVD_SCALE so the
# shared L2 penalty leaves the dense part room). The n-grams of a word seen only in unseen
# profiles still load on the components its co-occurring words taught. Because the components are
# linear in the same TF-IDF vector, coef_sparse + SVD_SCALE * components.T @ coef_dense ships as
# one coefficient vector: no format change and no scoring cost. Chosen on the validation parts
# (EXPERIMENTS.md); threat got worse with it (val 0.940 -> 0.937), so only bullying uses it.
SVD_BY_CATEGORY = {"bullying": 300}
SVD_SCALE = 5.0
SVD_SOURCES = ("olid", "kaggle_insults", "formspring", "threatgram", "suicidal_tweets")
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
    weights: list[float] = field(default_factory=list)   # per train row; empty = all 1
    # per train row: the label of the auxiliary "which kind of hostile" model (None = not used)
    aux: list[int | None] = field(default_factory=list)
    # unlabelled texts (normalized or not) the LSA components are fitted on, besides `train`
    unlabelled: list[str] = field(default_factory=list)


@dataclass
class Linear:
    """A fitted linear decision d(x) = coef . x + intercept over one TF-IDF vectorizer."""
    coef: np.ndarray
    intercept: float

    def decision(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef).ravel() + self.intercept


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
        for text, row in zip(p["train"].texts, p["train"].rows):
            label, weight = train_weight(name, row)
            data.train.add(text, label)
            data.weights.append(weight * SOURCE_WEIGHT.get(name, 1.0))
            data.aux.append(aux_label(name, row))
        data.val.texts += p["val"].texts
        data.val.labels += p["val"].labels
        data.tests[name] = p["test"]
    for text in IDIOM_NEGATIVES.get(category, ()):
        for _ in range(IDIOM_REPEAT):
            data.train.add(text, 0)
            data.weights.append(1.0)
            data.aux.append(None)
    rng = random.Random(f"{SEED}:borrow:{category}")
    for name, label, n in BORROWED_NEGATIVES[category]:
        pool = [t for t, y in zip(parts(name)["train"].texts, parts(name)["train"].labels) if y == label]
        rng.shuffle(pool)
        for t in pool[:n]:
            data.train.add(t[:300], 0)
            data.weights.append(1.0)
            data.aux.append(None)
    if category in SVD_BY_CATEGORY:
        # labels unused: the other categories' train parts only widen the co-occurrence statistics
        for name in SVD_SOURCES:
            if name not in CATEGORY_SOURCES[category]:
                data.unlabelled += [t[:300] for t in parts(name)["train"].texts]
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


def _fit(texts: list[str], labels: list[int], weights=None, vocabulary=None, *, c: float = C,
         min_df: int = MIN_DF, aux: list[int | None] | None = None, svd_k: int = 0,
         unlabelled: list[str] = (), word_n: int = WORD_N, word_model: tuple[float, float] | None = None,
         squeezed: bool = False):
    """Vectorizer and the linear decision. With `aux`, a second model separating the auxiliary
    classes (threat: violent vs punitive replies) is fitted on the same features and added with
    weight AUX_WEIGHT: both are linear over one vectorizer, so their sum ships as one model.
    With `svd_k`, LSA components (fitted on `texts` + `unlabelled`) are appended as dense
    features and folded back into the coefficient vector (SVD_BY_CATEGORY above). With
    `word_model` (C, weight), a model over the word-gram columns only (plus its own side model) is
    added with that weight (WORD_MODEL_BY_CATEGORY above)."""
    vec = TfidfVectorizer(analyzer=analyzer(word_n, squeezed), binary=True, norm="l2",
                          min_df=1 if vocabulary else min_df, vocabulary=vocabulary, dtype=np.float32)
    X = vec.fit_transform(texts)
    comps = None
    Xfit = X
    if svd_k:
        pool = sp.vstack([X, vec.transform(unlabelled)]).tocsr() if len(unlabelled) else X
        comps = TruncatedSVD(svd_k, random_state=SEED % 2**31).fit(pool).components_.astype(np.float64)
        Xfit = sp.hstack([X, sp.csr_matrix(SVD_SCALE * (X @ comps.T))]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(Xfit, labels, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    n = X.shape[1]
    coef, intercept = clf.coef_[0][:n].astype(np.float64), float(clf.intercept_[0])
    if comps is not None:
        coef = coef + SVD_SCALE * (comps.T @ clf.coef_[0][n:])
    coef, intercept = _add_aux(X, aux, coef, intercept)
    if word_model is not None:
        coef, intercept = _add_word_model(X, vec.get_feature_names_out(), labels, weights, aux,
                                          coef, intercept, *word_model)
    return vec, Linear(coef, intercept)


def _add_word_model(X, names, labels, weights, aux, coef, intercept, c: float, weight: float):
    """Add `weight` x a logistic regression over the word-gram columns of X (same rows, same L2
    normalization as the full vector: its decision is linear in the shipped features, zero on the
    character grams)."""
    cols = np.flatnonzero(np.fromiter(map(is_word_feature, names), dtype=bool, count=len(names)))
    if not len(cols):
        return coef, intercept
    Xw = X[:, cols]
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(Xw, labels, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    wcoef, wint = _add_aux(Xw, aux, clf.coef_[0].astype(np.float64), float(clf.intercept_[0]))
    coef = coef.copy()
    coef[cols] += weight * wcoef
    return coef, intercept + weight * wint


def _add_aux(X, aux, coef, intercept):
    """Add the side model (violent vs punitive among the rows with an `aux` label), if any."""
    if aux is not None:
        rows = np.array([i for i, a in enumerate(aux) if a is not None], dtype=np.int64)
        ya = np.array([aux[i] for i in rows], dtype=int)
        if len(rows) and len(set(ya.tolist())) == 2:
            side = LogisticRegression(C=AUX_C, max_iter=3000, class_weight="balanced").fit(X[rows], ya)
            coef = coef + AUX_WEIGHT * side.coef_[0]
            intercept += AUX_WEIGHT * float(side.intercept_[0])
    return coef, intercept


def fit_category(category: str, data: TrainData, *, progress=None, data_note: dict | None = None) -> CategoryModel:
    step = progress.update if progress is not None else (lambda n=1: None)
    if len(set(data.train.labels)) < 2:
        raise ValueError(f"{category}: the training data needs both labels 0 and 1")
    ntrain = [normalize_text(t) for t in data.train.texts]
    nval = [normalize_text(t) for t in data.val.texts]
    step()
    c, min_df = C_BY_CATEGORY.get(category, C), MIN_DF_BY_CATEGORY.get(category, MIN_DF)
    weights = data.weights if len(data.weights) == len(ntrain) else None
    aux = data.aux if category in AUX_CATEGORIES and len(data.aux) == len(ntrain) else None
    svd_k = SVD_BY_CATEGORY.get(category, 0) if data.sources and data.sources[0] in SOURCES else 0
    unlabelled = [normalize_text(t) for t in data.unlabelled] if svd_k else []
    word_n = WORD_N_BY_CATEGORY.get(category, WORD_N)
    word_model = WORD_MODEL_BY_CATEGORY.get(category)
    squeezed = category in SQUEEZED_WORDS
    max_features = MAX_FEATURES_BY_CATEGORY.get(category, MAX_FEATURES)
    vec, clf = _fit(ntrain, data.train.labels, weights, c=c, min_df=min_df, aux=aux, svd_k=svd_k,
                    unlabelled=unlabelled, word_n=word_n, word_model=word_model,
                    squeezed=squeezed)
    step()
    vocab = vec.get_feature_names_out()
    if len(vocab) > max_features:
        keep = np.argsort(-np.abs(clf.coef))[:max_features]
        vec, clf = _fit(ntrain, data.train.labels, weights, vocabulary=sorted(vocab[keep].tolist()), c=c, aux=aux,
                        svd_k=svd_k, unlabelled=unlabelled, word_n=word_n, word_model=word_model,
                        squeezed=squeezed)
    vocab = vec.get_feature_names_out().tolist()
    step()
    # Platt scaling on the validation part: p = sigmoid(a * d + b)
    dval = clf.decision(vec.transform(nval)) if nval else np.zeros(0)
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
        coef=clf.coef.astype(np.float32), intercept=float(clf.intercept),
        calibration={"method": "platt", "a": a, "b": b, "fitted_on": "validation part"},
        threshold=round(thr, 4),
        meta={"date": MODEL_DATE, "sources": data.sources,
              "threshold_choice": {"precision_target": target, "val_precision": round(vprec, 4),
                                   "val_recall": round(vrec, 4)},
              "training": {"n_train": len(ntrain), "n_val": len(nval), "C": c, "min_df": min_df,
                           "sample_weights": ("formspring n_yes (0:1, 1:0.5 as weak positive, 2:1, 3:1.5) x source weight "
                                              + json.dumps(SOURCE_WEIGHT)) if weights is not None and category == "bullying" else None,
                           "aux_model": (f"+ {AUX_WEIGHT} x (violent vs punitive among hostile ThreatGram replies)"
                                         if aux is not None else None),
                           "lsa": ({"components": svd_k, "scale": SVD_SCALE, "fitted_on": "train parts of "
                                    + ", ".join(SVD_SOURCES) + " (no labels)",
                                    "folded": "coef = sparse coef + scale * components.T @ dense coef"}
                                   if svd_k else None),
                           "word_model": ({"C": word_model[0], "weight": word_model[1],
                                           "what": "word grams only, with its own violent-vs-punitive side model"}
                                          if word_model else None),
                           "max_features": max_features, "char_ngrams": [3, 5], "word_ngrams": [1, word_n],
                           "word_grams_of": ("squeezed words" if squeezed
                                             else "words (single), squeezed words (phrases)")},
              **(data_note or {})})
    metrics = {}
    for name, part in data.tests.items():
        if not len(part):
            continue
        d = clf.decision(vec.transform([normalize_text(t) for t in part.texts]))
        p = 1.0 / (1.0 + np.exp(-(a * d + b)))
        metrics[name] = binary_metrics(part.labels, p, model.threshold)
    model.meta["test_metrics"] = metrics
    step()
    return model


STEPS_PER_CATEGORY = 5


def label_definitions(category: str) -> dict:
    return {name: SOURCES[name].label for name in CATEGORY_SOURCES.get(category, ())}


# Counselors' decisions (`train --extra`, exported by `crossingguard export-labels`) are few and
# come from the district's own students: each row counts as much as two public-data rows.
EXTRA_WEIGHT = 2.0


def add_extra(data: TrainData, extra: Part | None) -> TrainData:
    """Append `extra`'s rows to the training part (weight EXTRA_WEIGHT, no side-model label)."""
    if extra is None or not len(extra):
        return data
    if len(data.weights) != len(data.train):
        data.weights = [1.0] * len(data.train)
    if len(data.aux) != len(data.train):
        data.aux = [None] * len(data.train)
    for t, y in zip(extra.texts, extra.labels):
        data.train.add(t, y)
        data.weights.append(EXTRA_WEIGHT)
        data.aux.append(None)
    data.meta_extra = len(extra)   # recorded in the model's training notes
    return data
