"""Round seven (issue 13): the bullying threshold's caps and the slang gate that drops threat too
(classifiers/train/heads.py NONE_CAP, VAL_CAP, GATES; EXPERIMENTS.md, round seven)."""
from __future__ import annotations

import json

import pytest

from classifiers.pipeline import Classifier
from classifiers.textmodels import default_model_dir
from classifiers.train import heads as train_heads
from classifiers.types import PostInput



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
    # round seven: bullying's caps are 15% of a seed kind and VAL_CAP of the public validation
    # negatives (13% since round eight; a quantile threshold: the negatives scoring exactly at it
    # count too, hence the half point)
    for cat, entry in doc["categories"].items():
        assert entry["threshold_choice"]["val_false_positive_rate"] <= train_heads.VAL_CAP[cat] + 0.005, cat


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
             if r.kind == "slang" and realistic.AAE_MARKERS.search(r.text)]
    assert len(texts) >= 60
    labelled = [c.labels for c in clf.classify([PostInput(t, kind="post") for t in texts])]
    assert sum("threat" in lab for lab in labelled) / len(texts) <= 0.05


def _gated(clf, monkeypatch, scores: dict[str, float], gate: str = "slang"):
    """Classify one plain post as if the models gave `scores` and the kind gate `gate` passed it."""
    import numpy as np

    real = clf.models.score_full

    def score_full(norms):
        probs, hits, gates = real(norms)
        probs = {c: (np.full(len(norms), scores[c]) if c in scores else v) for c, v in probs.items()}
        gates = {name: (np.full(len(norms), name == gate), cats) for name, (on, cats) in gates.items()}
        return probs, hits, gates

    monkeypatch.setattr(clf.models, "score_full", score_full)
    return clf.classify([PostInput("see you all later at the park", kind="post")])[0].labels


def test_the_slang_gate_yields_to_a_near_certain_threat(clf, monkeypatch):
    """classifiers.pipeline.GATE_YIELDS_AT: the slang gate drops a threat label only under 0.9
    (round seven: it had dropped a dialect school-shooting threat scored 0.98 on holdout7)."""
    from classifiers.pipeline import GATE_YIELDS_AT

    ceiling = GATE_YIELDS_AT["slang"]["threat"]
    assert clf.thresholds["threat"] < ceiling - 0.05
    assert "threat" in _gated(clf, monkeypatch, {"threat": ceiling + 0.05})
    assert "threat" not in _gated(clf, monkeypatch, {"threat": (clf.thresholds["threat"] + ceiling) / 2})
    # bullying has no ceiling: the slang gate drops it however high it scores
    assert "bullying" not in _gated(clf, monkeypatch, {"bullying": 0.99})
    # and the hyperbole gate has none for threat
    assert "threat" not in _gated(clf, monkeypatch, {"threat": 0.99}, gate="hyperbole")


@pytest.mark.parametrize("text, expected", [
    # round seven, prompted by holdout7 after its one scoring: a warning against telling a teacher
    # is a threat's condition, not a report
    ("noah if u tell mr b about me again ur not making it home from co-op", False),
    ("whoever told mrs p about my vape is getting their face smashed into a locker", False),
    ("u better not tell mr b", False),
    ("i told mrs p about the kids who keep calling me names", True),
    ("should i tell ms allard", True),
    ("if you tell a teacher they might help", True),
    # ... and the other ways holdout7's help posts asked or offered (read after its scoring)
    ("told the vp about the kid who said he'd burn the barn down. will they actually do something", True),
    ("if ur getting messed with on bus 4 come talk to me or ms allard", True),
    ("i know who filmed it. if i say something will they come for me", True),
    ("if i say something in class will they laugh at me lol", False),
])
def test_telling_a_teacher_is_help_unless_a_threat_forbids_it(text, expected):
    from classifiers.helpseeking import is_help_seeking, is_help_seeking_batch
    from classifiers.normalize import normalize_text

    assert is_help_seeking(text) is expected
    assert is_help_seeking_batch([text], [normalize_text(text)]) == [expected]


@pytest.mark.parametrize("text, rule", [
    ("if coach cuts me im shooting up the locker room", "i_will_attack_school"),
    ("ong i'm finna shoot up this whole school the way they treat me", "i_will_attack_school"),
    ("if i get expelled im taking some of them with me", "make_them_pay"),
    ("im taking as many of them as i can down with me", "make_them_pay"),
    ("ur not making it home from co-op, i drive that road too", "wont_make_it_to"),
])
def test_round_seven_threat_phrasings(text, rule):
    from classifiers.normalize import normalize
    from classifiers.patterns import PLAIN_SCORE, find_intent

    assert (rule, PLAIN_SCORE) in {(h.rule, h.score) for h in find_intent(normalize(text).text)}


@pytest.mark.parametrize("text", [
    "i have to babysit the twins so im taking them with me to practice",
    "im not making it home from the game till like 11 lol",
    "i would never shoot up the school, that's sick",
    "they said he wanted to shoot up the whole school, i told the principal",
])
def test_round_seven_threat_look_alikes_are_not_plain(text):
    from classifiers.normalize import normalize
    from classifiers.patterns import PLAIN_SCORE, find_intent

    assert not [h for h in find_intent(normalize(text).text) if h.category == "threat" and h.score >= PLAIN_SCORE]


def test_a_witness_fearing_a_beating_is_not_a_threat(clf):
    """The getting_jumped rule does not read a witness's fear ("without him getting jumped") as a
    threat (round seven); a threat that is not help keeps its label."""
    help_post, threat = clf.classify([
        PostInput("they keep calling my lil brother the r word on the bus. how do i report it without him "
                  "getting jumped after", kind="post"),
        PostInput("yo @kaylee ur getting jumped after the dance friday, me and my cousins by the bike racks",
                  kind="post")])
    assert help_post.help_seeking and not {"bullying", "threat"} & set(help_post.labels)
    assert "threat" in threat.labels


@pytest.mark.parametrize("text, fires", [
    ("how do i report it without him getting jumped after", False),
    ("after the bell that kid is getting jumped", True),
    ("he getting stabbed mañana after school, tell him i said that", True),
])
def test_getting_jumped_after_without_is_a_fear_not_a_threat(text, fires):
    from classifiers.normalize import normalize
    from classifiers.patterns import find_intent

    assert any(h.rule == "getting_jumped" for h in find_intent(normalize(text).text)) is fires
