"""Round seven (issue 13): the bullying threshold's caps and the slang gate that drops threat too
(classifiers/train/heads.py NONE_CAP, VAL_CAP, GATES; EXPERIMENTS.md, round seven)."""
from __future__ import annotations

import json
import re

import pytest

from classifiers.pipeline import Classifier
from classifiers.textmodels import default_model_dir
from classifiers.train import heads as train_heads
from classifiers.types import PostInput

# the bench's marker lexicon (bench/bench_classifiers.py AAE_MARKERS), for the slang check below
AAE_MARKERS = re.compile(r"\b(?:finna|tryna|bruh|dat|dis|dem|ion|ima|imma|aint|ain't|nah|yall|y'all|"
                         r"bout|lil|homie|gon|boutta|thang|deadass|yo|da|wit|fr|ya)\b", re.I)


@pytest.fixture(scope="module")
def doc():
    return json.loads((default_model_dir() / "heads.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def clf():
    return Classifier.load()


def test_the_slang_gate_drops_threat_and_bullying_and_the_hyperbole_gate_not_bullying(doc):
    assert train_heads.GATES["slang"]["suppresses"] == ("bullying", "threat")
    assert doc["gates"]["slang"]["suppresses"] == ["bullying", "threat"]
    # tried and not kept: the hyperbole gate dropping bullying too cost 1.7 points of threat recall
    # on the dev sets (its retrained boundary passed more threats)
    assert "bullying" not in doc["gates"]["hyperbole"]["suppresses"]


def test_the_shipped_gate_passes_almost_no_threat_seed(doc):
    """Trained against the threat seeds too, the slang gate passes (out of fold) at most the
    GATE_COST share of them, and still most slang seeds."""
    passed = doc["gates"]["slang"]["passed_by_kind"]
    assert passed["threat"] <= train_heads.GATE_COST
    assert passed["slang"] >= 0.5


def test_each_threshold_is_the_largest_of_its_three_rules(doc):
    for cat, entry in doc["categories"].items():
        choice = entry["threshold_choice"]
        want = max(choice["recall_threshold"], choice["cap_threshold"], choice["val_cap_threshold"])
        assert entry["threshold"] == pytest.approx(want, abs=1e-4), cat
        assert f"<= {train_heads.NONE_CAP[cat]} of the hard-negative seeds" in choice["rule"]
        assert f"<= {train_heads.VAL_CAP[cat]} of the validation parts' negatives" in choice["rule"]
    # round seven: bullying's caps are 15% of a seed kind and 10% of the public validation negatives
    # (a quantile threshold: the negatives scoring exactly at it count too, hence the half point)
    assert doc["categories"]["bullying"]["threshold_choice"]["val_false_positive_rate"] <= 0.105


@pytest.mark.parametrize("text", [
    # rows of the evaluation sets that round six's models labelled threat (friendly dialect slang)
    "finna slide to the bonfire later, yall tryna pull up?",
    "fixin to head down to the creek, y'all comin or nah",
    "yall bitches better be at my party saturday 😤❤️",
])
def test_friendly_dialect_slang_is_not_a_threat(clf, text):
    assert "threat" not in clf.classify([PostInput(text, kind="post")])[0].labels


@pytest.mark.parametrize("text", [
    # a plain threat keeps its label whatever the slang gate reads (an intent pattern outranks it)
    "on god im bringing the strap to school tmrw, stay home fr",
    "deadass gonna stab him after practice, he done",
    "yall better stay home friday fr fr i aint playin",
])
def test_a_plain_threat_in_dialect_keeps_its_label(clf, text):
    assert "threat" in clf.classify([PostInput(text, kind="post")])[0].labels


def test_slang_with_dialect_markers_is_rarely_a_threat(clf):
    """The evaluation sets' slang rows with the bench's dialect markers: round six labelled 8.8% of
    them threat (6 of 68) against 1.5% without markers; round seven's models at most 5%."""
    from classifiers import realistic

    texts = [r.text for n in realistic.SHIPPED for r in realistic.read(realistic.shipped_path(n))
             if r.kind == "slang" and AAE_MARKERS.search(r.text)]
    assert len(texts) >= 60
    labelled = [c.labels for c in clf.classify([PostInput(t, kind="post") for t in texts])]
    assert sum("threat" in lab for lab in labelled) / len(texts) <= 0.05
