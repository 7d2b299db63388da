"""Round five (classifiers/train/heads.py, classifiers/heads.py, classifiers/train/writers.py,
classifiers/pipeline.py): seed posts grouped by writer (one seed file, one writer) for every
out-of-fold decision, the leave-one-writer-out figures, the nearest-neighbour member over the seed
posts' vectors, and extortion/leakage rules on help-seeking posts."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from classifiers.heads import Heads, HeadsFileError, knn_margin
from classifiers.textmodels import default_model_dir
from classifiers.train import heads as train_heads
from classifiers.train import writers


def _write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("text", "category", "label", "kind"))
        w.writerows(rows)
    return path


# --- writers as folds ----------------------------------------------------------------------------

def test_every_seed_knows_its_writer_and_each_writer_is_one_fold(monkeypatch):
    monkeypatch.setattr(train_heads, "FOLDS_BY", "writer")
    seeds = train_heads.read_seeds()
    names = [f.stem for f in train_heads.seed_files()]
    assert {s.writer for s in seeds} == set(names)
    folds = train_heads.seed_folds(seeds)
    for name in names:
        assert len({int(f) for s, f in zip(seeds, folds) if s.writer == name}) == 1, name
    assert len(set(folds.tolist())) == len(names)


def test_hash_folds_are_round_fours(monkeypatch):
    seeds = train_heads.read_seeds()[:300]
    monkeypatch.setattr(train_heads, "FOLDS_BY", "hash")
    assert train_heads.seed_folds(seeds).tolist() == [train_heads.seed_fold(s.text) for s in seeds]


def test_leaving_a_writer_out_drops_its_file_and_only_inside_the_block():
    before = train_heads.read_seeds()
    with train_heads.leave_writers_out("r4a"):
        inside = train_heads.read_seeds()
        assert "r4a" not in {f.stem for f in train_heads.seed_files()}
    assert {s.writer for s in inside} == {s.writer for s in before} - {"r4a"}
    assert len(inside) == len(before) - sum(s.writer == "r4a" for s in before)
    assert train_heads.read_seeds() == before


def test_a_text_two_writers_share_belongs_to_the_first(tmp_path):
    a = _write(tmp_path / "a.csv", [("same post", "none", "0", "ordinary")])
    b = _write(tmp_path / "b.csv", [("same post", "none", "0", "slang"), ("other", "threat", "1", "threat")])
    seeds = train_heads.read_seeds([a, b])
    assert [(s.text, s.writer) for s in seeds] == [("same post", "a"), ("other", "b")]


# --- the report ------------------------------------------------------------------------------------

def test_writer_report_counts_recall_false_labels_and_help_posts_labelled_misconduct():
    S = train_heads.Seed
    rows = [S("a", "bullying", 1, "bullying", "w"), S("b", "bullying", 1, "bullying", "w"),
            S("c", "self_harm", 1, "concern", "w"), S("d", "none", 0, "help", "w"),
            S("e", "none", 0, "help", "w"), S("f", "none", 0, "slang", "w")]
    labels = [["bullying"], [], ["self_harm"], ["self_harm"], [], ["bullying"]]
    rep = writers.report(rows, labels)
    assert rep["recall"]["bullying"]["rate"] == 0.5 and rep["recall"]["self_harm"]["rate"] == 1.0
    assert rep["recall"]["threat"]["n"] == 0
    assert rep["false_labels"]["help"]["rate"] == 0.5 and rep["false_labels"]["slang"]["rate"] == 1.0
    assert rep["false_labels"]["all"]["rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert rep["help_misconduct"] == 0
    assert [m["text"] for m in writers.misses(rows, labels)] == ["b", "d", "f"]


# --- the nearest-neighbour member ------------------------------------------------------------------

def test_knn_margin_is_mean_top_k_positive_minus_mean_top_k_negative():
    bank = np.eye(4, dtype=np.float32)
    v = np.array([[0.8, 0.6, 0.0, 0.0]], dtype=np.float32)
    label = np.array([1, 1, 0, -1], dtype=np.int8)          # row 3 takes no part
    # positives: sims 0.8, 0.6; negative: 0.0
    assert knn_margin(v, bank, label, 1) == pytest.approx([0.8])
    assert knn_margin(v, bank, label, 2) == pytest.approx([0.7])
    assert knn_margin(v, bank, label, 5) == pytest.approx([0.7])   # fewer rows than k: all of them
    assert knn_margin(v, bank, np.array([-1, -1, -1, -1], dtype=np.int8), 3) == pytest.approx([0.0])


def test_shipped_knn_bank_is_the_seed_posts():
    doc = json.loads((default_model_dir() / "heads.json").read_text())
    heads = Heads.load(default_model_dir())
    assert heads.knn_bank is not None and heads.knn_bank.shape == (len(train_heads.read_seeds()), 384)
    assert heads.knn_k == doc["knn"]["k"] > 0
    assert (heads.knn_labels["bullying"] == -1).sum() == sum(s.category == "threat" for s in train_heads.read_seeds())
    norms = np.linalg.norm(heads.knn_bank, axis=1)
    assert np.allclose(norms, 1.0, atol=2e-3)                # unit vectors, stored as int8 + scale (round six)


def test_a_knn_label_of_the_wrong_length_is_refused(tmp_path):
    for name in ("heads.json", "heads.npz"):
        shutil.copy(default_model_dir() / name, tmp_path / name)
    with np.load(tmp_path / "heads.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["knn_label_threat"] = arrays["knn_label_threat"][:-1]
    np.savez(tmp_path / "heads.npz", **arrays)
    with pytest.raises(HeadsFileError, match="knn_label_threat"):
        Heads.load(tmp_path)


# --- round six: the seed vectors as int8 with a scale per vector ----------------------------------

@pytest.mark.parametrize("seed,dim", [(0, 384), (1, 8), (2, 1)])
def test_quantized_rows_are_within_half_a_step(seed, dim):
    from classifiers.heads import dequantize_rows, quantize_rows
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(50, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[0] = 0.0                                              # a zero row stays zero
    q, scale = quantize_rows(v)
    assert q.dtype == np.int8 and scale.dtype == np.float32 and scale.shape == (50,)
    assert (np.abs(q).max(axis=1)[1:] == 127).all()         # each row's largest component uses the range
    back = dequantize_rows(q, scale)
    assert (np.abs(back - v) <= scale[:, None] / 2 * (1 + 1e-5)).all()
    assert not back[0].any()


def _heads_with(tmp_path, change):
    for f in default_model_dir().iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    with np.load(tmp_path / "heads.npz") as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(tmp_path / "heads.npz", **arrays)
    return tmp_path


def test_shipped_seed_vectors_are_int8_with_a_scale_each():
    with np.load(default_model_dir() / "heads.npz") as z:
        assert z["knn_vectors"].dtype == np.int8 and z["knn_scale"].shape == (z["knn_vectors"].shape[0],)


def test_round_five_float16_seed_vectors_still_load(tmp_path):
    """A float16 bank without scales (round five's layout) loads as it was stored."""
    from classifiers.heads import dequantize_rows

    def to_float16(a):
        a["knn_vectors"] = dequantize_rows(a["knn_vectors"], a.pop("knn_scale")).astype(np.float16)
    heads = Heads.load(_heads_with(tmp_path, to_float16))
    with np.load(tmp_path / "heads.npz") as z:
        assert np.array_equal(heads.knn_bank, z["knn_vectors"].astype(np.float32))


@pytest.mark.parametrize("change,match", [
    (lambda a: a.pop("knn_scale"), "knn_scale: missing"),
    (lambda a: a.update(knn_scale=a["knn_scale"][:-1]), "knn_scale .* do not fit"),
    (lambda a: a.update(knn_vectors=a["knn_vectors"][:, :, None]), "knn_vectors: shape"),
])
def test_a_broken_seed_bank_is_refused_and_the_tfidf_models_score_alone(tmp_path, caplog, change, match):
    from classifiers.textmodels import TextModels
    directory = _heads_with(tmp_path, change)
    with pytest.raises(HeadsFileError, match=match):
        Heads.load(directory)
    models = TextModels.load(directory)
    assert models.heads is None and models.thresholds == models.tfidf_thresholds
    assert "knn_" in models.encoder_error


# --- extortion and leakage on help-seeking posts ------------------------------------------------------

@pytest.fixture(scope="module")
def clf():
    from classifiers.pipeline import Classifier
    from classifiers.textmodels import TextModels
    return Classifier(TextModels.load())


@pytest.mark.parametrize("text", [
    "some account screenrecorded my snap and wants $40 on venmo by 9 or they post it. im 13 do i pay or tell my parents",
    "a guy says i have 1 hour to send gift cards or it goes on my school page. what do i do",
    "someone wrote watch the news friday on the bathroom stall, who do i tell",
])
def test_a_victims_report_of_extortion_or_leakage_is_never_a_threat(clf, text):
    from classifiers.types import PostInput
    c = clf.classify([PostInput(text)])[0]
    assert c.help_seeking and not {"bullying", "threat"} & set(c.labels), (c.labels, c.scores)


@pytest.mark.parametrize("text", ["send 200 on cashapp by tonight or ur pics go to ur whole group chat",
                                  "remember i said this when u see our school on tv"])
def test_the_extortion_and_leakage_themselves_are_threats(clf, text):
    from classifiers.types import PostInput
    assert "threat" in clf.classify([PostInput(text)])[0].labels


# --- kind gates over plain patterns (threat, bullying) ------------------------------------------------

def test_gate_override_policy_is_written_down():
    from classifiers import pipeline
    assert "self_harm" not in pipeline.GATE_OVERRIDES            # a disclosure keeps its label
    assert {"bringing_weapon", "weapon_to_school", "i_will_attack_school", "extortion"} <= pipeline.GATE_KEEPS


@pytest.mark.parametrize("text", [
    "bringing my dads gun to school tomorrow lmao 😂 yall better hide",
    "im bringing a knife to the pep rally friday, im so done with this school 😂",
])
def test_a_weapon_statement_keeps_its_threat_label_whatever_the_gates_say(clf, text):
    from classifiers.types import PostInput
    assert "threat" in clf.classify([PostInput(text)])[0].labels
