"""The hand-written seed files (classifiers/train/seed_posts.csv, classifiers/train/seeds/*.csv)
as data: every file is read by the training reader, and a file adds new text (no near duplicate
of another seed post) rather than repeating an earlier writer. classifiers/train/neardup.py is the
one definition of a near duplicate, checked here against a brute-force table."""
from __future__ import annotations

import itertools

import pytest

from classifiers.train import heads as train_heads
from classifiers.train.neardup import jaccard, near_pairs, words

# Two ordinary posts both round-four writers happened to write; left in so the round-four files
# stay as they were trained. Any other near-duplicate pair fails.
KNOWN_PAIRS = {
    frozenset({"snow day tomorrow?? pls 🙏", "snow day tomorrow??? pls"}),
    frozenset({"spirit week tomorrow is pajama day!!", "spirit week: pajama day tomorrow"}),
}


def _rows():
    import csv
    out = []
    for path in train_heads.seed_files():
        with path.open(newline="", encoding="utf-8") as f:
            out += [(path.name, r["text"]) for r in csv.DictReader(f)]
    return out


def test_every_seed_row_is_read():
    rows = _rows()
    assert len(train_heads.read_seeds()) == len({t.strip() for _, t in rows})
    assert {"r5a.csv", "r5b.csv", "r5c.csv"} <= {name for name, _ in rows}


def test_no_seed_post_nearly_repeats_another():
    rows = _rows()
    pairs = near_pairs([t for _, t in rows])
    found = [(rows[i], rows[j], round(s, 2)) for i, j, s in pairs
             if frozenset({rows[i][1], rows[j][1]}) not in KNOWN_PAIRS]
    assert not found


@pytest.mark.parametrize("texts", [
    ["im bringing it monday", "im bringing it on monday", "nothing alike here", "Im Bringing It Monday!!"],
    ["a b c d", "a b c e", "a b c d e", "x", "", "a"],
    ["snow day tomorrow pls", "snow day tomorrow??? pls", "spirit week pajama day"],
    ["the the the", "the", "a the", "one two three four five six seven eight", "one two three four five six seven nine"],
])
@pytest.mark.parametrize("threshold", [0.5, 0.75, 1.0])
def test_prefix_filter_finds_what_brute_force_finds(texts, threshold):
    brute = {(i, j) for i, j in itertools.combinations(range(len(texts)), 2)
             if jaccard(words(texts[i]), words(texts[j])) >= threshold}
    assert {(i, j) for i, j, _ in near_pairs(texts, threshold)} == brute
