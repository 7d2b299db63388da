import pytest

from classifiers.pipeline import Classifier
from classifiers.types import CATEGORIES, PostInput


@pytest.fixture(scope="module")
def clf():
    return Classifier.load()


@pytest.mark.parametrize("text", [
    "how do I talk to a counselor about the kids who keep calling me ugly",
    "my friend said she wants to hurt herself, who do I tell",
    "he said he will kill me, how do I report this to the principal",
    "call 988 if you feel like you want to kill yourself",
    "is there a hotline I can call, they keep saying kys to me",
])
def test_help_seeking_is_never_misconduct(clf, text):
    (c,) = clf.classify([PostInput(text)])
    assert c.help_seeking
    assert not {"bullying", "threat"} & set(c.labels)
    assert set(c.scores) == set(CATEGORIES)


def test_self_harm_disclosure_with_help_seeking_keeps_the_self_harm_label(clf):
    (c,) = clf.classify([PostInput("i want to kill myself and i need help, who do i talk to")])
    assert c.help_seeking and "self_harm" in c.labels
    assert c.scores["self_harm"] >= clf.thresholds["self_harm"]


def test_a_plain_threat_keeps_its_label_even_with_help_words(clf):
    (c,) = clf.classify([PostInput("I will shoot up the school tomorrow, someone help me")])
    assert c.help_seeking and "threat" in c.labels


def test_scores_labels_and_evidence(clf):
    posts = [PostInput("u r s0 ugly"), PostInput("see you at lunch"), PostInput("")]
    res = clf.classify(posts)
    assert len(res) == 3
    assert "bullying" in res[0].labels and res[1].labels == [] and res[2].labels == []
    assert all(e.category in res[0].labels for e in res[0].evidence)
    assert clf.classify([]) == []


def test_labels_follow_thresholds(clf):
    res = clf.classify([PostInput(t) for t in ["you are an idiot", "hi", "i want to die", "I will kill you"]])
    for c in res:
        assert c.labels == [k for k in CATEGORIES if c.scores[k] >= clf.thresholds[k]] or c.help_seeking


def test_a_failing_detector_costs_only_its_own_category(clf, monkeypatch, caplog):
    import classifiers.pipeline as pipeline

    def boom(*a, **k):
        raise RuntimeError("detector bug")

    monkeypatch.setattr(pipeline, "find_pii_batch", boom)
    monkeypatch.setattr(pipeline, "find_pii", boom)
    (c,) = clf.classify([PostInput("I will shoot up the school, call me 978-555-0142")])
    assert c.scores["pii"] == 0.0 and "threat" in c.labels
    assert "find_pii_batch failed" in caplog.text and "find_pii failed" in caplog.text


def test_missing_detectors_fall_back_to_zero(monkeypatch):
    import classifiers.pipeline as pipeline

    monkeypatch.setattr(pipeline, "find_pii", None)
    monkeypatch.setattr(pipeline, "find_impersonation", None)
    c = pipeline.Classifier.load()
    assert c.missing == ["pii", "impersonation"]
    (r,) = c.classify([PostInput("u r s0 ugly, call me 978-555-0142", account="Ms Rivera")])
    assert r.scores["pii"] == 0.0 and r.scores["impersonation"] == 0.0 and "bullying" in r.labels
