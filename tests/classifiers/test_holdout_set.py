"""The independent held-out set (classifiers/eval/holdout.csv, see HOLDOUT.md): its layout and
counts, and that it shares no post with the other evaluation sets (else it would not be held out)."""
from collections import Counter
from pathlib import Path

import pytest

from classifiers import realistic

EVAL = Path(realistic.__file__).resolve().parent / "eval"
HOLDOUT = EVAL / "holdout.csv"

EXPECTED = {
    ("threat", "threat"): 80,
    ("self_harm", "self_harm"): 80,
    ("bullying", "bullying"): 80,
    ("none", "help"): 35,
    ("none", "hyperbole"): 30,
    ("none", "slang"): 25,
    ("none", "quote"): 15,
    ("none", "ordinary"): 25,
}


@pytest.fixture(scope="module")
def holdout_rows():
    return realistic.read(HOLDOUT)


def test_holdout_counts_per_category_and_kind(holdout_rows):
    assert Counter((r.category, r.kind) for r in holdout_rows) == EXPECTED
    assert len(holdout_rows) == 370


def test_holdout_labels_match_category(holdout_rows):
    for r in holdout_rows:
        assert r.label == (0 if r.category == "none" else 1), r.text


def test_holdout_has_no_duplicate_texts(holdout_rows):
    seen = Counter(r.text.strip().lower() for r in holdout_rows)
    assert [t for t, n in seen.items() if n > 1] == []
    assert all(r.text.strip() for r in holdout_rows)


@pytest.mark.parametrize("other", ["realistic.csv", "fresh.csv"])
def test_holdout_shares_no_text_with_other_eval_sets(holdout_rows, other):
    path = EVAL / other
    if not path.is_file():
        pytest.skip(f"{other} not in this checkout")
    others = {r.text.strip().lower() for r in realistic.read(path)}
    shared = sorted(r.text for r in holdout_rows if r.text.strip().lower() in others)
    assert shared == []


def test_evaluate_names_the_shipped_sets(capsys, monkeypatch):
    """`evaluate --realistic all` prints one line per shipped set, `--realistic holdout` just the
    independent one, with the figures `realistic.evaluate` gives for that file."""
    from classifiers import realistic
    from tests.classifiers.test_commands import run_cli
    rc, out, err = run_cli(["evaluate", "--realistic", "all"], capsys, monkeypatch)
    assert rc == 0, err
    assert [o["realistic"] for o in out] == ["realistic.csv", "fresh.csv", "holdout.csv", "holdout4.csv"]
    rc, one, err = run_cli(["evaluate", "--realistic", "holdout"], capsys, monkeypatch)
    assert rc == 0 and one == [out[2]]
    assert one[0]["recall"]["threat"]["n"] == 80 and one[0]["false_labels"]["all"]["n"] == 130
    rc, four, err = run_cli(["evaluate", "--realistic", "holdout4"], capsys, monkeypatch)
    assert rc == 0 and four == [out[3]]
    assert four[0]["recall"]["self_harm"]["n"] == 85 and four[0]["false_labels"]["all"]["n"] == 155
    assert realistic.paths_for("") == [realistic.default_path()]
