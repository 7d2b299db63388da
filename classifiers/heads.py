"""Encoder heads at run time: a logistic head per category on the sentence encoder's window vectors,
combined with the TF-IDF model's probability by the ensemble weights fitted in training
(classifiers/train/heads.py; model card "Model").

Prototype member (round three): a bank of short statements written for this project
(models/prototypes.csv: per category, and per hard-negative kind: hyperbole, help-seeking, slang,
quotation, game talk, ordinary), embedded by the same encoder (vectors in heads.npz). Per window,
`proto_pos` is the soft maximum (log-mean-exp at temperature PROTO_TAU) of the cosine similarity to
the category's prototypes and `proto_neg` the same over the hard-negative prototypes; the ensemble
weighs both with the head.

Round four: a student-domain head per category (`seed_coef_<category>`, a logistic model on the
vectors of the seed posts alone) joins the per-window sum with weight w_seed_head; the student
TF-IDF models (`student_coef_<category>`) are decision columns of the TF-IDF product
(classifiers.textmodels) added with weight w_seed_tfidf; and kind gates (Gate: help-seeking,
friendly slang, hyperbole) tell the pipeline which labels to drop.

A post's encoder part is its most concerning window: per window
w_head * head + w_pos * proto_pos + w_neg * proto_neg, the maximum taken over its 128-token windows,
so a long post is judged on its worst passage, not diluted by the rest. The ensemble adds
w_tfidf * logit(p_tfidf) and an intercept. Files: heads.npz (coef_<category> float64, and
proto_vectors float32, loaded with allow_pickle=False) and heads.json (intercepts, ensemble weights,
thresholds, how they were chosen, the prototype kinds in row order). Round five (svc5): the kernel
member (classifiers.kernel, arrays in kernel.npz) adds w_kernel * its decision per window.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.encoder import Encoded, load_encoder

HEADS_FORMAT = "crossingguard-heads/1"
PROTO_TAU = 0.02                     # temperature of the soft maximum over prototype similarities
NEGATIVE_KINDS = ("hyperbole", "help", "slang", "quote", "game", "ordinary")


def soft_max_similarity(sims: np.ndarray, tau: float = PROTO_TAU) -> np.ndarray:
    """Row-wise log-mean-exp of `sims` (n, m) at temperature tau: near the largest similarity when
    one prototype stands out, a little lower when several are about as close. Empty m: zeros."""
    if sims.shape[1] == 0:
        return np.zeros(sims.shape[0])
    z = sims / tau
    top = z.max(axis=1, keepdims=True)
    return tau * (top[:, 0] + np.log(np.exp(z - top).mean(axis=1)))


def knn_margin(vectors: np.ndarray, bank: np.ndarray, label: np.ndarray, k: int,
               sims: np.ndarray | None = None) -> np.ndarray:
    """(n,): per vector, the mean cosine similarity of its k nearest positive rows of `bank`
    (label 1) minus that of its k nearest negative rows (label 0); rows labelled -1 take no part.
    Vectors and bank rows are unit length (the encoder L2-normalises). Fewer than k rows of a side:
    all of them. `sims`: vectors @ bank.T already computed (one product serves every category)."""
    if sims is None:
        sims = np.asarray(vectors, dtype=np.float32) @ np.asarray(bank, dtype=np.float32).T
    out = np.zeros(sims.shape[0])
    for sign, side in ((1.0, label == 1), (-1.0, label == 0)):
        s = sims[:, side]
        if s.shape[1] == 0:
            continue
        kk = min(k, s.shape[1])
        top = np.partition(s, s.shape[1] - kk, axis=1)[:, s.shape[1] - kk:]
        out += sign * top.mean(axis=1, dtype=np.float64)
    return out


def proto_features(vectors: np.ndarray, bank: np.ndarray, kinds: Sequence[str], category: str) -> np.ndarray:
    """(n, 2): proto_pos and proto_neg of each vector for `category` (see the module docstring)."""
    kinds = np.asarray(kinds)
    sims = vectors.astype(np.float64) @ bank.astype(np.float64).T
    pos = soft_max_similarity(sims[:, kinds == category])
    neg = soft_max_similarity(sims[:, np.isin(kinds, NEGATIVE_KINDS)])
    return np.column_stack([pos, neg])


class HeadsFileError(Exception):
    pass


# Round six shipped the seed posts' vectors (the kNN member's bank, and the kernel member's support
# vectors by row) as int8 with one float32 scale per vector (`knn_vectors`, `knn_scale`): ~5.7 MB
# of heads.npz, rewritten into git history by every retrain. quantize_rows / dequantize_rows stay
# to read those files (and round five's float16 `knn_vectors`, no scale).
def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round six's int8 layout: (int8 rows, float32 scale per row), row i about q[i] * scale[i]."""
    v = np.asarray(vectors, dtype=np.float32)
    scale = (np.abs(v).max(axis=1) / np.float32(127)).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(v / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize_rows(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The float32 rows of quantize_rows' output (round six's files)."""
    return q.astype(np.float32) * np.asarray(scale, dtype=np.float32)[:, None]


# Round seven: 4 bits per component (`knn_vectors4`: two codes per uint8, the even component in
# the low nibble), a float32 scale per row (`knn_scale`) and one float32 offset per dimension
# shared by all rows (`knn_offset`: the bank's mean vector). Component j of row i is
#     offset[j] + (code - 7.5) * scale[i],   code 0..15
# (16 levels symmetric about the offset, no level wasted on an exact zero), and the row is then
# scaled back to unit length: the seed vectors are unit vectors (the encoder L2-normalises), and
# rounding and clipping change a row's squared length by 1-2%, which the kernel member's distances would
# read as a shift of every support vector. Each row's scale is the one of BANK4_FRACTIONS * its
# largest residual / 7.5 with the least squared error (clipping the rare largest residuals beats
# spreading 16 levels over them). Measured on round six's 14,650 seed vectors (EXPERIMENTS.md,
# round seven): 1 - cosine mean 5.0e-3, max 1.2e-2, and a similarity to a post's vector off by
# 5.1e-3 rms; the plain scheme (levels -7..7, scale = max|v| / 7) 8.7e-3, 2.4e-2 and 6.8e-3; int8
# was 2.7e-5, 7.6e-5 and 3.8e-4. Training fits on the bank as it ships
# (dequantize_rows4(quantize_rows4(v))), the kNN member and the kernel SVMs alike, so the stack
# weights and thresholds are fitted on the similarities the proxy computes.
BANK4_FRACTIONS = np.linspace(0.4, 1.0, 31, dtype=np.float32)


def quantize_rows4(vectors: np.ndarray, offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(packed uint8 codes (m, ceil(d / 2)), float32 scale per row (m,), float32 offset (d,)) of
    float rows (m, d); `offset` given (a vector to be stored against an existing bank) or the
    rows' mean. dequantize_rows4 turns them back."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"quantize_rows4: rows expected, got shape {v.shape}")
    off = (v.mean(axis=0) if offset is None else np.asarray(offset)).astype(np.float32)
    r = v - off
    top = np.abs(r).max(axis=1)
    codes = np.zeros(v.shape, dtype=np.uint8)
    scale = np.ones(len(v), dtype=np.float32)
    best = np.full(len(v), np.inf, dtype=np.float32)
    for f in BANK4_FRACTIONS:       # per row, the clipping point with the least squared error
        s = (top * f / np.float32(7.5)).astype(np.float32)
        s[s == 0] = 1.0
        c = np.clip(np.floor(r / s[:, None]) + 8, 0, 15)
        err = (((c - np.float32(7.5)) * s[:, None] - r) ** 2).sum(axis=1)
        better = err < best
        best[better], scale[better], codes[better] = err[better], s[better], c[better]
    if codes.shape[1] % 2:
        codes = np.pad(codes, ((0, 0), (0, 1)))
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)
    return packed, scale, off


def dequantize_rows4(packed: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The float32 unit rows (m, len(offset)) of quantize_rows4's output, as training and the
    proxy both use them (a row that comes back all zero stays zero)."""
    packed = np.asarray(packed, dtype=np.uint8)
    codes = np.empty((packed.shape[0], packed.shape[1] * 2), dtype=np.float32)
    codes[:, 0::2], codes[:, 1::2] = packed & 0x0F, packed >> 4
    off = np.asarray(offset, dtype=np.float32)
    v = off + (codes[:, :len(off)] - np.float32(7.5)) * np.asarray(scale, dtype=np.float32)[:, None]
    norm = np.sqrt((v * v).sum(axis=1, dtype=np.float32))
    norm[norm == 0] = 1.0
    return (v / norm[:, None]).astype(np.float32)


def read_seed_vectors(z, npath) -> np.ndarray | None:
    """heads.npz's seed-post vectors (float32), or None: 4-bit `knn_vectors4` with `knn_scale` and
    `knn_offset` (round seven), int8 `knn_vectors` with `knn_scale` (round six), or float16
    `knn_vectors` alone (round five). A malformed bank raises HeadsFileError naming file and key."""
    if "knn_vectors4" in z.files:
        if "knn_vectors" in z.files:
            raise HeadsFileError(f"{npath}: knn_vectors4: present with knn_vectors (two seed banks; expected one)")
        q = z["knn_vectors4"]
        if q.ndim != 2 or q.dtype != np.uint8:
            raise HeadsFileError(f"{npath}: knn_vectors4: {q.dtype} {q.shape}, expected uint8 (rows, dimensions / 2)")
        for key in ("knn_scale", "knn_offset"):
            if key not in z.files:
                raise HeadsFileError(f"{npath}: {key}: missing (4-bit knn_vectors4 need it)")
        scale, offset = z["knn_scale"], z["knn_offset"]
        if scale.shape != (q.shape[0],) or not np.issubdtype(scale.dtype, np.floating):
            raise HeadsFileError(f"{npath}: knn_scale: {scale.dtype} {scale.shape} for knn_vectors4 {q.shape} "
                                 f"(expected one float scale per row)")
        if offset.ndim != 1 or (offset.shape[0] + 1) // 2 != q.shape[1] or not np.issubdtype(offset.dtype, np.floating):
            raise HeadsFileError(f"{npath}: knn_offset: {offset.dtype} {offset.shape} for knn_vectors4 {q.shape} "
                                 f"(expected one float per dimension, two dimensions a byte)")
        return dequantize_rows4(q, scale, offset)
    if "knn_vectors" not in z.files:
        return None
    q = z["knn_vectors"]
    if q.ndim != 2:
        raise HeadsFileError(f"{npath}: knn_vectors: shape {q.shape}, expected (rows, dimensions)")
    if "knn_scale" not in z.files:
        if q.dtype == np.int8:
            raise HeadsFileError(f"{npath}: knn_scale: missing (int8 knn_vectors need their per-vector scales)")
        return q.astype(np.float32)
    scale = z["knn_scale"]
    if q.dtype != np.int8 or scale.shape != (q.shape[0],):
        raise HeadsFileError(f"{npath}: knn_vectors {q.dtype} {q.shape} and knn_scale {scale.shape} do not fit "
                             f"(expected int8 rows and one scale per row)")
    return dequantize_rows(q, scale)


@dataclass(frozen=True)
class Gate:
    """A kind gate (round four, classifiers/train/heads.py): a post of kind `name` (help-seeking,
    friendly slang, hyperbole) recognised by a logistic model on the encoder's vectors plus one on
    the student TF-IDF features, trained on the seed posts of that kind against the seed posts of
    the categories it suppresses. When it fires, the pipeline drops those labels (scores stay)."""
    name: str
    suppresses: tuple[str, ...]
    coef: np.ndarray            # (DIM,)
    intercept: float            # both models' intercepts
    threshold: float


@dataclass
class Heads:
    categories: tuple[str, ...]
    coef: np.ndarray                      # (DIM, k) float64
    intercept: np.ndarray                 # (k,)
    stack: np.ndarray                     # (k, 8): w_tfidf_logit, w_head, intercept, w_proto_pos, w_proto_neg,
                                          # w_seed_head, w_seed_tfidf, w_knn
    thresholds: dict[str, float]
    meta: dict = field(default_factory=dict)
    bank: np.ndarray | None = None        # (m, DIM) prototype vectors, or None (no prototype member)
    kinds: tuple[str, ...] = ()
    seed_coef: np.ndarray | None = None   # (DIM, k) student-domain heads (zeros: none), or None
    seed_intercept: np.ndarray | None = None
    # the student TF-IDF models (round four): column name -> (the category whose TF-IDF vocabulary
    # and idf it reads, coefficients in that vocabulary's order, intercept); TextModels adds them
    # as decision columns. A category's own member is named by the category; a gate's "gate:<name>".
    student: dict = field(default_factory=dict)
    # the kind gates (round four): name -> Gate
    gates: dict = field(default_factory=dict)
    # the nearest-neighbour member (round five): the seed posts' vectors (m, DIM) and, per
    # category, each row's label for it (1, 0, or -1: not used) and k
    knn_bank: np.ndarray | None = None
    knn_labels: dict = field(default_factory=dict)
    knn_k: int = 0
    # round five (svc5): the kernel member (classifiers.kernel.KernelMember) and its ensemble weight
    # per category (k,), or None when no category has it
    kernel: object = None
    kernel_w: np.ndarray | None = None

    @classmethod
    def load(cls, directory: Path) -> "Heads":
        jpath, npath = directory / "heads.json", directory / "heads.npz"
        try:
            doc = json.loads(jpath.read_text())
            if doc.get("format") != HEADS_FORMAT:
                raise HeadsFileError(f"{jpath}: format: expected {HEADS_FORMAT}, got {doc.get('format')!r}")
            cats = tuple(doc["categories"])
            kinds = tuple(doc.get("prototypes", {}).get("kinds", ()))
            entries = [doc["categories"][c] for c in cats]
            gate_docs = doc.get("gates", {})
            with np.load(npath, allow_pickle=False) as z:
                coef = np.column_stack([z[f"coef_{c}"].astype(np.float64) for c in cats])
                bank = z["proto_vectors"].astype(np.float64) if kinds else None
                # the student-domain heads (round four), one column per category; zeros where a
                # category has none (its weight is 0 too)
                seed_coef = np.column_stack([z[f"seed_coef_{c}"].astype(np.float64) if f"seed_coef_{c}" in z.files
                                             else np.zeros(coef.shape[0]) for c in cats])
                student = {c: (c, z[f"student_coef_{c}"].astype(np.float64), float(e["student_intercept"]))
                           for c, e in zip(cats, entries) if f"student_coef_{c}" in z.files}
                knn_bank = read_seed_vectors(z, npath)
                knn_labels = {c: z[f"knn_label_{c}"].astype(np.int8) for c in cats if f"knn_label_{c}" in z.files}
                gates = {}
                for name, g in gate_docs.items():
                    gates[name] = Gate(name, tuple(g["suppresses"]), z[f"gate_enc_{name}"].astype(np.float64),
                                       float(g["intercept"]), float(g["threshold"]))
                    student[f"gate:{name}"] = (g["vocab"], z[f"gate_tfidf_{name}"].astype(np.float64), 0.0)
            if bank is not None and bank.shape[0] != len(kinds):
                raise HeadsFileError(f"{npath}: proto_vectors: {bank.shape[0]} rows for {len(kinds)} prototype kinds in {jpath}")
            stack = np.array([[e["stack"]["w_tfidf_logit"], e["stack"]["w_head"], e["stack"]["intercept"],
                               e["stack"].get("w_proto_pos", 0.0), e["stack"].get("w_proto_neg", 0.0),
                               e["stack"].get("w_seed_head", 0.0), e["stack"].get("w_seed_tfidf", 0.0),
                               e["stack"].get("w_knn", 0.0)]
                              for e in entries], dtype=np.float64)
            if knn_bank is not None:
                for c, lab in knn_labels.items():
                    if lab.shape != (knn_bank.shape[0],):
                        raise HeadsFileError(f"{npath}: knn_label_{c}: {lab.shape} for {knn_bank.shape[0]} knn_vectors")
            seed_icpt = np.array([e.get("seed_head_intercept", 0.0) for e in entries], dtype=np.float64)
            heads = cls(cats, coef, np.array([e["head_intercept"] for e in entries], dtype=np.float64), stack,
                        {c: float(e["threshold"]) for c, e in zip(cats, entries)}, doc, bank, kinds,
                        seed_coef, seed_icpt)
            heads.student, heads.gates = student, gates
            heads.knn_bank, heads.knn_labels = knn_bank, knn_labels
            heads.knn_k = int(doc.get("knn", {}).get("k", 0))
            # round five (svc5): the kernel member's arrays (models/kernel.npz). Fail to the TF-IDF
            # models like any other unreadable heads file: the stack weights and thresholds were
            # fitted with its column, so scoring without it would run uncalibrated thresholds.
            kernel_cats = [c for c, e in zip(cats, entries) if "kernel" in e.get("members", ())]
            if kernel_cats:
                from classifiers.kernel import KERNEL_FILE, KernelFileError, KernelMember
                try:
                    # its support vectors are rows of the seed vectors (knn_vectors), by index
                    heads.kernel = KernelMember.load(directory / KERNEL_FILE, kernel_cats, knn_bank)
                except KernelFileError as exc:
                    raise HeadsFileError(f"kernel member: {exc}") from exc
                heads.kernel_w = np.array([e["stack"].get("w_kernel", 0.0) for e in entries], dtype=np.float64)
            return heads
        except HeadsFileError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HeadsFileError(f"{directory}: heads files unreadable: {exc}") from exc

    def decisions(self, enc: Encoded) -> np.ndarray:
        """(n_posts, k): each post's largest window decision per category."""
        d = enc.vectors.astype(np.float64) @ self.coef + self.intercept
        n = len(enc.offsets) - 1
        out = np.empty((n, len(self.categories)))
        for i in range(n):
            out[i] = d[enc.offsets[i]:enc.offsets[i + 1]].max(axis=0)
        return out

    def encoder_part(self, enc: Encoded) -> np.ndarray:
        """(n_posts, k): per category, the largest over a post's windows of
        w_head * head + w_pos * proto_pos + w_neg * proto_neg."""
        v = enc.vectors.astype(np.float64)
        z = (v @ self.coef + self.intercept) * self.stack[:, 1]
        if self.seed_coef is not None and self.stack.shape[1] > 5 and self.stack[:, 5].any():
            z += (v @ self.seed_coef + self.seed_intercept) * self.stack[:, 5]
        if self.kernel is not None:     # round five (svc5): w_kernel * the kernel SVM's decision
            z += self.kernel.decisions(v, self.categories) * self.kernel_w
        if self.bank is not None:
            for j, c in enumerate(self.categories):
                if self.stack[j, 3] or self.stack[j, 4]:
                    f = proto_features(v, self.bank, self.kinds, c)
                    z[:, j] += self.stack[j, 3] * f[:, 0] + self.stack[j, 4] * f[:, 1]
        if self.knn_bank is not None and self.knn_k:
            sims = None
            for j, c in enumerate(self.categories):
                if self.stack[j, 7] and c in self.knn_labels:
                    if sims is None:
                        # one matrix-vector product per window: a window's similarities then do
                        # not depend on the other posts in its batch (a matrix product's blocking
                        # does, in the last bits; a post scores the same alone or batched)
                        sims = np.stack([self.knn_bank @ row for row in np.asarray(enc.vectors, dtype=np.float32)])
                    z[:, j] += self.stack[j, 7] * knn_margin(None, self.knn_bank, self.knn_labels[c], self.knn_k, sims)
        n = len(enc.offsets) - 1
        out = np.empty((n, len(self.categories)))
        for i in range(n):
            out[i] = z[enc.offsets[i]:enc.offsets[i + 1]].max(axis=0)
        return out

    def gate_decisions(self, enc: Encoded, student: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """(n_posts,) bool per kind gate: the gate's encoder decision (its most gate-like window)
        plus its student TF-IDF decision (`student["gate:<name>"]`) at or over its threshold."""
        if not self.gates:
            return {}
        v = enc.vectors.astype(np.float64)
        n = len(enc.offsets) - 1
        out = {}
        for name, g in self.gates.items():
            d = v @ g.coef + g.intercept
            best = np.full(n, -np.inf)
            for i in range(n):
                a, b = enc.offsets[i], enc.offsets[i + 1]
                if b > a:
                    best[i] = d[a:b].max()
            out[name] = (best + np.asarray(student.get(f"gate:{name}", 0.0))) >= g.threshold
        return out

    def combine(self, tfidf: dict[str, np.ndarray], enc: Encoded,
                student: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The ensemble probability per category from the TF-IDF probabilities, the encoded
        windows and the student TF-IDF decisions (TextModels.student_decisions; a category
        without one adds nothing)."""
        e = self.encoder_part(enc)
        out = dict(tfidf)
        for j, c in enumerate(self.categories):
            if c not in tfidf:
                continue
            p = np.clip(np.asarray(tfidf[c], dtype=np.float64), 1e-6, 1 - 1e-6)
            z = self.stack[j, 0] * np.log(p / (1 - p)) + e[:, j] + self.stack[j, 2]
            if student and c in student and self.stack[j, 6]:
                z = z + self.stack[j, 6] * np.asarray(student[c], dtype=np.float64)
            out[c] = 1.0 / (1.0 + np.exp(-z))
        return out


def load_heads_and_encoder(directory: Path, weights: Path | str | None = None):
    """(heads, encoder, error): both or neither; `error` says why not (already logged once)."""
    try:
        heads = Heads.load(directory)
    except HeadsFileError as exc:
        import logging
        logging.getLogger(__name__).error("encoder heads unusable, text models score alone: %s", exc)
        return None, None, str(exc)
    encoder, error = load_encoder(weights)
    if encoder is None:
        return None, None, error
    return heads, encoder, None
