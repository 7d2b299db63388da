"""The kernel member (round five): numpy decisions equal scikit-learn's, the file round trip,
folds by writer, and the fallback when its file is missing."""
from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
from sklearn.svm import SVC

from classifiers.heads import Heads, HeadsFileError
from classifiers.kernel import KERNEL_FILE, KernelFileError, KernelMember, rbf_decision, save_kernel
from classifiers.textmodels import TextModels, default_model_dir
from classifiers.train.kernel import oof_decisions, writer_folds


def unit_rows(rng, n, dim):
    x = rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def fitted(seed, n=300, dim=24, C=3.0, gamma=1.0):
    rng = np.random.default_rng(seed)
    X = unit_rows(rng, n, dim)
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0.2).astype(int)
    return SVC(C=C, kernel="rbf", gamma=gamma, class_weight="balanced").fit(X, y), unit_rows(rng, 50, dim)


@pytest.mark.parametrize("seed,n,dim,C,gamma", [
    (0, 300, 24, 3.0, 1.0),
    (1, 200, 384, 1.0, 0.5),
    (2, 400, 16, 10.0, 2.0),
    (3, 120, 64, 0.5, 4.0),
])
def test_numpy_decision_equals_sklearn(seed, n, dim, C, gamma):
    m, Z = fitted(seed, n, dim, C, gamma)
    got = rbf_decision(Z, m.support_vectors_, m.dual_coef_[0], float(m.intercept_[0]), gamma)
    np.testing.assert_allclose(got, m.decision_function(Z), rtol=0, atol=1e-6)
    # and the sign is the sklearn one: positive is the class labelled 1
    assert np.array_equal(got > 0, m.predict(Z) == 1)


def arrays(m, gamma):
    return {"sv": m.support_vectors_, "dual": m.dual_coef_[0], "intercept": float(m.intercept_[0]), "gamma": gamma}


@pytest.mark.parametrize("dtype,atol", [(np.float32, 1e-4), (np.float16, 5e-2)])
def test_save_load_round_trip(tmp_path, dtype, atol):
    a, Z = fitted(4)
    b, _ = fitted(5, gamma=2.0)
    path = tmp_path / KERNEL_FILE
    save_kernel(path, {"threat": arrays(a, 1.0), "bullying": arrays(b, 2.0)}, dtype=dtype)
    km = KernelMember.load(path, ["threat", "bullying"])
    assert km.categories == ("threat", "bullying") and km.gamma == {"threat": 1.0, "bullying": 2.0}
    # exactly the decision of the stored (rounded) support vectors ...
    rounded = a.support_vectors_.astype(dtype)
    np.testing.assert_allclose(km.decision("threat", Z), rbf_decision(Z, rounded.astype(np.float64),
                               a.dual_coef_[0], float(a.intercept_[0]), 1.0), atol=1e-5)
    # ... and close to sklearn's within the storage precision
    got = km.decisions(Z, ["bullying", "self_harm", "threat"])
    np.testing.assert_allclose(got[:, 2], a.decision_function(Z), atol=atol)
    np.testing.assert_allclose(got[:, 0], b.decision_function(Z), atol=atol)
    assert not got[:, 1].any()      # a category without a model adds nothing


def test_partial_save_keeps_the_other_categories(tmp_path):
    a, Z = fitted(6)
    b, _ = fitted(7)
    path = tmp_path / KERNEL_FILE
    save_kernel(path, {"threat": arrays(a, 1.0), "bullying": arrays(b, 1.0)})
    save_kernel(path, {"threat": arrays(b, 1.0)}, keep=["bullying"])
    km = KernelMember.load(path, ["threat", "bullying"])
    np.testing.assert_allclose(km.decision("threat", Z), km.decision("bullying", Z))


@pytest.mark.parametrize("drop,match", [("sv_threat", "svi_threat: missing"), ("meta_threat", "meta_threat: missing")])
def test_a_missing_array_is_named(tmp_path, drop, match):
    a, _ = fitted(8)
    path = tmp_path / KERNEL_FILE
    save_kernel(path, {"threat": arrays(a, 1.0)})
    with np.load(path) as z:
        kept = {k: z[k] for k in z.files if k != drop}
    np.savez(path, **kept)
    with pytest.raises(KernelFileError, match=match):
        KernelMember.load(path, ["threat"])


@pytest.mark.parametrize("writers,n_splits", [
    (["a"] * 5 + ["b"] * 3 + ["c"] * 4 + ["d"] * 2, 3),
    (["w1", "w2", "w3", "w1", "w2", "w3", "w4"], 4),
    (["x"] * 3 + ["y"] * 3, 6),          # fewer writers than folds: one writer a fold
])
def test_writer_folds_keep_every_writer_in_one_fold(writers, n_splits):
    folds = writer_folds(writers, n_splits)
    assert (folds >= 0).all()
    for w in set(writers):
        assert len({int(f) for f, x in zip(folds, writers) if x == w}) == 1
    assert len(set(folds.tolist())) == min(n_splits, len(set(writers)))


def test_every_seed_has_a_writer_and_the_folds_split_writers():
    from classifiers.train.heads import read_seeds
    seeds = read_seeds()
    assert all(s.writer for s in seeds)
    w = [s.writer for s in seeds]
    assert len(set(w)) >= 10
    folds = writer_folds(w)
    for k in set(folds.tolist()):
        # no writer both in the fold scored out of fold and in its training rows
        assert not {x for x, f in zip(w, folds) if f == k} & {x for x, f in zip(w, folds) if f != k}


def test_out_of_fold_decisions_never_see_the_writer():
    rng = np.random.default_rng(9)
    X = unit_rows(rng, 90, 8)
    y = (X[:, 0] > 0).astype(int)
    writers = np.repeat(["a", "b", "c"], 30)
    folds = writer_folds(writers, 3)
    got = oof_decisions(X, y, folds, 3.0, 1.0)
    for k in range(3):
        te = folds == k
        m = SVC(C=3.0, kernel="rbf", gamma=1.0, class_weight="balanced").fit(X[~te], y[~te])
        np.testing.assert_allclose(got[te], m.decision_function(X[te]))
        # and differ from a fit that saw the writer (its own rows are support vectors there)
    full = SVC(C=3.0, kernel="rbf", gamma=1.0, class_weight="balanced").fit(X, y).decision_function(X)
    assert not np.allclose(got, full)


def shipped_copy(tmp_path, without=()):
    for f in default_model_dir().iterdir():
        if f.is_file() and f.name not in without:
            shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_shipped_heads_use_the_kernel_member():
    heads = Heads.load(default_model_dir())
    from classifiers.train.heads import KERNEL_CATEGORIES
    assert heads.kernel is not None and set(heads.kernel.categories) == set(KERNEL_CATEGORIES)
    with_kernel = np.array([c in KERNEL_CATEGORIES for c in heads.categories])
    assert (heads.kernel_w[with_kernel] > 0).all() and (heads.kernel_w[~with_kernel] == 0).all()
    # the support vectors are the seed posts' own vectors: unit length (float16 rounding aside),
    # each held once however many categories use it
    bank = heads.kernel.bank
    np.testing.assert_allclose(np.linalg.norm(bank, axis=1), 1.0, atol=2e-3)
    per_category = [heads.meta["categories"][c]["kernel"]["support_vectors"] for c in KERNEL_CATEGORIES]
    assert max(per_category) <= len(bank) < sum(per_category)
    assert len(np.unique(bank, axis=0)) == len(bank)


def test_a_missing_kernel_file_falls_back_to_the_tfidf_models(tmp_path, caplog):
    directory = shipped_copy(tmp_path, without={KERNEL_FILE})
    with pytest.raises(HeadsFileError, match=KERNEL_FILE):
        Heads.load(directory)
    with caplog.at_level(logging.ERROR):
        models = TextModels.load(directory)
    assert models.heads is None and KERNEL_FILE in models.encoder_error
    lines = [r for r in caplog.records if r.name == "classifiers.heads"]
    assert len(lines) == 1 and "score alone" in lines[0].getMessage()
    assert models.thresholds == models.tfidf_thresholds
    texts = ["i will kill you", "see you at lunch"]
    alone = TextModels.load(directory, encoder=False).predict_proba(texts)
    got = models.predict_proba(texts)
    for c in models.categories:
        assert np.array_equal(got[c], alone[c])


def test_a_member_built_by_hand_builds_its_bank_at_first_use():
    a, Z = fitted(10)
    b, _ = fitted(11, gamma=2.0)
    km = KernelMember(sv={"threat": a.support_vectors_, "bullying": b.support_vectors_},
                      dual={"threat": a.dual_coef_[0], "bullying": b.dual_coef_[0]},
                      intercept={"threat": float(a.intercept_[0]), "bullying": float(b.intercept_[0])},
                      gamma={"threat": 1.0, "bullying": 2.0})
    got = km.decisions(Z, ["threat", "bullying"])
    np.testing.assert_allclose(got[:, 0], a.decision_function(Z), atol=1e-9)
    np.testing.assert_allclose(got[:, 1], b.decision_function(Z), atol=1e-9)
    # one row per distinct support vector (different random data: none shared)
    assert len(km.bank) == len(a.support_vectors_) + len(b.support_vectors_)


def test_support_vectors_stored_as_seed_rows_load_the_same(tmp_path):
    """Round six: a support vector that is a seed-post vector is stored as its row in heads.npz's
    knn_vectors; one that is not stays a vector (sv_<c>), and both resolve to the same decisions."""
    a, Z = fitted(12)
    sv16 = a.support_vectors_.astype(np.float16)
    rng = np.random.default_rng(13)
    others = unit_rows(rng, 40, sv16.shape[1]).astype(np.float16)
    # the seed bank holds all but the first three support vectors, in another order
    bank = np.vstack([others, sv16[3:][::-1]])
    path = tmp_path / KERNEL_FILE
    not_seed = save_kernel(path, {"threat": arrays(a, 1.0)}, seed_vectors=bank)
    assert not_seed == {"threat": 3}
    with np.load(path) as z:
        idx = z["svi_threat"]
        assert (idx[:3] == -1).all() and (idx[3:] >= len(others)).all() and z["sv_threat"].shape[0] == 3
    want = rbf_decision(Z, sv16.astype(np.float64), a.dual_coef_[0], float(a.intercept_[0]), 1.0)
    got = KernelMember.load(path, ["threat"], bank.astype(np.float32)).decision("threat", Z)
    np.testing.assert_array_equal(got, KernelMember(sv={"threat": sv16}, dual={"threat": a.dual_coef_[0]},
                                                    intercept={"threat": float(a.intercept_[0])},
                                                    gamma={"threat": 1.0}).decision("threat", Z))
    np.testing.assert_allclose(got, want, atol=1e-9)


@pytest.mark.parametrize("seed_vectors,match", [
    (None, "no seed vectors"),
    (np.zeros((5, 24), dtype=np.float32), "outside the 5 seed vectors"),
])
def test_seed_rows_without_their_seed_vectors_are_a_clear_error(tmp_path, seed_vectors, match):
    a, _ = fitted(14)
    path = tmp_path / KERNEL_FILE
    save_kernel(path, {"threat": arrays(a, 1.0)}, seed_vectors=a.support_vectors_.astype(np.float16))
    with pytest.raises(KernelFileError, match=match):
        KernelMember.load(path, ["threat"], seed_vectors)


def test_partial_save_re_indexes_the_kept_category_against_the_new_seed_vectors(tmp_path):
    a, Z = fitted(15)
    b, _ = fitted(16)
    old_bank = np.vstack([a.support_vectors_, b.support_vectors_]).astype(np.float16)
    path = tmp_path / KERNEL_FILE
    save_kernel(path, {"threat": arrays(a, 1.0), "bullying": arrays(b, 1.0)}, seed_vectors=old_bank)
    before = KernelMember.load(path, ["bullying"], old_bank).decision("bullying", Z)
    new_bank = old_bank[::-1].copy()        # a retraining that reorders the seed posts
    save_kernel(path, {"threat": arrays(a, 1.0)}, keep=["bullying"], seed_vectors=new_bank, old_seed_vectors=old_bank)
    np.testing.assert_array_equal(KernelMember.load(path, ["bullying"], new_bank).decision("bullying", Z), before)


def test_shipped_kernel_support_vectors_are_all_seed_rows():
    with np.load(default_model_dir() / KERNEL_FILE) as z:
        assert not [n for n in z.files if n.startswith("sv_")]
        assert all(z[n].dtype == np.int32 and (z[n] >= 0).all() for n in z.files if n.startswith("svi_"))
    assert (default_model_dir() / KERNEL_FILE).stat().st_size < 200_000
