"""The sentence encoder and its heads: pinned files, the fallback, batch independence."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from classifiers import encoder as enc_mod
from classifiers.encoder import DIM, WINDOW, Encoder, EncoderUnavailable
from classifiers.heads import Heads
from classifiers.textmodels import TextModels, default_model_dir


@pytest.fixture(scope="module")
def encoder():
    return Encoder()


@pytest.fixture
def fake_weights(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not the pinned weights")
    return path


def test_wrong_weights_checksum_is_refused(fake_weights):
    with pytest.raises(EncoderUnavailable, match="checksum mismatch"):
        Encoder(weights=fake_weights)


def test_wrong_vocabulary_checksum_is_refused(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n")
    with pytest.raises(EncoderUnavailable, match="encoder vocabulary checksum mismatch"):
        Encoder(vocab=vocab)


def test_bad_checksum_falls_back_to_the_tfidf_models(fake_weights, monkeypatch, caplog):
    monkeypatch.setenv("CROSSINGGUARD_ENCODER_WEIGHTS", str(fake_weights))
    with caplog.at_level(logging.ERROR):
        models = TextModels.load()
    assert models.heads is None and models.encoder is None
    assert "checksum mismatch" in models.encoder_error
    lines = [r for r in caplog.records if r.name == "classifiers.encoder"]
    assert len(lines) == 1 and "score alone" in lines[0].getMessage()
    alone = TextModels.load(encoder=False)
    assert models.thresholds == alone.thresholds == alone.tfidf_thresholds
    texts = ["i will kill you", "see you at lunch", "nobody likes you"]
    got, want = models.predict_proba(texts), alone.predict_proba(texts)
    for c in models.categories:
        assert np.array_equal(got[c], want[c])


def test_missing_weights_package_falls_back(monkeypatch):
    monkeypatch.delenv("CROSSINGGUARD_ENCODER_WEIGHTS", raising=False)
    monkeypatch.setattr(enc_mod, "WEIGHTS_PACKAGE", "no_such_weights_package_here")
    models = TextModels.load()
    assert models.heads is None and "not installed" in models.encoder_error
    assert models.predict_proba(["hello"])["bullying"].shape == (1,)


def test_shipped_models_load_with_the_encoder():
    models = TextModels.load()
    assert models.heads is not None and models.encoder_error is None
    assert set(models.heads.categories) == {"bullying", "threat", "self_harm"}
    # the ensemble's thresholds replace the TF-IDF ones
    assert models.thresholds == models.heads.thresholds
    assert models.thresholds["threat"] != models.tfidf_thresholds["threat"]
    # bullying's ensemble has no encoder head (the dialect check, model card): weight 0; likeness
    # to the bullying prototypes raises the score. (The negative prototypes' weight is whatever the
    # stack fits beside the nearest-neighbour member: negative until round five, +0.14 in round six.)
    j = models.heads.categories.index("bullying")
    assert models.heads.stack[j, 1] == 0.0 and models.heads.stack[j, 3] > 0


def test_tokenization_uses_the_uncased_bert_vocabulary(encoder):
    # DATA.md of the vocabulary: [CLS] = 101, [SEP] = 102, "hello" = 7592; uncased
    assert encoder.windows("Hello") == [[101, 7592, 102]]
    assert encoder.windows("HELLO") == encoder.windows("hello")


def test_long_posts_are_read_in_128_token_windows(encoder):
    text = "the bus was late again today and nobody minded. " * 60
    wins = encoder.windows(text)
    assert 1 < len(wins) <= enc_mod.MAX_WINDOWS
    assert all(w[0] == 101 and w[-1] == 102 and len(w) <= WINDOW for w in wins)
    enc = encoder.encode([text, "short"])
    assert list(enc.offsets) == [0, len(wins), len(wins) + 1]
    assert np.allclose(np.linalg.norm(enc.vectors, axis=1), 1.0, atol=1e-5)
    assert enc.vectors.shape[1] == DIM


def test_vectors_do_not_depend_on_the_batch(encoder):
    texts = ["you're so ugly nobody likes you", "im bringing a knife tomorrow", "lol",
             "i havent eaten in three days " * 30, "", "see you at practice 🏀"]
    alone = [encoder.encode([t]).vectors for t in texts]
    for size in (2, 3, len(texts)):
        for start in range(0, len(texts), size):
            batch = texts[start:start + size]
            enc = encoder.encode(batch)
            for k, t in enumerate(batch):
                got = enc.vectors[enc.offsets[k]:enc.offsets[k + 1]]
                assert np.array_equal(got, alone[start + k]), (size, t[:30])
    # in a different order, with other neighbours
    enc = encoder.encode(texts[::-1])
    for k, t in enumerate(texts[::-1]):
        assert np.array_equal(enc.vectors[enc.offsets[k]:enc.offsets[k + 1]], alone[len(texts) - 1 - k])


def test_a_long_post_scores_on_its_most_concerning_window(encoder):
    heads = Heads.load(default_model_dir())
    calm = "we went to the library after class and then walked home, it was a normal day. " * 12
    worst = "i have been cutting my arms every night and hiding the blades."
    j = heads.categories.index("self_harm")
    d_alone = heads.decisions(encoder.encode([worst]))[0, j]
    d_calm = heads.decisions(encoder.encode([calm]))[0, j]
    d_long = heads.decisions(encoder.encode([calm + worst]))[0, j]
    assert d_long > d_calm
    # the long post's score is the maximum over its windows, not their average
    enc = encoder.encode([calm + worst])
    per_window = enc.vectors.astype(np.float64) @ heads.coef[:, j] + heads.intercept[j]
    assert d_long == pytest.approx(per_window.max(), abs=1e-9) and d_long > per_window.mean() + 1.0
    assert d_alone > d_calm


def test_self_harm_head_is_trained_on_length_matched_data():
    doc = json.loads((default_model_dir() / "heads.json").read_text())
    note = doc["categories"]["self_harm"]["training"]["length_matching"]
    assert note["length_auc_before"] > 0.7           # the leak exists in the raw sample
    assert abs(note["length_auc_after"] - 0.5) < 0.06   # and length alone predicts ~nothing after


def test_heads_files_load_without_pickle(tmp_path):
    import shutil
    for name in ("heads.json", "heads.npz", "kernel.npz"):    # kernel.npz: round five's kernel member
        shutil.copy(default_model_dir() / name, tmp_path / name)
    Heads.load(tmp_path)
    doc = json.loads((tmp_path / "heads.json").read_text())
    doc["format"] = "something-else/9"
    (tmp_path / "heads.json").write_text(json.dumps(doc))
    from classifiers.heads import HeadsFileError
    with pytest.raises(HeadsFileError, match="format"):
        Heads.load(tmp_path)
