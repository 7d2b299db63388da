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


# --- the seed vectors: round seven's 4 bits a component, round six's int8, round five's float16 --------

@pytest.mark.parametrize("seed,dim", [(0, 384), (1, 8), (2, 1)])
def test_quantized_rows_are_within_half_a_step(seed, dim):
    """Round six's int8 layout (still read: old model folders load)."""
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


def _unit_rows(rng, n, dim, mean=0.0):
    v = (rng.normal(size=(n, dim)) + mean).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("seed,dim", [(0, 384), (1, 7), (2, 2)])
def test_4bit_rows_pack_two_codes_a_byte_and_come_back_as_unit_rows(seed, dim):
    from classifiers.heads import dequantize_rows4, quantize_rows4
    rng = np.random.default_rng(seed)
    v = _unit_rows(rng, 60, dim, mean=rng.normal(size=dim) * 0.5)   # a shared offset, as encoder vectors have
    packed, scale, offset = quantize_rows4(v)
    assert packed.dtype == np.uint8 and packed.shape == (60, (dim + 1) // 2)
    assert scale.dtype == offset.dtype == np.float32 and scale.shape == (60,) and offset.shape == (dim,)
    np.testing.assert_allclose(offset, v.mean(axis=0), atol=1e-6)
    codes = np.empty((60, packed.shape[1] * 2), dtype=np.float32)
    codes[:, 0::2], codes[:, 1::2] = packed & 15, packed >> 4     # the even component in the low nibble
    assert codes[:, :dim].max() == 15 and codes[:, :dim].min() == 0   # all 16 levels in use
    back = dequantize_rows4(packed, scale, offset)
    assert back.shape == v.shape and back.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-6)
    # before the rows are made unit again, each component is within half a step of its value,
    # except the few a row's scale clips
    raw = offset + (codes[:, :dim] - 7.5) * scale[:, None]
    np.testing.assert_allclose(back, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    within = np.abs(raw - v) <= scale[:, None] / 2 * (1 + 1e-4)
    assert within.mean() >= 0.75, within.mean()


def test_4bit_round_trip_error_on_the_seed_vectors_is_within_its_bound():
    """The bound the model card states for round seven's bank, on the shipped seed vectors: mean
    1 - cosine under 6e-3 and none over 1.5e-2 (measured 5.0e-3 and 1.2e-2 from the float
    vectors; the plain -7..7 scheme 8.7e-3 and 2.4e-2), and a similarity to another seed vector
    off by under 6e-3 rms (measured 5.1e-3; plain 6.8e-3)."""
    from classifiers.heads import dequantize_rows4, quantize_rows4
    v = Heads.load(default_model_dir()).knn_bank
    back = dequantize_rows4(*quantize_rows4(v))
    cos = (back * v).sum(axis=1) / np.linalg.norm(v, axis=1)
    assert (1 - cos).mean() < 6e-3 and (1 - cos).max() < 1.5e-2, ((1 - cos).mean(), (1 - cos).max())
    q = v[np.random.default_rng(7).choice(len(v), 300, replace=False)]
    err = q @ back.T - q @ v.T
    assert np.sqrt((err ** 2).mean()) < 6e-3


def test_4bit_quantizing_a_row_alone_against_the_offset_gives_its_row_in_the_bank():
    """save_heads stores a vector against an existing bank's offset; per row, nothing but the
    offset is shared, so a row alone quantizes as it does in the bank."""
    from classifiers.heads import dequantize_rows4, quantize_rows4
    v = _unit_rows(np.random.default_rng(3), 40, 384)
    packed, scale, offset = quantize_rows4(v)
    p5, s5, o5 = quantize_rows4(v[5:6], offset)
    assert np.array_equal(p5, packed[5:6]) and np.array_equal(s5, scale[5:6]) and np.array_equal(o5, offset)
    assert np.array_equal(dequantize_rows4(p5, s5, o5), dequantize_rows4(packed, scale, offset)[5:6])


def _heads_with(tmp_path, change):
    for f in default_model_dir().iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    with np.load(tmp_path / "heads.npz") as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(tmp_path / "heads.npz", **arrays)
    return tmp_path


def _seed_vectors(a):
    from classifiers.heads import read_seed_vectors
    return read_seed_vectors(a, "heads.npz")


class _Arrays(dict):
    @property
    def files(self):
        return list(self)


def _bank_as(layout):
    """A change for _heads_with: the shipped seed bank (whatever its layout) rewritten in `layout`,
    rows in the same order (the kernel member's row numbers still hold)."""
    from classifiers.heads import quantize_rows, quantize_rows4

    def change(a):
        v = _seed_vectors(_Arrays(a))
        for k in ("knn_vectors", "knn_vectors4", "knn_scale", "knn_offset"):
            a.pop(k, None)
        if layout == "4bit":
            a["knn_vectors4"], a["knn_scale"], a["knn_offset"] = quantize_rows4(v)
        elif layout == "int8":
            a["knn_vectors"], a["knn_scale"] = quantize_rows(v)
        else:
            a["knn_vectors"] = v.astype(np.float16)
    return change


def test_shipped_seed_vectors_are_4bit_with_a_scale_each_and_an_offset():
    with np.load(default_model_dir() / "heads.npz") as z:
        assert z["knn_vectors4"].dtype == np.uint8 and z["knn_scale"].shape == (z["knn_vectors4"].shape[0],)
        assert z["knn_offset"].shape == (2 * z["knn_vectors4"].shape[1],) and "knn_vectors" not in z.files


@pytest.mark.parametrize("layout", ["4bit", "int8", "float16"])
def test_each_layout_of_the_seed_vectors_loads(tmp_path, layout):
    """Round seven's 4-bit bank, round six's int8 and round five's float16 (no scale) all load, as
    the rows they store; the kernel member resolves its support vectors against them."""
    from classifiers.heads import dequantize_rows, dequantize_rows4
    heads = Heads.load(_heads_with(tmp_path, _bank_as(layout)))
    with np.load(tmp_path / "heads.npz") as z:
        if layout == "4bit":
            want = dequantize_rows4(z["knn_vectors4"], z["knn_scale"], z["knn_offset"])
        elif layout == "int8":
            want = dequantize_rows(z["knn_vectors"], z["knn_scale"])
        else:
            want = z["knn_vectors"].astype(np.float32)
    assert np.array_equal(heads.knn_bank, want)
    if heads.kernel is not None:
        with np.load(tmp_path / "kernel.npz") as z:
            svi = z[f"svi_{heads.kernel.categories[0]}"]
        rows = heads.kernel._rows[heads.kernel.categories[0]]
        assert np.array_equal(heads.kernel.bank[rows], want[svi].astype(np.float64))


@pytest.mark.parametrize("layout,change,match", [
    ("int8", lambda a: a.pop("knn_scale"), "knn_scale: missing"),
    ("int8", lambda a: a.update(knn_scale=a["knn_scale"][:-1]), "knn_scale .* do not fit"),
    ("int8", lambda a: a.update(knn_vectors=a["knn_vectors"][:, :, None]), "knn_vectors: shape"),
    ("4bit", lambda a: a.pop("knn_scale"), "knn_scale: missing"),
    ("4bit", lambda a: a.pop("knn_offset"), "knn_offset: missing"),
    ("4bit", lambda a: a.update(knn_scale=a["knn_scale"][:-1]), "knn_scale: .*expected one float scale per row"),
    ("4bit", lambda a: a.update(knn_offset=a["knn_offset"][:-2]), "knn_offset: .*expected one float per dimension"),
    ("4bit", lambda a: a.update(knn_vectors4=a["knn_vectors4"].astype(np.int8)), "knn_vectors4: int8"),
    ("4bit", lambda a: a.update(knn_vectors4=a["knn_vectors4"][:, :, None]), "knn_vectors4: uint8 .* expected uint8"),
    ("4bit", lambda a: a.update(knn_vectors=a["knn_vectors4"]), "knn_vectors4: present with knn_vectors"),
])
def test_a_broken_seed_bank_is_refused_and_the_tfidf_models_score_alone(tmp_path, caplog, layout, change, match):
    from classifiers.textmodels import TextModels

    def both(a):
        _bank_as(layout)(a)
        change(a)
    directory = _heads_with(tmp_path, both)
    with pytest.raises(HeadsFileError, match=match) as err:
        Heads.load(directory)
    assert str(directory / "heads.npz") in str(err.value)      # the file, then the key
    models = TextModels.load(directory)
    assert models.heads is None and models.thresholds == models.tfidf_thresholds
    assert "knn_" in models.encoder_error


def test_heads_only_save_writes_the_4bit_bank_and_kernel_rows_into_it(tmp_path):
    """save_heads (the path `crossingguard train --heads-only` ends in) on a document whose bank
    is quantize_rows4's and whose kernel SVMs were fitted on its rows (as _train_heads fits them):
    heads.npz holds knn_vectors4/knn_scale/knn_offset and no int8 bank, every support vector is a
    row number, and the folder loads to the same rows and kernel decisions."""
    from classifiers.heads import dequantize_rows4, quantize_rows4
    from classifiers.kernel import KERNEL_FILE, KernelMember, read_kernel
    src = default_model_dir()
    shipped = Heads.load(src)
    doc = json.loads((src / "heads.json").read_text())
    with np.load(src / "heads.npz") as z:
        arrays = {k: z[k] for k in z.files if k not in ("knn_vectors", "knn_vectors4", "knn_scale", "knn_offset")}
    packed, scale, offset = quantize_rows4(shipped.knn_bank)
    bank = dequantize_rows4(packed, scale, offset)
    doc["_arrays"] = {**arrays, "knn_vectors4": packed, "knn_scale": scale, "knn_offset": offset}
    cats = [c for c, e in doc["categories"].items() if "kernel" in e.get("members", ())]
    with np.load(src / KERNEL_FILE) as z:
        svi = {c: z[f"svi_{c}"] for c in cats}
    shipped_kernel = read_kernel(src / KERNEL_FILE, cats, shipped.knn_bank)
    # the SVMs as if fitted on the 4-bit rows: the same duals, their support vectors those rows
    doc["_kernel"] = {c: {**{k: shipped_kernel[c][k] for k in ("dual", "intercept", "gamma")},
                          "sv": bank[svi[c]].astype(np.float64)} for c in cats}
    train_heads.save_heads(doc, tmp_path)
    with np.load(tmp_path / "heads.npz") as z:
        assert "knn_vectors" not in z.files
        assert z["knn_vectors4"].dtype == np.uint8 and z["knn_vectors4"].shape == (len(bank), 192)
        assert z["knn_scale"].dtype == z["knn_offset"].dtype == np.float32
    assert (tmp_path / "heads.npz").stat().st_size < 4_900_000     # test_textmodels: the shipped bound
    with np.load(tmp_path / KERNEL_FILE) as z:
        assert not [n for n in z.files if n.startswith("sv_")]
        for c in cats:
            assert np.array_equal(z[f"svi_{c}"], svi[c])
    loaded = Heads.load(tmp_path)
    assert np.array_equal(loaded.knn_bank, bank)
    x = bank[:5].astype(np.float64) + 0.01
    want = KernelMember(sv={c: bank[svi[c]] for c in cats}, dual={c: shipped_kernel[c]["dual"] for c in cats},
                        intercept={c: shipped_kernel[c]["intercept"] for c in cats},
                        gamma={c: shipped_kernel[c]["gamma"] for c in cats}).decisions(x, cats)
    np.testing.assert_array_equal(loaded.kernel.decisions(x, cats), want)


def test_save_heads_no_longer_writes_the_int8_bank(tmp_path):
    from classifiers.heads import quantize_rows
    q, scale = quantize_rows(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="knn_vectors4"):
        train_heads.save_heads({"categories": {}, "_arrays": {"knn_vectors": q, "knn_scale": scale}}, tmp_path)


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
