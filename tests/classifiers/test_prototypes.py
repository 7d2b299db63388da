"""The prototype-similarity member of the ensemble (classifiers/heads.py) and how it is trained
(classifiers/train/heads.py): soft maximum, the features per category, the shipped bank agreeing
with its CSV, the stacking weights and the recall-first threshold rule."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil

import numpy as np
import pytest

from classifiers.encoder import Encoder, EncoderUnavailable
from classifiers.heads import NEGATIVE_KINDS, Heads, HeadsFileError, knn_margin, proto_features, soft_max_similarity
from classifiers.textmodels import default_model_dir
from classifiers.train import heads as train_heads


@pytest.fixture(scope="module")
def encoder():
    try:
        return Encoder()
    except EncoderUnavailable as exc:   # pragma: no cover - the package is a project dependency
        pytest.fail(f"encoder must load in the test environment: {exc}")


@pytest.mark.parametrize("sims, tau, want", [
    ([[0.5]], 0.02, 0.5),                               # one prototype: its similarity
    ([[0.3, 0.3, 0.3]], 0.02, 0.3),                     # all alike: that value
    ([[0.9, 0.1, 0.1, 0.1]], 0.001, 0.9),               # a cold soft maximum is the maximum
])
def test_soft_max_similarity(sims, tau, want):
    assert soft_max_similarity(np.array(sims), tau)[0] == pytest.approx(want, abs=0.01)


def test_soft_max_lies_between_mean_and_max_and_rewards_several_close_prototypes():
    one = soft_max_similarity(np.array([[0.8, 0.2, 0.2]]))[0]
    two = soft_max_similarity(np.array([[0.8, 0.8, 0.2]]))[0]
    assert 0.4 < one <= 0.8 and one < two <= 0.8
    assert soft_max_similarity(np.zeros((3, 0))).tolist() == [0.0, 0.0, 0.0]


def test_proto_features_read_the_category_and_the_hard_negatives():
    bank = np.eye(4)
    kinds = ("threat", "self_harm", "hyperbole", "game")
    f = proto_features(np.eye(4), bank, kinds, "threat")
    # row 0 is the threat prototype itself; rows 2 and 3 are hard negatives
    assert f[0, 0] > f[1, 0] and f[0, 1] < f[2, 1]
    assert f[2, 1] == pytest.approx(f[3, 1])
    # self-harm prototypes are neither threat prototypes nor hard negatives for threat
    assert f[1, 0] == pytest.approx(f[2, 0]) and f[1, 1] == pytest.approx(f[0, 1])


def test_the_shipped_bank_is_its_csv_embedded(encoder):
    doc = json.loads((default_model_dir() / "heads.json").read_text())
    rows = train_heads.read_prototypes()
    meta = doc["prototypes"]
    assert meta["sha256"] == hashlib.sha256(train_heads.prototypes_path().read_bytes()).hexdigest()
    assert meta["kinds"] == [k for _, k in rows]
    assert set(meta["kinds"]) == {"bullying", "threat", "self_harm", *NEGATIVE_KINDS}
    heads = Heads.load(default_model_dir())
    assert heads.bank.shape == (len(rows), 384)
    # the vectors are the encoder's first window of the normalized prototype text
    for i in (0, len(rows) // 2, len(rows) - 1):
        want = encoder.encode(train_heads.prepare([rows[i][0]]), first_only=True).vectors[0]
        assert np.array_equal(heads.bank[i].astype(np.float32), want), rows[i][0]


def test_heads_refuse_a_bank_that_does_not_match_its_kinds(tmp_path):
    for name in ("heads.json", "heads.npz"):
        shutil.copy(default_model_dir() / name, tmp_path / name)
    doc = json.loads((tmp_path / "heads.json").read_text())
    doc["prototypes"]["kinds"] = doc["prototypes"]["kinds"][:-1]
    (tmp_path / "heads.json").write_text(json.dumps(doc))
    with pytest.raises(HeadsFileError, match="proto_vectors"):
        Heads.load(tmp_path)


def test_a_bad_prototype_kind_is_refused_with_file_and_line(tmp_path):
    from classifiers.datasets import DataFileError
    path = tmp_path / "prototypes.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerows([("text", "kind"), ("i will hurt you", "threat"), ("lol", "jokes")])
    with pytest.raises(DataFileError, match=r"prototypes.csv:3: kind"):
        train_heads.read_prototypes(path)


def test_prototype_member_moves_a_post_towards_its_nearest_prototypes(encoder):
    heads = Heads.load(default_model_dir())
    j = heads.categories.index("threat")
    assert heads.stack[j, 3] > 0 > heads.stack[j, 4]
    texts = train_heads.prepare(["im bringing a knife to school tomorrow for him", "this homework is killing me lol"])
    f = proto_features(encoder.encode(texts).vectors.astype(np.float64), heads.bank, heads.kinds, "threat")
    assert f[0, 0] - f[0, 1] > f[1, 0] - f[1, 1]


def test_long_post_encoder_part_is_its_most_concerning_window(encoder):
    heads = Heads.load(default_model_dir())
    calm = "we went to the library after class and then walked home, it was a normal day. " * 12
    worst = "i'm going to bring my dad's gun to school and shoot the kids who bullied me"
    enc = encoder.encode([calm + worst])
    j = heads.categories.index("threat")
    v = enc.vectors.astype(np.float64)
    f = proto_features(v, heads.bank, heads.kinds, "threat")
    per_window = ((v @ heads.coef[:, j] + heads.intercept[j]) * heads.stack[j, 1]
                  + heads.stack[j, 3] * f[:, 0] + heads.stack[j, 4] * f[:, 1]
                  + (v @ heads.seed_coef[:, j] + heads.seed_intercept[j]) * heads.stack[j, 5]
                  + heads.stack[j, 7] * knn_margin(v, heads.knn_bank, heads.knn_labels["threat"], heads.knn_k))
    if heads.kernel is not None and heads.kernel_w[j]:    # round five: the kernel member, per window too
        per_window = per_window + heads.kernel_w[j] * heads.kernel.decision("threat", v)
    got = heads.encoder_part(enc)[0, j]
    # 1e-5: the kNN member's float32 similarities come from one product per window at run time
    # and from one product for all windows here (summation order, float32 rounding)
    assert got == pytest.approx(per_window.max(), abs=1e-5) and got > per_window.mean()


def test_stack_weights_give_every_group_and_class_the_same_total():
    y = np.array([1] * 5 + [0] * 95 + [1] * 30 + [0] * 10)
    groups = np.array(["val"] * 100 + ["seeds"] * 40)
    w = train_heads.stack_sample_weights(y, groups)
    totals = [w[(groups == g) & (y == c)].sum() for g in ("val", "seeds") for c in (0, 1)]
    assert np.allclose(totals, len(y) / 4)


def test_stack_weights_hardly_depend_on_how_many_rows_a_group_has():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(80, 2))
    y = (Z[:, 0] + 0.5 * rng.normal(size=80) > 0).astype(int)
    groups = np.array(["val"] * 40 + ["seeds"] * 40)
    w1, _ = train_heads.fit_stack_weighted(Z, y, groups)
    # the seed rows three times over: the cells keep their shares (only the weak L2 term differs)
    idx = np.concatenate([np.arange(40), np.tile(np.arange(40, 80), 3)])
    w2, _ = train_heads.fit_stack_weighted(Z[idx], y[idx], groups[idx])
    assert np.allclose(w1, w2, rtol=0.02, atol=0.01)


@pytest.mark.parametrize("target, cap, want", [
    (0.75, 0.5, 0.6),     # recall 3 of 4 needs 0.6; the cap allows down to 0.25: recall wins
    (1.0, 0.25, 0.425),   # recall 4 of 4 needs 0.2; the 75% quantile of the hard negatives (one of four above) wins
])
def test_threshold_is_recall_first_within_the_hard_negative_cap(target, cap, want):
    labels = [1, 1, 1, 1, 0, 0, 0, 0, 0]
    scores = [0.9, 0.8, 0.6, 0.2, 0.5, 0.4, 0.1, 0.05, 0.3]
    hard = [False] * 4 + [True, True, True, True, False]
    thr, t_rec, floor = train_heads.threshold_recall_capped(labels, scores, hard, target, cap)
    assert thr == pytest.approx(want, abs=1e-6) and thr == max(t_rec, floor)


def test_seed_folds_are_stable_and_keep_repeats_together():
    texts = [f"post number {i}" for i in range(200)]
    folds = [train_heads.seed_fold(t) for t in texts]
    assert folds == [train_heads.seed_fold(t) for t in texts]
    assert set(folds) == set(range(train_heads.SEED_FOLDS))


def test_shipped_thresholds_follow_the_written_rule():
    doc = json.loads((default_model_dir() / "heads.json").read_text())
    for cat in ("threat", "self_harm", "bullying"):        # round four: bullying too
        ch = doc["categories"][cat]["threshold_choice"]
        assert doc["categories"][cat]["threshold"] == pytest.approx(max(ch["recall_threshold"], ch["cap_threshold"], ch.get("val_cap_threshold", 0.0)), abs=1e-4)
    assert doc["categories"]["bullying"]["members"] == ["tfidf", "proto_pos", "proto_neg", "seed_head", "seed_tfidf", "knn"]
    assert doc["encoder_input"] == "normalized text"
