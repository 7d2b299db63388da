"""Bullying, threat and self-harm scores: shipped linear models plus first-person intent patterns.

Model files (written by classifiers/train/, documented in classifiers/models/README.md), one pair
per category, loaded without pickle (no code runs from a model file):
  <category>.npz   vocab (UTF-8 feature strings joined by "\n", as uint8), idf, coef (float32)
  <category>.json  intercept, Platt calibration, threshold and how it was chosen, metrics, data

Scoring reproduces scikit-learn's TfidfVectorizer(binary=True, norm="l2") + LogisticRegression
decision exactly, but with our own vocabulary lookup: the three categories' vocabularies are
merged at load time so each post is featurized once, a token's features are cached (words
repeat), and batches of 8 or more go through one sparse matrix product. The feature lookup and
product then cost about 30 microseconds per post; normalization and the patterns cost more.
"""
from __future__ import annotations

import functools
import itertools
import json
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from classifiers.models_features import TOKEN_RE, WORD_PREFIX, char_grams
from classifiers.normalize import Normalized, normalize
from classifiers.patterns import PatternHit, find_intent, pattern_scores, scores_from_hits
from classifiers.types import Evidence

TEXT_CATEGORIES = ("bullying", "threat", "self_harm")
FORMAT = "crossingguard-textmodel/1"
MAX_CHARS = 5000          # longer posts are scored on their first 5000 characters (bounded cost)
_CACHE_MAX = 200_000
_CSR_MIN_BATCH = 8        # from this many posts a sparse matrix product beats per-post numpy
_BIGRAM = WORD_PREFIX + "{} {}"
_NOT_NONE = functools.partial(operator.is_not, None)
MIN_EVIDENCE_SHARE = 0.1  # a word shown as evidence carries at least 10% of the positive push


def default_model_dir() -> Path:
    return Path(__file__).resolve().parent / "models"


class ModelFileError(Exception):
    """A model file is missing, malformed or of another format version."""


@dataclass
class CategoryModel:
    """One category as stored on disk."""
    category: str
    vocab: list[str]
    idf: np.ndarray               # float32 (n,)
    coef: np.ndarray              # float32 (n,)
    intercept: float
    calibration: dict             # {"method": "platt", "a": float, "b": float}: p = 1/(1+exp(-(a*d+b)))
    threshold: float
    meta: dict = field(default_factory=dict)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        blob = np.frombuffer("\n".join(self.vocab).encode("utf-8"), dtype=np.uint8)
        np.savez_compressed(directory / f"{self.category}.npz", vocab=blob,
                            idf=self.idf.astype(np.float32), coef=self.coef.astype(np.float32))
        doc = {"format": FORMAT, "category": self.category, "n_features": len(self.vocab),
               "intercept": self.intercept, "calibration": self.calibration,
               "threshold": self.threshold, **self.meta}
        (directory / f"{self.category}.json").write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")

    @classmethod
    def load(cls, directory: Path, category: str) -> "CategoryModel":
        jpath, npath = directory / f"{category}.json", directory / f"{category}.npz"
        try:
            doc = json.loads(jpath.read_text())
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{jpath}: {exc}") from exc
        if doc.get("format") != FORMAT:
            raise ModelFileError(f"{jpath}: format: expected {FORMAT}, got {doc.get('format')!r}")
        try:
            with np.load(npath, allow_pickle=False) as z:   # arrays only: nothing executes
                vocab = bytes(z["vocab"]).decode("utf-8").split("\n")
                idf, coef = z["idf"].astype(np.float32), z["coef"].astype(np.float32)
        except (OSError, KeyError, ValueError) as exc:
            raise ModelFileError(f"{npath}: {exc}") from exc
        if not (len(vocab) == len(idf) == len(coef) == doc.get("n_features")):
            raise ModelFileError(f"{npath}: vocab/idf/coef lengths disagree with n_features")
        meta = {k: v for k, v in doc.items()
                if k not in ("format", "category", "n_features", "intercept", "calibration", "threshold")}
        return cls(category, vocab, idf, coef, float(doc["intercept"]), doc["calibration"],
                   float(doc["threshold"]), meta)

    def calibrate(self, decision: np.ndarray) -> np.ndarray:
        a, b = self.calibration["a"], self.calibration["b"]
        return 1.0 / (1.0 + np.exp(-(a * decision + b)))


class TextModels:
    def __init__(self, models: dict[str, CategoryModel]):
        if not models:
            raise ModelFileError("no text models loaded")
        # Only what scoring needs is kept: the merged index and weight matrices, the calibrations
        # and the metadata. The per-category vocabularies are dropped once merged (about 10 MB).
        self.calibration = {c: dict(m.calibration) for c, m in models.items()}
        self.meta = {c: dict(m.meta) for c, m in models.items()}
        self.categories = tuple(c for c in TEXT_CATEGORIES if c in models)
        index: dict[str, int] = {}
        for m in models.values():
            for term in m.vocab:
                index.setdefault(term, len(index))
        k = len(self.categories)
        # W[j, c] = idf_c(j) * coef_c(j); I2[j, c] = idf_c(j)^2 (0 where j is not in c's vocabulary)
        self.W = np.zeros((len(index), k), dtype=np.float32)
        self.I2 = np.zeros((len(index), k), dtype=np.float32)
        for c, cat in enumerate(self.categories):
            m = models[cat]
            rows = np.fromiter((index[t] for t in m.vocab), dtype=np.int64, count=len(m.vocab))
            self.W[rows, c] = m.idf * m.coef
            self.I2[rows, c] = m.idf * m.idf
        self.index = index
        self.intercepts = np.array([models[c].intercept for c in self.categories], dtype=np.float64)
        self.thresholds: dict[str, float] = {c: models[c].threshold for c in self.categories}
        self._token_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def load(cls, directory: Path | str | None = None) -> "TextModels":
        directory = Path(directory) if directory else default_model_dir()
        models = {c: CategoryModel.load(directory, c) for c in TEXT_CATEGORIES
                  if (directory / f"{c}.json").exists()}
        if not models:
            raise ModelFileError(f"{directory}: no model files (<category>.json + .npz); run `crossingguard train`")
        return cls(models)

    def _calibrate(self, category: str, decision: np.ndarray) -> np.ndarray:
        cal = self.calibration[category]     # Platt: p = sigmoid(a * d + b)
        return 1.0 / (1.0 + np.exp(-(cal["a"] * decision + cal["b"])))

    # --- featurization -------------------------------------------------------------------------
    def _token_features(self, tok: str) -> tuple[int, ...]:
        hit = self._token_cache.get(tok)
        if hit is None:
            get = self.index.get
            feats = [get(WORD_PREFIX + tok)]
            feats.extend(get(g) for g in char_grams(tok))
            hit = tuple(f for f in feats if f is not None)
            if len(self._token_cache) >= _CACHE_MAX:
                self._token_cache.clear()     # bounded: a flood of novel tokens cannot grow memory
            self._token_cache[tok] = hit
        return hit

    def _raw_features(self, normalized: str) -> list[int]:
        """Feature indices of a text, possibly repeated (a char gram shared by two words). The
        loops over tokens and bigrams run in C (map over the token cache, str.format, dict.get)."""
        toks = TOKEN_RE.findall(normalized)
        hits = list(map(self._token_cache.get, toks))
        if None in hits:
            hits = [h if h is not None else self._token_features(t) for t, h in zip(toks, hits)]
        feats = list(itertools.chain.from_iterable(hits))
        if len(toks) > 1:
            feats.extend(filter(_NOT_NONE, map(self.index.get, map(_BIGRAM.format, toks, toks[1:]))))
        return feats

    def _features(self, normalized: str) -> np.ndarray:
        """Unique feature indices (the model is binary: a feature counts once)."""
        feats = set(self._raw_features(normalized))
        return np.fromiter(feats, dtype=np.int64, count=len(feats))

    def decision(self, normalized_texts: list[str]) -> np.ndarray:
        """(n, k) linear decision values, as LogisticRegression.decision_function would give."""
        n = len(normalized_texts)
        out = np.tile(self.intercepts, (n, 1))
        if n == 0:
            return out
        if n >= _CSR_MIN_BATCH:
            # batches: one sparse matrix, duplicates folded by scipy in C, one product per array
            rows = [self._raw_features(t[:MAX_CHARS]) for t in normalized_texts]
            lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=n)
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=indptr[1:])
            indices = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=int(indptr[-1]))
            X = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                              shape=(n, self.W.shape[0]))
            X.sum_duplicates()
            X.data[:] = 1.0
            sums = X @ self.W
            norms = np.sqrt(X @ self.I2)
            norms[norms == 0] = 1.0
            return out + sums / norms
        feats = [self._features(t[:MAX_CHARS]) for t in normalized_texts]
        lengths = np.fromiter((len(f) for f in feats), dtype=np.int64, count=n)
        nz = lengths > 0
        if not nz.any():
            return out
        allf = np.concatenate([f for f in feats if len(f)])
        starts = np.concatenate(([0], np.cumsum(lengths[nz])[:-1]))
        sums = np.add.reduceat(self.W[allf], starts, axis=0)
        norms = np.sqrt(np.add.reduceat(self.I2[allf], starts, axis=0))
        norms[norms == 0] = 1.0
        out[nz] += sums / norms
        return out

    # --- public API ----------------------------------------------------------------------------
    def model_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Calibrated model probabilities only (no patterns): training/evaluation use this."""
        d = self.decision([normalize(t[:MAX_CHARS], offsets=False).text for t in texts])
        return {c: self._calibrate(c, d[:, i]) for i, c in enumerate(self.categories)}

    def score(self, norms: list[Normalized]) -> tuple[dict[str, np.ndarray], list[list[PatternHit]]]:
        """Combined probabilities (model with intent patterns: max(model * damp, pattern)) and
        each post's pattern hits (for evidence)."""
        d = self.decision([n.text for n in norms])
        out = {c: self._calibrate(c, d[:, i]) for i, c in enumerate(self.categories)}
        all_hits: list[list[PatternHit]] = []
        for r, n in enumerate(norms):
            found = find_intent(n.text[:MAX_CHARS])   # most posts: one trigger search, no hits
            if not found:
                all_hits.append(found)
                continue
            hits: list[PatternHit] = []
            for cat, (score, damp, h) in scores_from_hits(found).items():
                hits.extend(h)
                if cat in out and h:
                    out[cat][r] = max(out[cat][r] * damp, score)
            all_hits.append(hits)
        return out, all_hits

    def predict_proba(self, texts: list[str], normalized: list[Normalized] | None = None) -> dict[str, np.ndarray]:
        """Model probability combined with the intent patterns: max(model * damp, pattern)."""
        return self.score(normalized or [normalize(t[:MAX_CHARS], offsets=False) for t in texts])[0]

    def evidence(self, text: str, category: str, *, normalized: Normalized | None = None,
                 hits: list[PatternHit] | None = None, limit: int = 3) -> list[Evidence]:
        """The intent phrases and the words whose n-grams pushed `category` up most, as spans of
        the original text. `hits`: this post's pattern hits when the caller already has them."""
        if category not in self.categories:
            return []
        norm = normalized or normalize(text)
        ntext = norm.text[:MAX_CHARS]
        if hits is None:
            hits = pattern_scores(ntext).get(category, (0.0, 1.0, []))[2]
        ev: list[Evidence] = []
        spans: list[tuple[int, int]] = []
        for hit in sorted((h for h in hits if h.category == category), key=lambda h: h.start - h.end):
            if hit.score <= 0 or any(a <= hit.start and hit.end <= b for a, b in spans):
                continue                                               # inside a phrase already shown
            spans.append((hit.start, hit.end))
            s, e = norm.span(hit.start, hit.end)
            ev.append(Evidence(category, "pattern", text[s:e], s, e, round(hit.score, 3)))
        # Each feature is credited to the first word that has it (a word's char grams, its
        # unigram, and the bigram it starts), exactly once, as the binary model counts it.
        matches = list(TOKEN_RE.finditer(ntext))
        if not matches:
            return ev
        c = self.categories.index(category)
        get = self.index.get
        feats: list[int] = []
        owner: list[int] = []
        for i, m in enumerate(matches):
            tok = m.group(0)
            f = self._token_features(tok)
            feats.extend(f)
            owner.extend([i] * len(f))
            if i + 1 < len(matches):
                j = get(f"{WORD_PREFIX}{tok} {matches[i + 1].group(0)}")
                if j is not None:
                    feats.append(j)
                    owner.append(i)
        if not feats:
            return ev
        fa = np.array(feats, dtype=np.int64)
        uniq, first = np.unique(fa, return_index=True)
        norm_c = math.sqrt(float(self.I2[uniq, c].sum())) or 1.0
        per_word = np.bincount(np.array(owner, dtype=np.int64)[first], weights=self.W[uniq, c],
                               minlength=len(matches)) / norm_c
        total = float(per_word[per_word > 0].sum()) or 1.0
        for i in np.argsort(-per_word, kind="stable")[:limit]:
            score = float(per_word[i])
            if score <= 0 or score < MIN_EVIDENCE_SHARE * total:
                break
            s, e = norm.span(*matches[i].span())
            ev.append(Evidence(category, "model", text[s:e], s, e, round(score / total, 3)))
        return ev

    def memory_bytes(self) -> int:
        arrays = self.W.nbytes + self.I2.nbytes
        # dict of str -> int: ~ (key object + int + slot) per entry
        return arrays + sum(len(k) + 49 + 28 + 16 for k in self.index)
