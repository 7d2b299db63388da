"""The fourth-round independent held-out set (classifiers/eval/holdout4.csv, see HOLDOUT4.md):
its layout and counts, that the `concern` rows (a friend worried about someone's self-harm) are
self_harm positives the reader accepts and the report counts in self_harm recall, and that it
shares no post with the other evaluation sets (else it would not be held out). No model is loaded."""
from collections import Counter
from pathlib import Path

import pytest

from classifiers import realistic

EVAL = Path(realistic.__file__).resolve().parent / "eval"
HOLDOUT4 = EVAL / "holdout4.csv"

EXPECTED = {
    ("threat", "threat"): 80,
    ("self_harm", "self_harm"): 70,
    ("self_harm", "concern"): 15,
    ("bullying", "bullying"): 80,
    ("none", "help"): 40,
    ("none", "hyperbole"): 35,
    ("none", "slang"): 30,
    ("none", "quote"): 20,
    ("none", "ordinary"): 30,
}


@pytest.fixture(scope="module")
def rows():
    return realistic.read(HOLDOUT4)


def test_holdout4_counts_per_category_and_kind(rows):
    assert Counter((r.category, r.kind) for r in rows) == EXPECTED
    assert len(rows) == 400


def test_holdout4_labels_match_category(rows):
    for r in rows:
        assert r.label == (0 if r.category == "none" else 1), r.text
        assert r.kind in realistic.KINDS if r.label == 0 else r.kind in (r.category, "concern"), r.text


def test_holdout4_concern_rows_count_as_self_harm_positives(rows):
    """With no labels at all every positive is a miss: self_harm recall is over 70 + 15 rows, and
    a concern row is reported among the misses as self_harm."""
    figures = realistic.report([[] for _ in rows], rows)
    assert figures["recall"]["self_harm"]["n"] == 85
    assert figures["recall"]["self_harm"]["rate"] == 0.0
    assert figures["false_labels"]["all"]["n"] == 155
    concern = [r for r in rows if r.kind == "concern"]
    missed = realistic.misses([[] for _ in concern], concern)
    assert {m["category"] for m in missed} == {"self_harm"} and len(missed) == 15


def test_holdout4_has_no_duplicate_or_empty_texts(rows):
    seen = Counter(r.text.strip().lower() for r in rows)
    assert [t for t, n in seen.items() if n > 1] == []
    assert all(r.text.strip() and "\n" not in r.text for r in rows)


@pytest.mark.parametrize("other", ["realistic.csv", "fresh.csv", "holdout.csv"])
def test_holdout4_shares_no_text_with_other_eval_sets(rows, other):
    path = EVAL / other
    if not path.is_file():
        pytest.skip(f"{other} not in this checkout")
    others = {r.text.strip().lower() for r in realistic.read(path)}
    shared = sorted(r.text for r in rows if r.text.strip().lower() in others)
    assert shared == []
