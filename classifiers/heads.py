"""Encoder heads at run time: a logistic head per category on the sentence encoder's window vectors,
combined with the TF-IDF model's probability by the ensemble weights fitted in training
(classifiers/train/heads.py; model card "Encoder heads").

A post's head decision is its most concerning window (the maximum over its 128-token windows), so
a long post is judged on its worst passage, not diluted by the rest. Files: heads.npz
(coef_<category>, float64, loaded with allow_pickle=False) and heads.json (intercepts, ensemble
weights, thresholds, how they were chosen).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.encoder import Encoded, load_encoder

HEADS_FORMAT = "crossingguard-heads/1"


class HeadsFileError(Exception):
    pass


@dataclass
class Heads:
    categories: tuple[str, ...]
    coef: np.ndarray                      # (DIM, k) float64
    intercept: np.ndarray                 # (k,)
    stack: np.ndarray                     # (k, 3): w_tfidf_logit, w_head, intercept
    thresholds: dict[str, float]
    meta: dict = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> "Heads":
        jpath, npath = directory / "heads.json", directory / "heads.npz"
        try:
            doc = json.loads(jpath.read_text())
            if doc.get("format") != HEADS_FORMAT:
                raise HeadsFileError(f"{jpath}: format: expected {HEADS_FORMAT}, got {doc.get('format')!r}")
            cats = tuple(doc["categories"])
            with np.load(npath, allow_pickle=False) as z:
                coef = np.column_stack([z[f"coef_{c}"].astype(np.float64) for c in cats])
            entries = [doc["categories"][c] for c in cats]
            stack = np.array([[e["stack"]["w_tfidf_logit"], e["stack"]["w_head"], e["stack"]["intercept"]]
                              for e in entries], dtype=np.float64)
            return cls(cats, coef, np.array([e["head_intercept"] for e in entries], dtype=np.float64), stack,
                       {c: float(e["threshold"]) for c, e in zip(cats, entries)}, doc)
        except HeadsFileError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HeadsFileError(f"{directory}: heads files unreadable: {exc}") from exc

    def decisions(self, enc: Encoded) -> np.ndarray:
        """(n_posts, k): each post's largest window decision per category."""
        d = enc.vectors.astype(np.float64) @ self.coef + self.intercept
        n = len(enc.offsets) - 1
        out = np.empty((n, len(self.categories)))
        for i in range(n):
            out[i] = d[enc.offsets[i]:enc.offsets[i + 1]].max(axis=0)
        return out

    def combine(self, tfidf: dict[str, np.ndarray], enc: Encoded) -> dict[str, np.ndarray]:
        d = self.decisions(enc)
        out = dict(tfidf)
        for j, c in enumerate(self.categories):
            if c not in tfidf:
                continue
            p = np.clip(np.asarray(tfidf[c], dtype=np.float64), 1e-6, 1 - 1e-6)
            z = self.stack[j, 0] * np.log(p / (1 - p)) + self.stack[j, 1] * d[:, j] + self.stack[j, 2]
            out[c] = 1.0 / (1.0 + np.exp(-z))
        return out


def load_heads_and_encoder(directory: Path, weights: Path | str | None = None):
    """(heads, encoder, error): both or neither; `error` says why not (already logged once)."""
    try:
        heads = Heads.load(directory)
    except HeadsFileError as exc:
        import logging
        logging.getLogger(__name__).error("encoder heads unusable, text models score alone: %s", exc)
        return None, None, str(exc)
    encoder, error = load_encoder(weights)
    if encoder is None:
        return None, None, error
    return heads, encoder, None
