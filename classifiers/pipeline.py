"""All five categories for a batch of posts: text models + intent patterns, personal information,
impersonation, and the help-seeking protection.

Scores are in [0, 1] for every category in CATEGORIES:
- bullying, threat, self_harm: calibrated model probability combined with the first-person intent
  patterns (classifiers.textmodels); labelled at the shipped thresholds (model card);
- pii, impersonation: the largest evidence weight from classifiers.pii / classifiers.impersonation
  (their weights are set for a flag threshold of 0.5, see those modules).
Help-seeking (classifiers.helpseeking) suppresses the misconduct labels (bullying, threat) but
never the scores, never self_harm, and never a plain first-person threat.

Metrics are counted by the caller (proxy_addons/posts.py): this module stays free of I/O.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.helpseeking import is_help_seeking
from classifiers.normalize import normalize
from classifiers.patterns import PLAIN_SCORE
from classifiers.textmodels import MAX_CHARS, TextModels
from classifiers.types import CATEGORIES, Classification, Evidence, PostInput

log = logging.getLogger(__name__)

PII_THRESHOLD = 0.5
IMPERSONATION_THRESHOLD = 0.5
MISCONDUCT = ("bullying", "threat")
_ZERO_SCORES = {c: 0.0 for c in CATEGORIES}

try:   # written by a sibling module; the pipeline must still score text without it
    from classifiers.pii import find_pii
except ImportError:  # pragma: no cover - only while the PII module is absent
    find_pii = None
try:
    from classifiers.impersonation import find_impersonation
except ImportError:  # pragma: no cover
    find_impersonation = None


def _district(policy: Any) -> Any:
    """What the PII/impersonation detectors accept as `district`: the policy itself (they read
    district_name/district_short/logo_phash from it) or None for the ENSATSD defaults."""
    return policy


class Classifier:
    def __init__(self, models: TextModels, roster: Any = None, policy: Any = None):
        self.models = models
        self.roster = roster
        self.policy = policy
        self.district = _district(policy)
        self.thresholds: dict[str, float] = dict(models.thresholds)
        self.thresholds.setdefault("pii", PII_THRESHOLD)
        self.thresholds.setdefault("impersonation", IMPERSONATION_THRESHOLD)
        self.missing = [name for name, fn in (("pii", find_pii), ("impersonation", find_impersonation)) if fn is None]
        if self.missing:
            # Fail-open for these two categories only: their score is 0 and the post is still
            # judged for bullying, threat and self-harm; the gap is logged once, here.
            log.warning("classifiers missing, scored 0: %s", ", ".join(self.missing))

    @classmethod
    def load(cls, roster: Any = None, policy: Any = None, model_dir: Path | str | None = None) -> "Classifier":
        return cls(TextModels.load(model_dir), roster=roster, policy=policy)

    # A failure inside one rule-based detector must not cost the post its other four scores:
    # that category fails open (score 0, no evidence) and the error is logged with its traceback.
    def _pii(self, post: PostInput) -> list[Evidence]:
        if find_pii is None or not post.text:
            return []
        try:
            return find_pii(post.text, roster=self.roster, author=post.author, district=self.district)
        except Exception:  # noqa: BLE001 - see comment above
            log.exception("find_pii failed; pii scored 0 for this post")
            return []

    def _impersonation(self, post: PostInput) -> list[Evidence]:
        if find_impersonation is None:
            return []
        try:
            return find_impersonation(post, roster=self.roster, district=self.district)
        except Exception:  # noqa: BLE001
            log.exception("find_impersonation failed; impersonation scored 0 for this post")
            return []

    def classify(self, posts: list[PostInput]) -> list[Classification]:
        if not posts:
            return []
        texts = [p.text or "" for p in posts]
        # the text models read at most MAX_CHARS characters; normalizing more would be wasted work
        norms = [normalize(t[:MAX_CHARS], offsets=False) for t in texts]   # offsets only if evidence is asked
        probs, hits = self.models.score(norms)
        # one conversion per category instead of a numpy scalar per post and category
        cols = {cat: np.clip(arr, 0.0, 1.0).round(4).tolist() for cat, arr in probs.items()}
        text_cats = self.models.categories
        thresholds = self.thresholds
        out: list[Classification] = []
        for i, post in enumerate(posts):
            scores = dict(_ZERO_SCORES)
            for cat, col in cols.items():
                scores[cat] = col[i]
            pii = self._pii(post)
            imp = self._impersonation(post)
            if pii:
                scores["pii"] = round(max(e.weight for e in pii), 4)
            if imp:
                scores["impersonation"] = round(max(e.weight for e in imp), 4)
            labels = [c for c in CATEGORIES if scores[c] >= thresholds.get(c, 1.01)]
            help_seeking = is_help_seeking(texts[i], normalized=norms[i].text)
            evidence: list[Evidence] = []
            if labels:
                # evidence is computed for labelled categories only: it is what a counselor reads
                # (and the only reason a post's normalization offsets are ever computed)
                text_ev = {cat: self.models.evidence(texts[i], cat, normalized=norms[i], hits=hits[i])
                           for cat in text_cats if cat in labels}
                if help_seeking:
                    plain_threat = any(e.kind == "pattern" and e.weight >= PLAIN_SCORE
                                       for e in text_ev.get("threat", ()))
                    labels = [c for c in labels if c not in MISCONDUCT or (c == "threat" and plain_threat)]
                for cat in text_cats:
                    if cat in labels:
                        evidence.extend(text_ev.get(cat, ()))
            evidence.extend(pii)
            evidence.extend(imp)
            out.append(Classification(scores=scores, labels=labels, evidence=evidence, help_seeking=help_seeking))
        return out
