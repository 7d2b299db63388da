"""The n-gram features the text models share: word 1-2 (or 1-3) grams and character 3-5 grams.

One analyzer serves training (handed to scikit-learn's TfidfVectorizer) and live scoring (our own
vocabulary lookup), so the two can never disagree. Character n-grams are taken from each word
with its repeated letters squeezed ("stuuupid", "stupiid" and "stupid" share all their grams),
which is what makes stretched-out words score like the plain ones.

Word grams are of words squeezed like the character grams, prefixed "~" ("~kil you", and
"~put a bulet" where a category uses word 3-grams): normalization cuts a run of letters to two, so
`kiiiill` arrives as `kiill`, whose plain word gram would be an unseen feature. Single words come
in two kinds, told apart by their prefix so one merged vocabulary holds both:
  "#good"   the word as normalized (bullying, self-harm: squeezing their single words merges
            "good"/"god", "too"/"to", and cost 0.003 validation ROC-AUC on OLID)
  "~god"    the squeezed word (threat, whose word-only model must not be evaded by stretching)
Single-word features are cached per token at scoring time, so the two kinds cost nothing; phrases
are one kind only, because each phrase look-up costs about 0.4 us (EXPERIMENTS.md, fourth round).
Files written before the fourth round have plain "#a b" bigrams; scoring reads which kinds a
vocabulary holds and still scores them exactly.
"""
from __future__ import annotations

import functools
import re

TOKEN_RE = re.compile(r"[a-z0-9@']+")
SQUEEZE_RE = re.compile(r"(.)\1+")
WORD_PREFIX = "#"          # plain single words; never inside a character gram: tokens cannot contain "#"
SQUEEZED_PREFIX = "~"      # squeezed single words and every phrase; tokens cannot contain "~" either
WORD_PREFIXES = (WORD_PREFIX, SQUEEZED_PREFIX)
CHAR_MIN, CHAR_MAX = 3, 5
WORD_N = 2                 # default longest word gram; a category may ask for 3 (threat)


def tokens(normalized: str) -> list[str]:
    return TOKEN_RE.findall(normalized)


# Tokens longer than this are squeezed every time, never cached. The cache is bounded by count,
# so its size in bytes is set by the longest token it may hold: a post is attacker-chosen, and
# 20,000 crafted posts with 5,000-character tokens grew a worker by 283 MB. Real words are far
# shorter (normalization turns URLs and addresses into placeholders), so nothing real is lost.
CACHE_TOKEN_MAX = 40
_SQUEEZE_CACHE_MAX = 1 << 17


def _squeeze(token: str) -> str:
    return SQUEEZE_RE.sub(r"\1", token)


class _SqueezeCache(dict):
    """token -> squeezed token. Looked up through dict.__getitem__, which runs in C, so
    `map(squeeze, toks)` costs about 30 ns a token once the words repeat; a miss calls
    __missing__, which caches short tokens only and empties a full cache (bounded memory)."""

    def __missing__(self, token: str) -> str:
        out = _squeeze(token)
        if len(token) <= CACHE_TOKEN_MAX:
            if len(self) >= _SQUEEZE_CACHE_MAX:
                self.clear()
            self[token] = out
        return out


_SQUEEZE_CACHE = _SqueezeCache()
# squeeze(token): the token with each run of one letter cut to one letter
squeeze = _SQUEEZE_CACHE.__getitem__


def char_grams(token: str) -> list[str]:
    p = " " + squeeze(token) + " "
    n = len(p)
    out = []
    for k in range(CHAR_MIN, CHAR_MAX + 1):
        out.extend(p[i:i + k] for i in range(n - k + 1))
    return out


def word_grams(toks: list[str], word_n: int = WORD_N, squeezed: bool = False) -> list[str]:
    """Word 1..word_n grams: single words plain ("#") or squeezed ("~" with `squeezed`), phrases
    always of the squeezed words ("~")."""
    sq = list(map(squeeze, toks))
    p = SQUEEZED_PREFIX
    out = [p + t for t in sq] if squeezed else [WORD_PREFIX + t for t in toks]
    if word_n >= 2:
        out.extend(f"{p}{a} {b}" for a, b in zip(sq, sq[1:]))
    if word_n >= 3:
        out.extend(f"{p}{a} {b} {c}" for a, b, c in zip(sq, sq[1:], sq[2:]))
    return out


def is_word_feature(feature: str) -> bool:
    return feature[:1] in WORD_PREFIXES


def analyze(normalized: str, word_n: int = WORD_N, squeezed: bool = False) -> list[str]:
    """All features of an already-normalized text (duplicates allowed; the model is binary)."""
    toks = tokens(normalized)
    out = word_grams(toks, word_n, squeezed)
    for t in toks:
        out.extend(char_grams(t))
    return out


def analyzer(word_n: int = WORD_N, squeezed: bool = False):
    """`analyze` with fixed word-gram settings, for TfidfVectorizer(analyzer=...)."""
    if word_n == WORD_N and not squeezed:
        return analyze
    return functools.partial(analyze, word_n=word_n, squeezed=squeezed)
