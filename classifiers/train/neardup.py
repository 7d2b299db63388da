"""Near-duplicate texts between hand-written post files (seed posts, evaluation sets).

Two posts are near duplicates when the Jaccard similarity of their lowercased word sets is at
least a threshold (0.75: the criterion every seed and evaluation writer was given). A training
post that nearly repeats an evaluation post makes that set's figures optimistic, and a new seed
file that repeats an old one adds nothing, so the seed tests and the holdout decontamination use
this one definition.

Prefix filtering keeps it fast (thousands of posts in well under a second): with the words of
each set ordered from rarest to commonest, two sets reaching the threshold must share a word
among the first len - ceil(threshold * len) + 1 of either.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Sequence

WORD = re.compile(r"[a-z0-9']+")
NEAR = 0.75


def words(text: str) -> frozenset[str]:
    return frozenset(WORD.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def near_pairs(texts: Sequence[str], threshold: float = NEAR) -> list[tuple[int, int, float]]:
    """Every pair (i, j, similarity) with i < j whose word sets reach `threshold`."""
    sets = [words(t) for t in texts]
    freq = Counter(w for s in sets for w in s)
    index: dict[str, list[int]] = defaultdict(list)
    out: list[tuple[int, int, float]] = []
    for j, s in enumerate(sets):
        if not s:
            continue
        prefix = sorted(s, key=lambda w: (freq[w], w))[:len(s) - math.ceil(threshold * len(s)) + 1]
        candidates: set[int] = set()
        for w in prefix:
            candidates.update(index[w])
            index[w].append(j)
        for i in sorted(candidates):
            sim = jaccard(sets[i], s)
            if sim >= threshold:
                out.append((i, j, sim))
    return out
