"""The n-gram features the text models share: word 1-2 grams and character 3-5 grams.

One analyzer serves training (handed to scikit-learn's TfidfVectorizer) and live scoring (our own
vocabulary lookup), so the two can never disagree. Character n-grams are taken from each word
with its repeated letters squeezed ("stuuupid", "stupiid" and "stupid" share all their grams),
which is what makes stretched-out words score like the plain ones.
"""
from __future__ import annotations

import re

TOKEN_RE = re.compile(r"[a-z0-9@']+")
SQUEEZE_RE = re.compile(r"(.)\1+")
WORD_PREFIX = "#"          # never inside a character gram: tokens cannot contain "#"
CHAR_MIN, CHAR_MAX = 3, 5


def tokens(normalized: str) -> list[str]:
    return TOKEN_RE.findall(normalized)


def char_grams(token: str) -> list[str]:
    p = " " + SQUEEZE_RE.sub(r"\1", token) + " "
    n = len(p)
    out = []
    for k in range(CHAR_MIN, CHAR_MAX + 1):
        out.extend(p[i:i + k] for i in range(n - k + 1))
    return out


def word_grams(toks: list[str]) -> list[str]:
    out = [WORD_PREFIX + t for t in toks]
    out.extend(f"{WORD_PREFIX}{a} {b}" for a, b in zip(toks, toks[1:]))
    return out


def analyze(normalized: str) -> list[str]:
    """All features of an already-normalized text (duplicates allowed; the model is binary)."""
    toks = tokens(normalized)
    out = word_grams(toks)
    for t in toks:
        out.extend(char_grams(t))
    return out
