"""Round four's student-domain members (classifiers/train/heads.py, classifiers/heads.py,
classifiers/textmodels.py): the seed files and their reader, the student TF-IDF columns, the
learned help-seeking gate, the per-kind threshold cap, the hyperbole reading of intent patterns,
and the taxonomy count of the realistic report."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from classifiers import realistic
from classifiers.datasets import DataFileError
from classifiers.heads import Heads
from classifiers.normalize import normalize
from classifiers.patterns import PLAIN_SCORE, find_intent
from classifiers.pipeline import Classifier
from classifiers.textmodels import TextModels, default_model_dir
from classifiers.train import heads as train_heads
from classifiers.types import PostInput


def _write(path, rows, header=("text", "category", "label", "kind")):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# --- seed files --------------------------------------------------------------------------------

def test_every_seed_file_is_read_with_its_kinds():
    seeds = train_heads.read_seeds()
    files = train_heads.seed_files()
    assert files[0].name == "seed_posts.csv" and len(files) >= 2
    assert len({s.text for s in seeds}) == len(seeds)
    kinds = {s.kind for s in seeds}
    assert {"bullying", "threat", "self_harm", "help", "slang", "hyperbole", "ordinary"} <= kinds
    for s in seeds:
        assert s.label == int(s.category != "none")
        if s.kind == "concern":                    # a worried friend: self_harm (model card, taxonomy)
            assert s.category == "self_harm"


def test_seed_reader_keeps_the_first_copy_and_reads_old_files_without_kind(tmp_path):
    old = _write(tmp_path / "a.csv", [("i will hurt you", "threat", "1"), ("nice shot", "none", "0")],
                 header=("text", "category", "label"))
    new = _write(tmp_path / "b.csv", [("nice shot", "none", "0", "game"), ("ur such a legend", "none", "0", "slang"),
                                      ("gg ez", "none", "0", "gaming")])
    seeds = train_heads.read_seeds([old, new])
    assert [(s.text, s.kind) for s in seeds] == [("i will hurt you", "threat"), ("nice shot", "hard"),
                                                ("ur such a legend", "slang"), ("gg ez", "game")]


@pytest.mark.parametrize("row, where", [
    (("x", "violence", "1", "threat"), "b.csv:3: category"),
    (("x", "threat", "0", "threat"), "b.csv:3: label"),
    (("x", "none", "0", "bullying"), "b.csv:3: kind"),
    (("x", "threat", "1", "slang"), "b.csv:3: kind"),
    (("", "none", "0", "slang"), "b.csv:3: text"),
])
def test_a_bad_seed_row_names_file_line_and_column(tmp_path, row, where):
    path = _write(tmp_path / "b.csv", [("fine", "none", "0", "ordinary"), row])
    with pytest.raises(DataFileError, match=where):
        train_heads.read_seeds([path])


# --- threshold rule ------------------------------------------------------------------------------

def test_the_cap_holds_for_every_kind_not_for_their_mix():
    # 4 positives; hyperbole scores high, slang low. Pooled, 10 of 20 negatives above 0.5 would
    # pass a 50% cap at 0.5; per kind, hyperbole's own 50% quantile (0.85) must hold.
    labels = [1] * 4 + [0] * 20
    scores = [0.95, 0.9, 0.6, 0.55] + [0.8, 0.85, 0.9, 0.95, 0.7, 0.75, 0.88, 0.92, 0.6, 0.65] + [0.1] * 10
    kinds = [""] * 4 + ["hyperbole"] * 10 + ["slang"] * 10
    thr, t_rec, floor = train_heads.threshold_recall_capped(labels, scores, np.array(kinds), 1.0, 0.5)
    assert t_rec == pytest.approx(0.55)
    assert floor == pytest.approx(float(np.quantile(scores[4:14], 0.5)))
    assert thr == floor
    # a kind with fewer rows than min_kind does not bind
    thr2, _, floor2 = train_heads.threshold_recall_capped(labels, scores, np.array(kinds), 1.0, 0.5, min_kind=11)
    assert floor2 == 0.0 and thr2 == t_rec


def test_shipped_heads_follow_the_written_rules():
    doc = json.loads((default_model_dir() / "heads.json").read_text())
    for cat, entry in doc["categories"].items():
        ch = entry["threshold_choice"]
        assert entry["threshold"] == pytest.approx(max(ch["recall_threshold"], ch["cap_threshold"], ch.get("val_cap_threshold", 0.0)), abs=1e-4)
        assert set(ch["seed_negatives_labelled_by_kind"]) >= {"help", "slang", "hyperbole", "ordinary"}
        assert {"seed_head", "seed_tfidf", "knn"} <= set(entry["members"])    # round five adds kernel for threat and self-harm
    assert "head" not in doc["categories"]["bullying"]["members"]       # the dialect check (model card)
    assert set(doc["gates"]) == set(train_heads.GATES)
    seeds = train_heads.read_seeds()
    for name, gate in doc["gates"].items():
        passed = gate["passed_by_kind"]
        assert gate["threshold"] >= 0.0
        assert max(passed[k] for k in gate["kinds"]) > 0.5, name          # it finds its own kind...
        # ...at a bounded cost: the written rule, GATE_COST of the suppressed categories' seed posts
        # together (out of fold), and no category paying more than twice that
        kinds = [s.kind for s in seeds if s.category in gate["suppresses"]]
        pooled = sum(passed[k] for k in kinds) / len(kinds)
        assert pooled <= train_heads.GATE_COST + 0.005, (name, pooled)
        for cat in gate["suppresses"]:
            assert passed[cat] <= 2 * train_heads.GATE_COST, (name, cat)


# --- student TF-IDF columns ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return TextModels.load()


@pytest.fixture(scope="module")
def tfidf_alone():
    return TextModels.load(encoder=False)


POSTS = ["ur so ugly nobody wants u here", "who's going to the game friday", "im bringing a knife tomorrow",
         "i havent eaten in four days", "lmao you idiot i love you", "", "k"]


def test_student_columns_leave_the_category_columns_as_they_were(shipped, tfidf_alone):
    assert shipped.student_categories == ("bullying", "threat", "self_harm", "gate:help", "gate:slang",
                                          "gate:hyperbole", "gate:ordinary")
    norms = [normalize(t).text for t in POSTS * 3]      # 21 posts: the sparse-product path
    for batch in (norms, norms[:2], norms[:1]):
        a, b = shipped.decision(batch), tfidf_alone.decision(batch)
        assert a.shape == (len(batch), 10) and b.shape == (len(batch), 3)
        assert np.array_equal(a[:, :3], b)


def test_student_decision_is_its_training_features_times_its_coefficients(shipped):
    heads = shipped.heads
    for name in shipped.student_categories:
        cat, coef, icpt = heads.student[name]
        want = shipped.feature_matrix(POSTS, cat) @ coef + icpt
        got = shipped.student_decisions(shipped.decision([normalize(t).text for t in POSTS]))[name]
        assert np.allclose(got, want, atol=1e-9)
        alone = [shipped.student_decisions(shipped.decision([normalize(t).text]))[name][0] for t in POSTS]
        assert np.allclose(alone, got, atol=1e-12)


def test_without_the_encoder_the_student_columns_go_too(shipped):
    tm = TextModels.load()
    tm.attach(None, None, "test: encoder off")
    assert tm.student_categories == () and tm.W.shape[1] == 3
    assert tm.thresholds == tm.tfidf_thresholds


def test_an_old_heads_file_without_round_four_members_still_loads(tmp_path):
    for name in ("heads.json", "heads.npz", "kernel.npz"):    # kernel.npz: round five's kernel member
        shutil.copy(default_model_dir() / name, tmp_path / name)
    doc = json.loads((tmp_path / "heads.json").read_text())
    del doc["gates"]
    for entry in doc["categories"].values():
        del entry["student_intercept"], entry["stack"]["w_seed_tfidf"]
    (tmp_path / "heads.json").write_text(json.dumps(doc))
    with np.load(tmp_path / "heads.npz") as z:
        arrays = {k: z[k] for k in z.files if not k.startswith(("student_coef_", "gate_"))}
    np.savez(tmp_path / "heads.npz", **arrays)
    heads = Heads.load(tmp_path)
    assert heads.student == {} and heads.gates == {}
    assert heads.stack[:, 6].tolist() == [0.0, 0.0, 0.0]
    enc = type("E", (), {"vectors": np.zeros((1, 384)), "offsets": np.array([0, 1])})()
    assert heads.gate_decisions(enc, {}) == {}
    tm = TextModels.load(encoder=False)
    tm.attach(heads, object())
    assert tm.student_categories == () and tm.W.shape[1] == 3


# --- the learned help-seeking gate ---------------------------------------------------------------

@pytest.fixture(scope="module")
def clf():
    return Classifier(TextModels.load())


def test_learned_gate_protects_help_posts_the_rules_miss(clf):
    from classifiers.helpseeking import is_help_seeking
    posts = ["some kid wrote 'fat pig' on my locker with a sharpie, how do i get the school to do something",
             "a senior keeps saying he'll jump me after practice. should i go to the office or will that make it worse"]
    for text, c in zip(posts, clf.classify([PostInput(t) for t in posts])):
        assert not is_help_seeking(text)                  # the rules alone do not see it
        assert c.help_seeking, text
        assert not {"bullying", "threat"} & set(c.labels), (text, c.labels, c.scores)


def test_learned_gate_does_not_take_insults_or_threats_for_help(clf):
    posts = ["nobody at this school wants you here, just transfer already",
             "im bringing my dads gun to school tomorrow and everyone will see",
             "you're so ugly it's actually sad"]
    for text, c in zip(posts, clf.classify([PostInput(t) for t in posts])):
        assert not c.help_seeking, text


@pytest.mark.parametrize("name", list(realistic.SHIPPED))
def test_no_help_post_of_any_dev_set_is_labelled_bullying_or_threat(clf, name):
    rows = [r for r in realistic.read(realistic.shipped_path(name)) if r.kind == "help"]
    for r, c in zip(rows, clf.classify([PostInput(r.text, kind="post") for r in rows])):
        assert not {"bullying", "threat"} & set(c.labels), r.text


# --- intent patterns inside a hyperbole idiom ----------------------------------------------------

@pytest.mark.parametrize("text, plain", [
    ("ugh i'm gonna die of boredom in chem", False),
    ("i'm gonna die of embarrassment if he sees this", False),
    ("i want to die, i can't do this anymore", True),
    ("im gonna kill myself, this week is killing me", True),     # the idiom is elsewhere in the post
    ("im gonna kill him, this is killing me", True),
])
def test_a_statement_inside_a_hyperbole_idiom_is_not_plain(text, plain):
    hits = find_intent(normalize(text).text)
    assert any(h.score >= PLAIN_SCORE for h in hits) == plain, hits


# --- the report's taxonomy count -----------------------------------------------------------------

def test_report_counts_help_posts_labelled_self_harm_only_apart():
    rows = [realistic.Row("a", "none", 0, "help"), realistic.Row("b", "none", 0, "help"),
            realistic.Row("c", "none", 0, "help"), realistic.Row("d", "none", 0, "slang")]
    labels = [["self_harm"], ["self_harm", "bullying"], [], ["bullying"]]
    fl = realistic.report(labels, rows)["false_labels"]
    assert fl["help"]["rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert fl["help_self_harm_only"]["rate"] == pytest.approx(1 / 3, abs=1e-4) and fl["help_self_harm_only"]["n"] == 3
    assert fl["all"]["rate"] == 0.75
    assert fl["all_but_help_self_harm_only"]["n"] == 3 and fl["all_but_help_self_harm_only"]["rate"] == pytest.approx(2 / 3, abs=1e-4)
