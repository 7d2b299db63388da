"""Squeezed word grams, word trigrams and the threat word model: training and live scoring agree."""
import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import classifiers.train.fit as fit
from classifiers.ngrams import analyze, is_word_feature, squeeze, word_grams
from classifiers.normalize import normalize_text
from classifiers.textmodels import CategoryModel, TextModels, default_model_dir
from classifiers.train.fit import _fit


@pytest.mark.parametrize("token,expected", [
    ("kill", "kil"),
    ("kiill", "kil"),
    ("stuuupid", "stupid"),
    ("good", "god"),          # a known, measured merge (EXPERIMENTS.md)
    ("a", "a"),
    ("", ""),
    ("@user", "@user"),
    ("1000", "10"),
])
def test_squeeze_table(token, expected):
    assert squeeze(token) == expected


@pytest.mark.parametrize("toks,word_n,squeezed,expected", [
    (["kiill", "you"], 2, True, ["~kil", "~you", "~kil you"]),
    (["kiill", "you"], 2, False, ["#kiill", "#you", "~kil you"]),
    (["put", "a", "bullet"], 2, True, ["~put", "~a", "~bulet", "~put a", "~a bulet"]),
    (["put", "a", "bullet"], 3, True, ["~put", "~a", "~bulet", "~put a", "~a bulet", "~put a bulet"]),
    (["put", "a", "bullet"], 3, False, ["#put", "#a", "#bullet", "~put a", "~a bulet", "~put a bulet"]),
    (["hang"], 3, True, ["~hang"]),
    ([], 3, True, []),
])
def test_word_grams_table(toks, word_n, squeezed, expected):
    assert word_grams(toks, word_n, squeezed) == expected
    assert all(is_word_feature(g) for g in expected)


@pytest.mark.parametrize("feature,is_word", [("#a", True), ("~a b c", True), (" ab", False), ("kil", False),
                                             ("", False)])
def test_is_word_feature_table(feature, is_word):
    assert is_word_feature(feature) is is_word


@pytest.mark.parametrize("plain,stretched", [
    ("i will kill you", "i will kiiiiill you"),
    ("hang them all", "haaaang theeem all"),
    ("you stupid loser", "you stuuuupid looooser"),
])
def test_stretched_words_have_the_same_squeezed_features(plain, stretched):
    for n in (2, 3):
        a, b = analyze(normalize_text(stretched), n, True), analyze(normalize_text(plain), n, True)
        assert sorted(a) == sorted(b)
    # plain single words do differ: that is why threat's word model uses squeezed ones
    assert sorted(analyze(normalize_text(stretched))) != sorted(analyze(normalize_text(plain)))
    # ... but only in the single words: phrases are squeezed for every category
    phrases = [[g for g in analyze(normalize_text(t)) if g.startswith("~")] for t in (stretched, plain)]
    assert phrases[0] and sorted(phrases[0]) == sorted(phrases[1])


_TEXTS = ["they should all hang", "lock them up now", "someone put a bullet in him", "impeach him now",
          "have a nice day", "see you at practice", "execute the traitors tonight", "jail them all",
          "put a bullet in the traitors", "vote them out"] * 4
_LABELS = [1, 0, 1, 0, 0, 0, 1, 0, 1, 0] * 4
_AUX = [1, 0, 1, 0, None, None, 1, 0, 1, 0] * 4
_PROBE = ["put a buuuullet in him", "they should all hang tonight", "lock them up", "have a nice day",
          "", "zzz unseen words", "a", "put a bullet in the traitors"]


def _trained(tmp_path, word_n=3, word_model=(4.0, 1.0), squeezed=True, category="threat"):
    norm = [normalize_text(t) for t in _TEXTS]
    vec, lin = _fit(norm, _LABELS, min_df=1, aux=_AUX, word_n=word_n, word_model=word_model, squeezed=squeezed)
    m = CategoryModel(category, vec.get_feature_names_out().tolist(), vec.idf_.astype(np.float32),
                      lin.coef.astype(np.float32), float(lin.intercept),
                      {"method": "platt", "a": 1.0, "b": 0.0}, 0.5)
    m.save(tmp_path)
    return vec, lin, TextModels.load(tmp_path)


def test_trigram_word_model_scoring_matches_training(tmp_path):
    vec, lin, tm = _trained(tmp_path)
    assert any(t.startswith("~") and t.count(" ") == 2 for t in vec.get_feature_names_out())
    assert not any(t.startswith("#") for t in vec.get_feature_names_out())
    assert tm._phrase_kinds == (("~", 3),)
    norm = [normalize_text(t) for t in _PROBE]
    want = lin.decision(vec.transform(norm))
    np.testing.assert_allclose(tm.decision(norm)[:, 0], want, rtol=1e-4, atol=1e-4)          # per-post path
    np.testing.assert_allclose(tm.decision(norm * 2)[:, 0], np.r_[want, want], rtol=1e-4, atol=1e-4)  # batch path
    # stretched letters give exactly the plain decision
    a, b = tm.decision([normalize_text("put a buuuullet in him"), normalize_text("put a bullet in him")])[:, 0]
    assert a == pytest.approx(b, abs=1e-6)


def test_word_model_is_a_fold_of_a_word_only_regression():
    norm = [normalize_text(t) for t in _TEXTS]
    vec, both = _fit(norm, _LABELS, min_df=1, aux=_AUX, word_n=3, word_model=(4.0, 0.7), squeezed=True)
    _, main = _fit(norm, _LABELS, min_df=1, aux=_AUX, word_n=3, squeezed=True)
    X = vec.transform(norm)
    cols = [i for i, t in enumerate(vec.get_feature_names_out()) if t.startswith("~")]
    Xw = X[:, cols]
    wm = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(Xw, _LABELS)
    rows = [i for i, a in enumerate(_AUX) if a is not None]
    side = LogisticRegression(C=fit.AUX_C, max_iter=3000, class_weight="balanced").fit(Xw[rows], [_AUX[i] for i in rows])
    want = main.decision(X) + 0.7 * (wm.decision_function(Xw) + fit.AUX_WEIGHT * side.decision_function(Xw))
    np.testing.assert_allclose(both.decision(X), want, rtol=1e-3, atol=1e-3)
    assert not np.allclose(both.decision(X), main.decision(X))     # the word model does contribute
    # it has no weight on character grams: those coefficients are the main model's
    chars = [i for i, t in enumerate(vec.get_feature_names_out()) if not t.startswith("~")]
    np.testing.assert_allclose(both.coef[chars], main.coef[chars])


def test_bigram_model_skips_trigram_lookups(tmp_path):
    vec, lin, tm = _trained(tmp_path, word_n=2, word_model=None, squeezed=False)
    assert tm._phrase_kinds == (("~", 2),)
    norm = [normalize_text(t) for t in _PROBE]
    np.testing.assert_allclose(tm.decision(norm)[:, 0], lin.decision(vec.transform(norm)), rtol=1e-4, atol=1e-4)


def _third_round_analyze(normalized):
    """The features of model files written before the fourth round: plain "#" word 1-2 grams."""
    from classifiers.ngrams import char_grams, tokens
    toks = tokens(normalized)
    out = ["#" + t for t in toks] + [f"#{a} {b}" for a, b in zip(toks, toks[1:])]
    for t in toks:
        out.extend(char_grams(t))
    return out


def test_third_round_model_files_still_score_exactly(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    norm = [normalize_text(t) for t in _TEXTS]
    vec = TfidfVectorizer(analyzer=_third_round_analyze, binary=True, norm="l2", dtype=np.float32)
    X = vec.fit_transform(norm)
    lr = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(X, _LABELS)
    CategoryModel("self_harm", vec.get_feature_names_out().tolist(), vec.idf_.astype(np.float32),
                  lr.coef_[0].astype(np.float32), float(lr.intercept_[0]),
                  {"method": "platt", "a": 1.0, "b": 0.0}, 0.5).save(tmp_path)
    tm = TextModels.load(tmp_path)
    assert tm._phrase_kinds == (("#", 2),)
    probe = [normalize_text(t) for t in _PROBE + ["they shoould all hang", "see you at practice"]]
    np.testing.assert_allclose(tm.decision(probe)[:, 0], lr.decision_function(vec.transform(probe)), rtol=1e-4, atol=1e-4)


def test_plain_and_squeezed_models_scored_together_match_training(tmp_path):
    """Bullying (plain single words) and threat (squeezed, trigrams) share one merged index: each
    category must still get exactly its own training-time decision."""
    vt, lt, _ = _trained(tmp_path, category="threat")
    vb, lb, _ = _trained(tmp_path, word_n=2, word_model=None, squeezed=False, category="bullying")
    tm = TextModels.load(tmp_path)
    assert tm._phrase_kinds == (("~", 3),)
    norm = [normalize_text(t) for t in _PROBE]
    d = tm.decision(norm)
    np.testing.assert_allclose(d[:, tm.categories.index("threat")], lt.decision(vt.transform(norm)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(d[:, tm.categories.index("bullying")], lb.decision(vb.transform(norm)), rtol=1e-4, atol=1e-4)


def test_evidence_credits_phrases_to_their_first_word(tmp_path):
    _, _, tm = _trained(tmp_path)
    text = "someone put a BUUULLET in him"
    ev = tm.evidence(text, "threat")
    assert ev
    for e in ev:
        assert text[e.start:e.end] == e.text
    grams = tm._phrase_grams(["put", "a", "buullet", "in", "him"])
    index = {v: k for k, v in tm.index.items()}
    named = {(i, index[j]) for i, j in grams}
    assert (0, "~put a bulet") in named and (1, "~a bulet") in named


def test_shipped_threat_model_uses_squeezed_trigrams():
    doc = json.loads((default_model_dir() / "threat.json").read_text())
    assert doc["training"]["word_ngrams"] == [1, fit.WORD_N_BY_CATEGORY["threat"]]
    assert doc["training"]["word_grams_of"] == "squeezed words"
    assert doc["training"]["word_model"]["C"] == fit.WORD_MODEL_BY_CATEGORY["threat"][0]
    for cat in ("bullying", "self_harm"):
        doc = json.loads((default_model_dir() / f"{cat}.json").read_text())
        assert doc["training"]["word_grams_of"].startswith("words (single)")
        assert doc["training"]["word_ngrams"] == [1, 2]


@pytest.mark.parametrize("plain,stretched", [
    ("they should all hang", "they shoooould all haaaang"),
    ("someone put a bullet in him", "someone put a buuuullet in him"),
    ("i will kill you tomorrow", "i will kiiiill you tomorrooow"),
])
def test_shipped_threat_model_ignores_stretched_letters(models, plain, stretched):
    d = models.decision([normalize_text(plain), normalize_text(stretched)])[:, models.categories.index("threat")]
    assert d[0] == pytest.approx(d[1], abs=1e-5)


@pytest.mark.parametrize("category", ["bullying", "threat", "self_harm"])
def test_shipped_files_score_as_their_training_analyzer_says(models, category):
    """Each shipped file, scored by the merged live lookup, gives the decision of its own training
    analyzer (settings read back from its JSON) over its own vocabulary."""
    m = CategoryModel.load(default_model_dir(), category)
    word_n = m.meta["training"]["word_ngrams"][1]
    squeezed = m.meta["training"]["word_grams_of"] == "squeezed words"
    index = {t: i for i, t in enumerate(m.vocab)}
    texts = ["someone should put a bullet in that traitor", "i will kiiiill you all tomorrow",
             "hang them all at dawn", "you are so stupid and ugly", "i want to die tonight",
             "see you at practice, thanks for the notes", "lock him up and throw away the key", "a", ""]
    norm = [normalize_text(t) for t in texts]
    want = []
    for t in norm:
        f = np.array(sorted({index[g] for g in analyze(t, word_n, squeezed) if g in index}), dtype=np.int64)
        w = m.idf[f].astype(np.float64)
        n = np.sqrt((w * w).sum()) or 1.0
        want.append(float((w * m.coef[f]).sum() / n) + m.intercept)
    got = models.decision(norm)[:, models.categories.index(category)]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
