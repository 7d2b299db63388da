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
import logging
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from classifiers.ngrams import (CACHE_TOKEN_MAX, SQUEEZED_PREFIX, TOKEN_RE, WORD_PREFIX, WORD_PREFIXES,
                                         char_grams, squeeze)
from classifiers.normalize import Normalized, normalize
from classifiers.patterns import (TONE_DAMP, PatternHit, find_intent, find_intent_batch, pattern_scores, scores_from_hits,
                                  tone)
from classifiers.types import Evidence

TEXT_CATEGORIES = ("bullying", "threat", "self_harm")
FORMAT = "crossingguard-textmodel/1"
MAX_CHARS = 5000          # longer posts are scored on their first 5000 characters (bounded cost)
_CACHE_MAX = 200_000
_CSR_MIN_BATCH = 8        # from this many posts a sparse matrix product beats per-post numpy
_PHRASE_FORMAT = {(p, n): p + " ".join(["{}"] * n) for p in WORD_PREFIXES for n in (2, 3)}
_NOT_NONE = functools.partial(operator.is_not, None)
MIN_EVIDENCE_SHARE = 0.1  # a word shown as evidence carries at least 10% of the positive push
_EVIDENCE_CHUNK = 256     # posts per word-evidence pass (each is independent of the others)

log = logging.getLogger(__name__)


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
        # W[j, c] = idf_c(j) * coef_c(j); I2[j, c] = idf_c(j)^2 (0 where j is not in c's vocabulary).
        # Both live side by side in one array, WI = [W | I2]: a post's features are scattered
        # over its rows, and one gather of 2k floats per feature touches half the cache lines of
        # two separate gathers (the batch decision is bound by those reads: ~10 us a post less).
        # float64, not the files' float32: a batch (sparse product) and a lone post (gathered
        # sums) add a post's weights in different orders, and in float32 that difference showed
        # in the 4th decimal of a rounded score ("0.1673" in a batch, "0.1672" alone), so a score
        # at a threshold could be labelled by what else was in its batch. In float64 the two
        # orders agree far below the rounding (training's scikit-learn decision is float64 too).
        self.WI = np.zeros((len(index), 2 * k), dtype=np.float64)
        self.W = self.WI[:, :k]
        self.I2 = self.WI[:, k:]
        # each category's vocabulary as rows of the merged index, and its idf: the student
        # columns (attach) are linear models over the same features
        self._vocab_rows: dict[str, np.ndarray] = {}
        self._idf: dict[str, np.ndarray] = {}
        for c, cat in enumerate(self.categories):
            m = models[cat]
            rows = np.fromiter((index[t] for t in m.vocab), dtype=np.int64, count=len(m.vocab))
            self.W[rows, c] = m.idf * m.coef
            self.I2[rows, c] = m.idf * m.idf
            self._vocab_rows[cat], self._idf[cat] = rows, m.idf
        self.index = index
        self.intercepts = np.array([models[c].intercept for c in self.categories], dtype=np.float64)
        self._main = (self.WI, self.intercepts)
        self.student_categories: tuple[str, ...] = ()
        self.thresholds: dict[str, float] = {c: models[c].threshold for c in self.categories}
        self.tfidf_thresholds = dict(self.thresholds)
        self.heads = None          # classifiers.heads.Heads when the encoder ensemble is in use
        self.encoder = None
        self.encoder_error: str | None = None
        self._token_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def load(cls, directory: Path | str | None = None, *, encoder: bool = True) -> "TextModels":
        """The TF-IDF models of `directory`, plus (with `encoder`) the encoder heads and their
        ensemble when heads.json is there and the encoder loads. If the encoder cannot be used
        (package missing, wrong checksum), the TF-IDF models score alone with their own
        thresholds: one log line (classifiers.encoder.load_encoder), `encoder_error` says why,
        and the caller counts it (proxy side, crossingguard_classifier_encoder_fallback_total)."""
        directory = Path(directory) if directory else default_model_dir()
        models = {c: CategoryModel.load(directory, c) for c in TEXT_CATEGORIES
                  if (directory / f"{c}.json").exists()}
        if not models:
            raise ModelFileError(f"{directory}: no model files (<category>.json + .npz); run `crossingguard train`")
        tm = cls(models)
        if encoder and (directory / "heads.json").exists():
            from classifiers.heads import Heads, load_heads_and_encoder
            tm.attach(*load_heads_and_encoder(directory))
        return tm

    def attach(self, heads, encoder, error: str | None = None) -> None:
        """Use `heads` with `encoder` for the categories they cover (None, None: TF-IDF alone)."""
        self.encoder_error = error
        self._set_student(None)
        if heads is None or encoder is None:
            self.heads = self.encoder = None
            self.thresholds = dict(self.tfidf_thresholds)
            return
        self.heads, self.encoder = heads, encoder
        self._set_student(getattr(heads, "student", None))
        self.thresholds = dict(self.tfidf_thresholds)
        self.thresholds.update({c: t for c, t in heads.thresholds.items() if c in self.categories})

    def _set_student(self, student: dict[str, tuple[str, np.ndarray, float]] | None) -> None:
        """Add the student TF-IDF models (round four: linear models on the seed posts over a
        category's own features and idf, coefficients in that vocabulary's order; name ->
        (category, coefficients, intercept)) as extra decision columns after the categories':
        [W | W_student | I2 | I2_student]. A post is featurized once and one product gives all
        columns; the categories' columns are computed exactly as without them. None: the
        categories' columns alone."""
        WI, intercepts = self._main
        names = tuple(n for n, (c, _, _) in (student or {}).items() if c in self.categories)
        if not names:
            self.WI, self.intercepts, self.student_categories = WI, intercepts, ()
        else:
            k, K = len(self.categories), len(self.categories) + len(names)
            both = np.zeros((WI.shape[0], 2 * K), dtype=np.float64)
            both[:, :k], both[:, K:K + k] = WI[:, :k], WI[:, k:]
            extra = []
            for j, name in enumerate(names):
                c, coef, icpt = student[name]
                rows, idf = self._vocab_rows[c], self._idf[c]
                if len(coef) != len(rows):
                    raise ModelFileError(f"student model {name}: {len(coef)} coefficients for {len(rows)} features of {c}")
                both[rows, k + j] = idf * np.asarray(coef, dtype=np.float64)
                both[:, K + k + j] = WI[:, k + self.categories.index(c)]
                extra.append(icpt)
            self.WI, self.student_categories = both, names
            self.intercepts = np.concatenate([intercepts, np.array(extra, dtype=np.float64)])
        K = self.WI.shape[1] // 2
        self.W, self.I2 = self.WI[:, :K], self.WI[:, K:]

    def student_decisions(self, d: np.ndarray) -> dict[str, np.ndarray]:
        """The student columns of a `decision` result, by name (a category, or "gate:<name>")."""
        k = len(self.categories)
        return {c: d[:, k + j] for j, c in enumerate(self.student_categories)}

    def feature_matrix(self, texts: Sequence[str], category: str) -> sp.csr_matrix:
        """The TF-IDF features of `category` as the decision reads them (binary, idf-weighted,
        L2-normalised over the category's vocabulary), one row per text, columns in that
        vocabulary's order: what a student model is trained on."""
        rows, idf = self._vocab_rows[category], self._idf[category].astype(np.float64)
        col_of = np.full(self._main[0].shape[0], -1, dtype=np.int64)
        col_of[rows] = np.arange(len(rows))
        data, indices, indptr = [], [], [0]
        for t in texts:
            cols = col_of[self._features(normalize(t[:MAX_CHARS], offsets=False).text)]
            cols = np.sort(cols[cols >= 0])
            v = idf[cols]
            n = math.sqrt(float((v * v).sum())) or 1.0
            data.append(v / n)
            indices.append(cols)
            indptr.append(indptr[-1] + len(cols))
        return sp.csr_matrix((np.concatenate(data) if data else np.zeros(0), np.concatenate(indices) if indices else
                              np.zeros(0, dtype=np.int64), np.array(indptr)), shape=(len(texts), len(rows)))

    def _calibrate(self, category: str, decision: np.ndarray) -> np.ndarray:
        cal = self.calibration[category]     # Platt: p = sigmoid(a * d + b)
        return 1.0 / (1.0 + np.exp(-(cal["a"] * decision + cal["b"])))

    # --- featurization -------------------------------------------------------------------------
    def _token_features(self, tok: str) -> tuple[int, ...]:
        hit = self._token_cache.get(tok)
        if hit is None:
            get = self.index.get
            # both kinds of word unigram (ngrams): plain, and squeezed (threat)
            feats = [get(WORD_PREFIX + tok), get(SQUEEZED_PREFIX + squeeze(tok))]
            feats.extend(get(g) for g in char_grams(tok))
            hit = tuple(f for f in feats if f is not None)
            # Bounded in count and in token length (CACHE_TOKEN_MAX): a flood of novel or very
            # long crafted tokens cannot grow memory; a long token is rare and computed each time.
            if len(tok) <= CACHE_TOKEN_MAX:
                if len(self._token_cache) >= _CACHE_MAX:
                    self._token_cache.clear()
                self._token_cache[tok] = hit
        return hit

    def _raw_features(self, normalized: str) -> list[int]:
        """Feature indices of a text, possibly repeated (a char gram shared by two words). The
        loops over tokens and word grams run in C (map over the token cache, str.format, dict.get)."""
        toks = TOKEN_RE.findall(normalized)
        hits = list(map(self._token_cache.get, toks))
        if None in hits:
            hits = [h if h is not None else self._token_features(t) for t, h in zip(toks, hits)]
        feats = list(itertools.chain.from_iterable(hits))
        if len(toks) > 1:
            get = self.index.get
            kinds, trigram_next = self._phrases
            for prefix, longest in kinds:
                w = list(map(squeeze, toks)) if prefix == SQUEEZED_PREFIX else toks
                bigrams = list(map(_PHRASE_FORMAT[prefix, 2].format, w, w[1:]))
                feats.extend(filter(_NOT_NONE, map(get, bigrams)))
                if longest >= 3 and len(w) > 2:
                    # Trigrams go through a small table keyed by their first two words (strings
                    # already built and hashed above), so no trigram string is formatted: doing
                    # that and probing the big index cost 15 us a post, this about 7 us (A/B).
                    for nxt, third in zip(map(trigram_next.get, bigrams), w[2:]):
                        if nxt is not None:
                            j = nxt.get(third)
                            if j is not None:
                                feats.append(j)
        return feats

    def _phrase_grams(self, toks: Sequence[str]) -> list[tuple[int, int]]:
        """(position of the first word, feature index) of each word 2- and 3-gram of `toks` in the
        vocabulary: what `_raw_features` adds after the single words, for the evidence."""
        get = self.index.get
        out: list[tuple[int, int]] = []
        for prefix, longest in self._phrase_kinds:
            w = list(map(squeeze, toks)) if prefix == SQUEEZED_PREFIX else list(toks)
            grams = [map(_PHRASE_FORMAT[prefix, 2].format, w, w[1:])]
            if longest >= 3:
                grams.append(map(_PHRASE_FORMAT[prefix, 3].format, w, w[1:], w[2:]))
            for g in grams:
                out += [(i, j) for i, j in enumerate(map(get, g)) if j is not None]
        return out

    @functools.cached_property
    def _phrases(self) -> tuple[tuple[tuple[str, int], ...], dict[str, dict[str, int]]]:
        """(kinds, trigram_next), read from the loaded vocabularies (the one thing scoring must
        agree with, so look-ups no model can match are skipped):
        - kinds: (prefix, longest n) of each kind of word phrase gram, e.g. (("~", 3),), or
          (("#", 2),) for third-round files;
        - trigram_next: every word trigram by its first two words, {"~a b": {"c": index}}
          (7,360 small dicts, 2.8 MB for the shipped files).
        Built on first use: one walk over the vocabulary, about 35 ms."""
        longest: dict[str, int] = {}
        trigrams: dict[str, dict[str, int]] = {}
        for k, j in self.index.items():
            if k[:1] in WORD_PREFIXES and " " in k:
                n = k.count(" ") + 1
                longest[k[0]] = max(longest.get(k[0], 2), n)
                if n == 3:
                    head, third = k.rsplit(" ", 1)
                    trigrams.setdefault(head, {})[third] = j
        return tuple(sorted((p, min(n, 3)) for p, n in longest.items())), trigrams

    @property
    def _phrase_kinds(self) -> tuple[tuple[str, int], ...]:
        return self._phrases[0]

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
            # Batches: one sparse matrix, one product. A feature counts once per post (binary
            # model), so each post's duplicates go first: the features of all posts, keyed by
            # (post, feature), sorted once and deduplicated in numpy. That leaves each row's
            # columns sorted and unique, which is what scipy's sum_duplicates gave (and scipy
            # adds a row's columns in that order), for about 5 us a post less. The keys are
            # 32-bit whenever they fit (any batch under ~18,000 posts): half the sort time.
            rows = [self._raw_features(t[:MAX_CHARS]) for t in normalized_texts]
            lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n)
            n_feat = self.WI.shape[0]
            kind = np.int32 if n * n_feat < 2**31 else np.int64
            keys = np.fromiter(itertools.chain.from_iterable(rows), dtype=kind, count=int(lengths.sum()))
            keys += np.repeat(np.arange(0, n * n_feat, n_feat, dtype=kind), lengths)
            keys.sort()
            first = np.empty(len(keys), dtype=bool)
            first[:1] = True
            np.not_equal(keys[1:], keys[:-1], out=first[1:])
            keys = keys[first]
            row = keys // n_feat
            X = sp.csr_matrix((np.ones(len(keys), dtype=np.float64), keys - row * n_feat,
                               np.searchsorted(row, np.arange(n + 1))), shape=(n, n_feat))
            # one product for both halves of WI: scipy adds each column in the same order as
            # two separate products would, so the values are the same to the bit
            both = X @ self.WI
            k = self.W.shape[1]            # the categories' columns, then any student columns
            sums = both[:, :k]
            norms = np.sqrt(both[:, k:])
            norms[norms == 0] = 1.0
            return out + sums / norms
        feats = [self._features(t[:MAX_CHARS]) for t in normalized_texts]
        if n == 1:
            # one post (the interactive path): the same gathers and sums as for several posts
            # below, without the bookkeeping that lays several posts out in one gather (~8 us)
            if not len(feats[0]):
                return out
            first = np.zeros(1, dtype=np.int64)
            sums = np.add.reduceat(self.W[feats[0]], first, axis=0)
            norms = np.sqrt(np.add.reduceat(self.I2[feats[0]], first, axis=0))
            norms[norms == 0] = 1.0
            return out + sums / norms
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
    def tfidf_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The TF-IDF models' calibrated probabilities alone (the ensemble's first member)."""
        d = self.decision([normalize(t[:MAX_CHARS], offsets=False).text for t in texts])
        return {c: self._calibrate(c, d[:, i]) for i, c in enumerate(self.categories)}

    def model_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Model probabilities without the patterns (the ensemble when the encoder is in use)."""
        norms = [normalize(t[:MAX_CHARS], offsets=False).text for t in texts]
        d = self.decision(norms)
        probs = {c: self._calibrate(c, d[:, i]) for i, c in enumerate(self.categories)}
        if self.heads is not None:
            probs = self.heads.combine(probs, self.encoder.encode(norms), self.student_decisions(d))
        return probs

    def score(self, norms: list[Normalized]) -> tuple[dict[str, np.ndarray], list[list[PatternHit]]]:
        """Combined probabilities (model with intent patterns: max(model * damp, pattern)) and
        each post's pattern hits (for evidence). The encoder reads the normalized text too:
        leetspeak, spaced-out words and look-alike letters are undone before it sees them (on raw
        text its score moved by 0.15-0.40 under leetspeak, bench)."""
        out, hits, _ = self.score_full(norms)
        return out, hits

    def score_full(self, norms: list[Normalized]) -> tuple[dict[str, np.ndarray], list[list[PatternHit]],
                                                             dict[str, tuple[np.ndarray, tuple[str, ...]]]]:
        """`score`, plus the kind gates (classifiers.heads.Gate): name -> (whether each post
        passes it, the categories it suppresses); empty without the encoder or without gates."""
        gates: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
        d = self.decision([n.text for n in norms])
        # all categories in one pass: the same operations on each element as _calibrate, column by
        # column (for one post, a dozen numpy calls fewer); out's arrays are columns of one matrix
        a, b = (np.array([self.calibration[c][k] for c in self.categories]) for k in ("a", "b"))
        probs = 1.0 / (1.0 + np.exp(-(a * d[:, :len(self.categories)] + b)))
        out = {c: probs[:, i] for i, c in enumerate(self.categories)}
        if self.heads is not None:
            enc = self.encoder.encode([n.text[:MAX_CHARS] for n in norms])
            student = self.student_decisions(d)
            out = {c: np.array(v, dtype=np.float64) for c, v in self.heads.combine(out, enc, student).items()}
            gates = {name: (on, self.heads.gates[name].suppresses)
                     for name, on in self.heads.gate_decisions(enc, student).items()}
        all_hits: list[list[PatternHit]] = []
        for r, found in enumerate(_intent_batch([n.text[:MAX_CHARS] for n in norms])):
            _tone_damp(out, r, norms[r].text[:MAX_CHARS], found)
            if not found:                     # most posts: no intent statement at all
                all_hits.append(found)
                continue
            hits: list[PatternHit] = []
            for cat, (score, damp, h) in scores_from_hits(found).items():
                hits.extend(h)
                if cat in out and h:
                    if damp < 1.0:
                        # only negated or quoted statements of the category: the damped model score
                        # stays under the category's threshold ("I would never kill myself" is not
                        # labelled by the model, however sure it is), as it did when every threshold
                        # was above NEGATED_DAMP; the thresholds chosen for recall are lower now
                        damp = min(damp, NEGATED_CEILING * self.thresholds.get(cat, 1.0))
                    out[cat][r] = max(out[cat][r] * damp, score)
            all_hits.append(hits)
        return out, all_hits, gates

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
        if hits is None:
            hits = pattern_scores(norm.text[:MAX_CHARS]).get(category, (0.0, 1.0, []))[2]
        ev = self.pattern_evidence(text, category, norm, hits)
        ev.extend(self.word_evidence_batch([(text, norm, (category,))], limit=limit)[0].get(category, ()))
        return ev

    def pattern_evidence(self, text: str, category: str, norm: Normalized,
                         hits: Sequence[PatternHit]) -> list[Evidence]:
        """The intent phrases of `category` among a post's pattern hits, longest first, a phrase
        inside one already shown left out (the first half of `evidence`)."""
        ev: list[Evidence] = []
        spans: list[tuple[int, int]] = []
        for hit in sorted((h for h in hits if h.category == category), key=lambda h: h.start - h.end):
            if hit.score <= 0 or any(a <= hit.start and hit.end <= b for a, b in spans):
                continue                                               # inside a phrase already shown
            spans.append((hit.start, hit.end))
            s, e = norm.span(hit.start, hit.end)
            ev.append(Evidence(category, "pattern", text[s:e], s, e, round(hit.score, 3)))
        return ev

    def word_evidence_batch(self, requests: Sequence[tuple[str, Normalized, Sequence[str]]],
                            limit: int = 3) -> list[dict[str, list[Evidence]]]:
        """The words that pushed each asked category up most (the second half of `evidence`), for
        many posts at once: requests are (original text, its Normalized, categories).

        Each feature is credited to the first word that has it (a word's char grams, its unigram,
        and the bigram it starts), exactly once, as the binary model counts it. Per post this
        used to cost about a dozen small numpy calls; here the feature lists of all posts go
        through one np.unique and one bincount per category, keyed by (post, feature) so posts
        never share a feature. The sums are the same additions in the same order as one post
        alone (bincount adds in key order; the norm is a sum over the same slice), so
        the weights are bit-for-bit those of the per-post computation."""
        if len(requests) > _EVIDENCE_CHUNK:
            # bounded work arrays (and (post, feature) keys far inside 64 bits)
            return [r for i in range(0, len(requests), _EVIDENCE_CHUNK)
                    for r in self.word_evidence_batch(requests[i:i + _EVIDENCE_CHUNK], limit)]
        asked = [tuple(c for c in cats if c in self.categories) for _, _, cats in requests]
        out: list[dict[str, list[Evidence]]] = [{c: [] for c in cats} for cats in asked]
        if not any(asked):
            return out
        tf = self._token_features
        matches_of: list[list] = []
        word_base: list[int] = []         # global id of each request's first word
        tok_feats: list[int] = []         # every word's unigram and char-gram features, word by word
        tok_lens: list[int] = []          # how many of them each word has
        bi_feats: list[int] = []          # the bigram features, after all the word features
        bi_owner: list[int] = []
        n_words = 0
        for (_, norm, _), cats in zip(requests, asked):
            word_base.append(n_words)
            if not cats:
                matches_of.append([])
                continue
            matches = list(TOKEN_RE.finditer(norm.text[:MAX_CHARS]))
            matches_of.append(matches)
            toks = [m[0] for m in matches]
            per_tok = list(map(tf, toks))
            tok_feats.extend(itertools.chain.from_iterable(per_tok))
            tok_lens.extend(map(len, per_tok))
            # A bigram ("#a b") never equals a word feature ("#a") or a char gram (no "#"), so
            # putting all bigrams after all word features changes no feature's first owner.
            for i, j in self._phrase_grams(toks):     # word 2- and 3-grams (ngrams)
                bi_feats.append(j)
                bi_owner.append(n_words + i)
            n_words += len(matches)
        if not n_words:
            return out
        owner = np.concatenate((np.repeat(np.arange(n_words, dtype=np.int64), np.array(tok_lens, dtype=np.int64)),
                                np.array(bi_owner, dtype=np.int64)))
        feats = np.array(tok_feats + bi_feats, dtype=np.int64)
        if len(requests) == 1:
            # one post (the interactive path): no post in the key, half the numpy calls
            ufeat, first = np.unique(feats, return_index=True)
            seg = [0, len(ufeat)]
        else:
            n_feat = self.W.shape[0]
            word_req = np.repeat(np.arange(len(requests), dtype=np.int64),
                                 np.diff(np.array(word_base + [n_words], dtype=np.int64)))
            keys, first = np.unique(word_req[owner] * n_feat + feats, return_index=True)
            ufeat = keys % n_feat
            seg = np.searchsorted(keys // n_feat, np.arange(len(requests) + 1)).tolist()
        uowner = owner[first]
        per_word: dict[str, np.ndarray] = {}
        i2: dict[str, np.ndarray] = {}
        for cat in {c for cats in asked for c in cats}:
            c = self.categories.index(cat)
            per_word[cat] = np.bincount(uowner, weights=self.W[ufeat, c], minlength=n_words)
            i2[cat] = self.I2[ufeat, c]
        for r, ((text, norm, _), cats) in enumerate(zip(requests, asked)):
            matches = matches_of[r]
            w0 = word_base[r]
            for cat in cats if matches else ():
                ev = out[r][cat]
                norm_c = math.sqrt(float(i2[cat][seg[r]:seg[r + 1]].sum())) or 1.0
                pw = per_word[cat][w0:w0 + len(matches)] / norm_c
                total = float(pw[pw > 0].sum()) or 1.0
                for i in np.argsort(-pw, kind="stable")[:limit]:
                    score = float(pw[i])
                    if score <= 0 or score < MIN_EVIDENCE_SHARE * total:
                        break
                    s, e = norm.span(*matches[i].span())
                    ev.append(Evidence(cat, "model", text[s:e], s, e, round(score / total, 3)))
        return out

    def memory_bytes(self) -> int:
        arrays = self.WI.nbytes                  # W and I2 are views into it
        # dict of str -> int: ~ (key object + int + slot) per entry
        return arrays + sum(len(k) + 49 + 28 + 16 for k in self.index)


NEGATED_CEILING = 0.95        # a negated-only post's model score ends below 0.95 x the threshold


def _tone_damp(out: dict[str, np.ndarray], r: int, normalized: str, hits: list[PatternHit]) -> None:
    """Damp the model scores of post `r` for hyperbole (threat, self_harm) and friendly teasing
    (bullying), unless the post states that category's intent plainly (classifiers.patterns.tone)."""
    hyperbole, friendly = tone(normalized)
    if not (hyperbole or friendly):
        return
    plain = {h.category for h in hits if not h.negated and not h.quoted}
    for cat, on in (("threat", hyperbole), ("self_harm", hyperbole), ("bullying", friendly)):
        if on and cat in out and cat not in plain:
            out[cat][r] *= TONE_DAMP


def _intent_batch(texts: list[str]) -> list[list[PatternHit]]:
    """find_intent for every text in one call; if the batch version fails (or miscounts), each
    text is searched on its own, exactly as before it existed: a bug there must not change any
    post's score. An error from the per-text search still reaches the caller, as it always did."""
    try:
        found = find_intent_batch(texts)
        if len(found) == len(texts):
            return found
        log.error("find_intent_batch returned %d results for %d texts; searching one by one", len(found), len(texts))
    except Exception:  # noqa: BLE001 - fall back, see docstring
        log.exception("find_intent_batch failed; searching one by one")
    return [find_intent(t) for t in texts]
