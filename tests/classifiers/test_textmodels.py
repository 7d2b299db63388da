import json
import zipfile

import numpy as np
import pytest

from classifiers.ngrams import analyze
from classifiers.normalize import normalize_text
from classifiers.textmodels import TEXT_CATEGORIES, CategoryModel, ModelFileError, TextModels, default_model_dir
from sklearn.linear_model import LogisticRegression

import classifiers.train.fit as fit
from classifiers.train.fit import _fit


@pytest.mark.parametrize("category", TEXT_CATEGORIES)
def test_shipped_model_files_load_without_pickle(category):
    d = default_model_dir()
    with np.load(d / f"{category}.npz", allow_pickle=False) as z:
        assert set(z.files) == {"vocab", "idf", "coef"}
        assert all(z[k].dtype != object for k in z.files)
    with zipfile.ZipFile(d / f"{category}.npz") as zf:      # only .npy arrays inside
        assert all(n.endswith(".npy") for n in zf.namelist())
    doc = json.loads((d / f"{category}.json").read_text())
    assert doc["format"] == "crossingguard-textmodel/1"
    assert 0 < doc["threshold"] < 1
    assert doc["threshold_choice"]["precision_target"] > 0.5


def test_shipped_models_are_small():
    # Every model file under 5 MB, heads.npz under 4.9 MB. heads.npz is mostly the seed posts'
    # vectors (the nearest-neighbour member's bank, the kernel member's support vectors by row):
    # round seven stores them at 4 bits a component (192 bytes a post plus a float32 scale;
    # classifiers.heads.quantize_rows4), 3.84 MB for round six's 14,650 posts where int8 made it
    # 6.5 MB; round eight's posts bring it to 4.08 MB, round nine's (2,360) to 4.53 MB. The bound
    # catches a return to int8 or float16 rows (6.5 MB, 11 MB), and leaves room for about 1,800
    # more posts under the 5 MB every file must stay under. kernel.npz holds row numbers into them.
    models = default_model_dir()
    sizes = {p.name: p.stat().st_size for p in models.glob("*.npz")}
    with np.load(models / "heads.npz") as z:
        assert z["knn_vectors4"].dtype == np.uint8
    assert all(size < 5_000_000 for size in sizes.values()), sizes
    assert sizes["heads.npz"] < 4_900_000, sizes
    assert sizes.get("kernel.npz", 0) < 500_000


def test_memory_budget(models):
    assert models.memory_bytes() < 150_000_000


def test_loading_a_pickled_array_is_refused(tmp_path):
    m = CategoryModel.load(default_model_dir(), "threat")
    m.save(tmp_path)
    np.savez(tmp_path / "threat.npz", vocab=np.array([{"x": 1}], dtype=object),
             idf=m.idf, coef=m.coef)
    with pytest.raises(ModelFileError):
        CategoryModel.load(tmp_path, "threat")


def test_missing_model_dir_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="no model files"):
        TextModels.load(tmp_path)


def test_aux_model_is_folded_into_one_linear_decision():
    # threat ships main + AUX_WEIGHT x side model as one coefficient vector: check the sum
    texts = ["hang them all", "lock them up", "they should be shot", "impeach him now", "have a nice day",
             "see you later", "execute the traitors", "jail them all"] * 4
    labels = [1, 0, 1, 0, 0, 0, 1, 0] * 4
    aux = [1, 0, 1, 0, None, None, 1, 0] * 4
    norm = [normalize_text(t) for t in texts]
    vec, folded = _fit(norm, labels, min_df=1, aux=aux)
    _, plain = _fit(norm, labels, min_df=1)
    X = vec.transform(norm)
    rows = [i for i, a in enumerate(aux) if a is not None]
    side = LogisticRegression(C=fit.AUX_C, max_iter=3000, class_weight="balanced").fit(
        X[rows], [aux[i] for i in rows])
    np.testing.assert_allclose(folded.decision(X), plain.decision(X) + fit.AUX_WEIGHT * side.decision_function(X),
                               rtol=1e-5, atol=1e-5)


_FOLD_TEXTS = ["you are so ugly", "have a great day", "ur a loser and everyone hates u", "nice game today",
               "shut up idiot", "see you at practice", "you stupid clown", "thanks for the help"] * 4
_FOLD_LABELS = [1, 0, 1, 0, 1, 0, 1, 0] * 4


def test_lsa_features_are_folded_into_one_linear_decision():
    # bullying appends LSA components as dense features; the shipped vector must give exactly the
    # decision of the logistic regression over [tf-idf, scale x tf-idf @ components.T]
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD
    norm = [normalize_text(t) for t in _FOLD_TEXTS]
    unlabelled = [normalize_text(t) for t in ("what a lovely game", "you clown", "see you at the game")]
    vec, folded = _fit(norm, _FOLD_LABELS, min_df=1, svd_k=4, unlabelled=unlabelled)
    _, plain = _fit(norm, _FOLD_LABELS, min_df=1)
    X = vec.transform(norm)
    comps = TruncatedSVD(4, random_state=fit.SEED % 2**31).fit(
        sp.vstack([X, vec.transform(unlabelled)]).tocsr()).components_
    Xa = sp.hstack([X, sp.csr_matrix(fit.SVD_SCALE * (X @ comps.T))]).tocsr()
    sk = LogisticRegression(C=fit.C, max_iter=3000, class_weight="balanced").fit(Xa, _FOLD_LABELS)
    # (lbfgs stops at its tolerance: two fits of the same problem agree to about 1e-4)
    np.testing.assert_allclose(folded.decision(X), sk.decision_function(Xa), rtol=1e-3, atol=1e-3)
    assert not np.allclose(folded.decision(X), plain.decision(X))   # the dense part does contribute


def test_scoring_matches_scikit_learn_exactly(tmp_path):
    """Our vocabulary lookup must reproduce TfidfVectorizer + LogisticRegression decisions."""
    texts = ["you are so ugly", "have a great day", "ur a loser and everyone hates u", "nice game today",
             "shut up idiot", "see you at practice", "you stupid clown", "thanks for the help"] * 5
    labels = [1, 0, 1, 0, 1, 0, 1, 0] * 5
    norm = [normalize_text(t) for t in texts]
    vec, clf = _fit(norm, labels, min_df=1)
    m = CategoryModel("bullying", vec.get_feature_names_out().tolist(), vec.idf_.astype(np.float32),
                      clf.coef.astype(np.float32), float(clf.intercept),
                      {"method": "platt", "a": 1.0, "b": 0.0}, 0.5)
    m.save(tmp_path)
    tm = TextModels.load(tmp_path)
    probe = ["u r so ugly lol", "great practice today", "idiot", "", "zzz unseen words"]
    ours = tm.decision([normalize_text(t) for t in probe])[:, 0]
    X = vec.transform([normalize_text(t) for t in probe])
    sk = LogisticRegression(C=fit.C, max_iter=3000, class_weight="balanced").fit(vec.transform(norm), labels)
    np.testing.assert_allclose(clf.decision(X), sk.decision_function(X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours, sk.decision_function(X), rtol=1e-4, atol=1e-4)
    assert analyze("ab") == ["#ab", " ab", "ab ", " ab "]


POSITIVES = [
    ("bullying", "you are so ugly and stupid"),
    ("bullying", "shut up you fat loser nobody likes you"),
    ("bullying", "ur such an idiot, everyone hates you"),
    ("threat", "i am going to kill you tomorrow"),
    ("threat", "hang them all, those traitors deserve to die"),
    ("self_harm", "i want to kill myself, i cant do this anymore"),
    ("self_harm", "i feel so empty and worthless, i just want to end it all"),
]


def _obfuscations(text):
    words = text.split()
    leet = text.translate(str.maketrans({"o": "0", "e": "3", "a": "4", "s": "5", "i": "1"}))
    spaced = " ".join(" ".join(w) if len(w) >= 4 and w.isalpha() else w for w in words[:4]) + " " + " ".join(words[4:])
    stretched = " ".join(w[:2] + w[2] * 4 + w[3:] if len(w) > 3 else w for w in words)
    upper = text.upper()
    return {"leet": leet, "spaced": spaced.strip(), "stretched": stretched, "upper": upper}


@pytest.mark.parametrize("category,text", POSITIVES)
def test_obfuscated_variants_score_within_0_1(models, category, text):
    base = float(models.predict_proba([text])[category][0])
    variants = _obfuscations(text)
    got = models.predict_proba(list(variants.values()))[category]
    for (kind, variant), p in zip(variants.items(), got):
        assert abs(float(p) - base) <= 0.1, (kind, variant, base, float(p))


@pytest.mark.parametrize("category,text", POSITIVES)
def test_positives_score_above_negatives(models, category, text):
    p = models.predict_proba([text, "see you at lunch, thanks for the notes"])[category]
    assert p[0] > p[1]


@pytest.mark.parametrize("text,category", [
    ("I will shoot up the school", "threat"),
    ("im gonna stab him tomorrow", "threat"),
    ("I'm going to kill myself", "self_harm"),
    ("i want to die", "self_harm"),
    ("i cut myself again", "self_harm"),
])
def test_plain_statements_are_over_threshold(models, text, category):
    assert models.predict_proba([text])[category][0] >= models.thresholds[category]


def test_negation_lowers_the_score(models):
    p = models.predict_proba(["I'm going to kill myself", "I would never kill myself"])["self_harm"]
    assert p[1] < models.thresholds["self_harm"] < p[0]


@pytest.mark.parametrize("text,category,needle", [
    ("@Jay u r s0 UGLY and stuuupid", "bullying", "UGLY"),
    ("honestly I will SHOOT UP the school tmrw", "threat", "I will SHOOT UP the school"),
    ("Ι wаnt tо kіll mysеlf", "self_harm", "Ι wаnt tо kіll mysеlf"),
])
def test_evidence_spans_point_into_the_original(models, text, category, needle):
    ev = models.evidence(text, category)
    assert ev, "no evidence"
    for e in ev:
        assert e.category == category
        assert text[e.start:e.end] == e.text
    assert any(needle in e.text or e.text in needle for e in ev)


def test_batch_and_single_agree(models):
    texts = ["you are so ugly", "i want to die", "have a nice day", "I will shoot up the school"]
    batch = models.predict_proba(texts)
    for i, t in enumerate(texts):
        one = models.predict_proba([t])
        for c in TEXT_CATEGORIES:
            assert abs(float(one[c][0]) - float(batch[c][i])) < 1e-9


def test_one_post_decision_is_the_small_batch_arithmetic(models):
    """decision([text]) takes a short cut for one post; it must add the same numbers in the same
    order as the path for a few posts (numpy reduceat), to the bit, and give the same for 8 or
    more posts (scipy) after the pipeline's rounding."""
    from tests.classifiers.test_pipeline_batch import corpus

    texts = [normalize_text(p.text) for p in corpus(60)]
    for a, b in zip(texts, texts[1:] + texts[:1]):
        one = models.decision([a])
        assert np.array_equal(one, models.decision([a, b])[:1]), a[:80]
        assert np.array_equal(one, models.decision([b, a])[1:]), a[:80]
    many = models.decision(texts)
    singles = np.vstack([models.decision([t]) for t in texts])
    assert np.allclose(many, singles, rtol=0, atol=1e-12)


def test_a_score_does_not_depend_on_its_batch(models):
    """A post's rounded scores are the same alone and in a batch of 8 or more (the sparse
    product path), so a score at a threshold cannot be labelled by its neighbours. In float32
    this post scored self_harm 0.1673 in a batch of 11 and 0.1672 alone."""
    texts = ["why are you even alive"] + [f"post number {i} about the game tonight" for i in range(10)]
    batch = models.predict_proba(texts)
    for i, t in enumerate(texts):
        one = models.predict_proba([t])
        for c in TEXT_CATEGORIES:
            assert round(float(one[c][0]), 4) == round(float(batch[c][i]), 4), (t, c)
            assert abs(float(one[c][0]) - float(batch[c][i])) < 1e-12


def test_score_calibrates_like_each_category_alone():
    """score() calibrates all categories in one numpy pass; each value must be exactly what the
    per-category calibration gives (same operations, element by element). The TF-IDF models
    alone: the encoder ensemble (tests/classifiers/test_encoder.py) changes the values on purpose."""
    from classifiers.normalize import normalize
    from classifiers.patterns import tone
    from tests.classifiers.test_pipeline_batch import corpus

    models = TextModels.load(encoder=False)
    texts = [p.text for p in corpus(80)]
    texts = [t for t in texts if not any(tone(normalize(t).text))]   # no hyperbole/teasing damping
    for batch in (texts[:1], texts[:5], texts):
        norms = [normalize(t, offsets=False) for t in batch]
        d = models.decision([n.text for n in norms])
        probs, hits = models.score(norms)
        for i, c in enumerate(models.categories):
            alone = models._calibrate(c, d[:, i])
            plain = np.array([not h for h in hits])          # posts without an intent pattern
            assert np.array_equal(probs[c][plain], alone[plain]), c
