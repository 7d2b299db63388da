"""Encoder heads, the prototype bank, the student-domain members, the nearest-neighbour member, the
kind gates and the ensemble (classifiers/models/README.md, "Model").

Per category: a logistic regression on the sentence encoder's 384-d vectors of the normalized text
(classifiers.encoder, first 128-token window; `prepare` is what the encoder reads at run time),
trained on a capped, seeded sample of each source's train part plus the hand-written seed posts
(train/seed_posts.csv and train/seeds/*.csv, each weighing SEED_REPEAT rows). The prototype bank
(models/prototypes.csv) is embedded the same way and shipped as `proto_vectors`. Round four adds
two student-domain members trained on the seed posts alone (a head on the encoder vectors, and a
student TF-IDF model over the category's TF-IDF features) and kind gates (GATES: help-seeking,
friendly slang, hyperbole; round five adds ordinary posts) learned from the seed negatives. Round
five adds a nearest-neighbour member over the seed posts' vectors (KNN_K). The ensemble is a
logistic regression over the members of MEMBERS (logit of the TF-IDF probability, the head's
decision, proto_pos, proto_neg: classifiers.heads; seed_head, seed_tfidf, knn), fitted on the
validation parts (out of sample for every member) and on the seed posts with out-of-fold decisions
of every member trained on them (folds: FOLDS_BY; the TF-IDF models never saw them), each (group,
class) cell weighing the same. Never a test part, never an evaluation set. Thresholds:
recall-first within a per-kind cap on the seed posts, out of fold, after the gates
(threshold_recall_capped). Each seed file is one writer: `crossingguard evaluate --writers`
(classifiers/train/writers.py) trains without one at a time and scores it.

Self-harm's length leak (suicidal_tweets positives are long Reddit-like posts, negatives short
tweets): the public part of the head's training sample is length-matched (equal positives and
negatives in each token-length bin), and the trainer records the ROC-AUC of length alone (~0.5).

Embeddings are cached by SHA-256 of (model id, text) in .cache/embeddings/ of the checkout
(git-ignored; $CROSSINGGUARD_CACHE overrides), so retraining and evaluation embed a text once.
Saved without pickle: heads.npz (float64 encoder-head coefficients, float32 student TF-IDF and
gate coefficients and prototype vectors, the seed vectors at 4 bits a component with a float32
scale each and a float32 offset per dimension, int8 seed labels) + heads.json; kernel.npz (classifiers.kernel: support vectors as rows of the seed vectors).
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from classifiers.datasets import SEED, Part, repo_root, split_source
from classifiers.encoder import DIM, MODEL_ID, Encoder
from classifiers.train.idioms import SELF_HARM_NEGATIVES, THREAT_NEGATIVES

HEADS_FORMAT = "crossingguard-heads/1"
HEAD_C = 1.0
# (train cap, validation cap, test cap) per source: positives first up to half of each cap (rare
# positives, e.g. Gab's 155 calls for violence, are all kept), then negatives.
HEAD_SOURCES: dict[str, dict[str, tuple[int, int, int]]] = {
    "bullying": {"olid": (800, 250, 300), "kaggle_insults": (800, 250, 300), "formspring": (800, 250, 300),
                 "askfm": (800, 250, 300), "gametox_peer_toxicity": (800, 250, 300)},
    "threat": {"threatgram": (1500, 400, 300), "gab_hate_cv": (600, 150, 300),
               "implicit_hate_threatening": (800, 200, 300)},
    "self_harm": {"suicidal_tweets": (1200, 350, 300), "reddit_sw_teens": (1200, 350, 300)},
}
# Negatives borrowed from other categories (train parts): self-harm is not a threat, a threat is
# not self-harm, insults are neither. (source, label taken, how many)
# Round three adds everyday text as negatives (label 0 of other sources: tweets, teens' Q&A, game
# chat, r/teenagers): the threat head had only political Telegram, Gab and Twitter hate as its
# negatives, and flagged sports and everyday tweets.
HEAD_BORROWED = {
    "threat": (("suicidal_tweets", 1, 300), ("reddit_sw_teens", 1, 200), ("kaggle_insults", 1, 200),
               ("olid", 0, 400), ("askfm", 0, 300), ("gametox_peer_toxicity", 0, 300), ("reddit_sw_teens", 0, 200)),
    "self_harm": (("threatgram", 1, 300), ("kaggle_insults", 1, 200), ("gametox_peer_toxicity", 1, 200),
                  ("olid", 0, 300), ("askfm", 0, 300)),
    "bullying": (),
}
HEAD_IDIOMS = {"threat": THREAT_NEGATIVES, "self_harm": SELF_HARM_NEGATIVES}
# Hand-written student-style posts (classifiers/train/seed_posts.csv, written for this project, no
# real posts; separate from the realistic evaluation set): none of the public sets has school
# threats, self-injury or eating-disorder posts, or teen hyperbole and help-seeking as negatives.
# A row of category c is a positive for c and a negative for the others (threat rows are left out
# of bullying: a threat to a peer is not a false bullying label); "none" rows are negatives for
# all. Each is repeated SEED_REPEAT times so ~700 posts weigh against ~10,000 public rows.
SEED_REPEAT = 10
LENGTH_MATCHED = ("self_harm",)
LENGTH_BINS = (0, 8, 16, 32, 64, 96, 127)
# Categories whose shipped score is the ensemble. Bullying's ensemble has no encoder head: with it,
# the bench's dialect check flagged 15.2% of the Davidson tweets annotators called inoffensive that
# carry African-American English markers (8.2% of the others; round two), and 7.1% / 4.5% in round
# three, against 1.0% and 1.7% for the TF-IDF model alone; the head learned swearing from ASKfm and
# GameTox. TF-IDF + prototype similarity flags 2.4% / 3.6% (EXPERIMENTS.md).
ENSEMBLE_CATEGORIES = ("threat", "self_harm", "bullying")
# The ensemble's members per category (classifiers.heads): TF-IDF logit, encoder head, prototype
# similarities (to the category's prototypes, to the hard-negative ones).
MEMBERS = {"threat": ("tfidf", "head", "proto_pos", "proto_neg", "seed_head", "seed_tfidf", "knn"),
           "self_harm": ("tfidf", "head", "proto_pos", "proto_neg", "seed_head", "seed_tfidf", "knn"),
           "bullying": ("tfidf", "proto_pos", "proto_neg", "seed_head", "seed_tfidf", "knn")}
ALL_MEMBERS = ("tfidf", "head", "proto_pos", "proto_neg", "seed_head", "seed_tfidf", "knn", "kernel")
STACK_KEY = {"tfidf": "w_tfidf_logit", "head": "w_head", "proto_pos": "w_proto_pos", "proto_neg": "w_proto_neg",
             "seed_head": "w_seed_head", "seed_tfidf": "w_seed_tfidf", "knn": "w_knn", "kernel": "w_kernel"}
# Round five: a nearest-neighbour member (classifiers.heads.knn_margin): the mean cosine similarity
# of a window's KNN_K nearest positive seed posts of the category minus that of its KNN_K nearest
# negative ones (the rows the student members train on). The seed posts' vectors ship (4-bit);
# on the seed posts in the stack it is out of fold (the bank without the post's fold).
KNN_K = 10
# Round five (svc5): the kernel member (classifiers/train/kernel.py: an RBF SVM on the seed posts'
# vectors, out-of-writer-fold decisions in the stack) joins the threat and self-harm ensembles. Not
# bullying's: trained on seed posts alone (public texts' vectors may not ship), it labelled 9.5% of
# Davidson's inoffensive tweets with African-American English markers and 7.3% of the others as
# bullying (2.9% / 2.1% in round four; the model card's dialect check).
KERNEL_CATEGORIES = ("threat", "self_harm")
MEMBERS = {c: m + (("kernel",) if c in KERNEL_CATEGORIES else ()) for c, m in MEMBERS.items()}
# Round four: a student-domain head per category, a logistic regression on the vectors of the seed
# posts alone (positives: the category's seeds; negatives: every other seed, threat seeds left out
# of bullying as above). Its decisions on the seed posts in the stack are out of fold.
SEED_HEAD_C = 1.0
# ... and a student TF-IDF model per category: the same kind of logistic regression on the seed
# posts, over the category's TF-IDF features (its vocabulary and idf, so it costs one more column
# of the product the TF-IDF models already compute; classifiers.textmodels.TextModels._set_student).
STUDENT_C = 10.0
# Everyday public text as extra negatives of the bullying student members (label 0 of tweets, teens'
# Q&A and game chat): on the seed posts alone they flagged 6.7% of Davidson's inoffensive tweets
# with African-American English markers (4.7% of the others; round three 2.9% / 3.8%).
STUDENT_BORROWED = {"bullying": (("olid", 0, 400), ("askfm", 0, 300), ("gametox_peer_toxicity", 0, 300))}
# Kind gates (classifiers.heads.Gate), learned from the negatives instead of hand rules: a post of
# the gate's kinds loses the labels the gate suppresses (the learned help gate joins the
# help-seeking rules and their policy; the others keep a label the post states plainly). Each
# trains on its kinds' seed posts against the suppressed categories' seed posts; threshold: the
# lowest passing at most GATE_COST of those category posts (out of fold), so each gate costs at
# most ~2% of a category's recall on the seeds.
# Round five: the hyperbole gate drops self_harm too ("i'm gonna die if she sees this"), and a gate
# for ordinary posts drops threat and self_harm (times, places and plans that read like a threat);
# leave-one-writer-out, with the nearest-neighbour member and before the VAL_CAP floor: threat recall
# 0.84 -> 0.87 and self-harm 0.84 -> 0.86 at fewer false labels (EXPERIMENTS.md, round five). A plain
# self-harm pattern still keeps its label (classifiers.pipeline).
GATES = {
    "help": {"kinds": ("help",), "suppresses": ("bullying", "threat"), "vocab": "bullying"},
    # round seven: the slang gate drops threat too. Friendly dialect slang ("finna slide to the
    # bonfire, yall tryna pull up?", "dont play with her, she him") was labelled threat: 8.8% of the
    # evaluation sets' slang rows with African-American English markers against 1.5% without (round
    # six, bench). Trained against threat seeds as well, the gate passes 0.3% of them (out of fold);
    # a plain threat pattern still keeps its label (classifiers.pipeline). Dev sets: threat recall
    # unchanged, marker slang labelled threat 4.4% (EXPERIMENTS.md, round seven).
    "slang": {"kinds": ("slang",), "suppresses": ("bullying", "threat"), "vocab": "bullying"},
    "hyperbole": {"kinds": ("hyperbole", "game"), "suppresses": ("threat", "self_harm"), "vocab": "threat"},
    "ordinary": {"kinds": ("ordinary",), "suppresses": ("threat", "self_harm"), "vocab": "threat"},
}
GATE_COST = 0.02
SEED_FOLDS = 5
# The seed posts' out-of-fold groups for every member trained on them, the stack and the thresholds:
# "hash", SEED_FOLDS folds by text hash (round four), or "writer", one fold per seed file (each file
# is one writer's voice), so a seed's out-of-fold decision comes from members that never read its
# writer. Writer folds were tried in round five and measured leave-one-writer-out (train without a
# writer, score its posts: the figure that predicts an unseen writer): they made the thresholds
# higher and did not raise recall on the writer left out (bullying 0.73 -> 0.70, threat and
# self-harm equal; EXPERIMENTS.md), and cost twelve refits of the public head instead of five. Kept
# as an option.
FOLDS_BY = "hash"
STACK_C = 100.0
# How much the seed posts' cells weigh in the stack against the validation parts' (1: each cell
# the same). 0.5 halves the public-set loss of round four (OLID 0.681 -> 0.712, Formspring 0.743 ->
# 0.769) and costs holdout recall (bullying 0.74 -> 0.70, threat 0.90 -> 0.875, self-harm 0.95 ->
# 0.89): EXPERIMENTS.md, round four. Kept at 1.
STACK_SEED_SHARE = 1.0
# Threshold choice: recall on the seed posts' out-of-fold ensemble scores (the student-style domain;
# a missed threat costs more than a counselor's minute), within NONE_CAP; since round four bullying
# too (round three chose it for precision 0.85 on the validation parts, PRECISION_TARGET).
RECALL_TARGET: dict[str, float] = {"threat": 0.90, "self_harm": 0.90, "bullying": 0.90}
# The cap per category (per kind of negative seed, threshold_recall_capped): 10% for each. The
# kind gates take friendly slang and hyperbole out first; 10% is about the share of the r4a slang
# seeds the round-three models (which never saw them) labelled bullying (9.4%), so bullying recall
# is not bought with more false labels on slang. Round three's 15% labelled 24% (threat) and 25%
# (self-harm) of the public validation negatives and 14% of the ordinary seed posts as self-harm;
# at 10%: 9% and 17% (EXPERIMENTS.md, round four).
# Round seven: bullying 15% (with VAL_CAP 10% below). At round six's 10% / 6% the bullying
# threshold (0.82) kept 0.63 of the bullying seeds (out of fold) and 0.80-0.82 of bullying on the
# two independent sets; mock praise, exclusion and rumours score 0.74-0.82. On the six dev sets,
# 0.85 -> 0.89 bullying recall for 5.5% -> 5.9% false labels, threat and self-harm unchanged; the
# cost is on everyday public text: Davidson's inoffensive tweets labelled bullying 3% -> 7% (no
# gap by dialect markers). Measured again on holdout7 (EXPERIMENTS.md, round seven).
NONE_CAP = {"threat": 0.10, "self_harm": 0.10, "bullying": 0.15}
# ... and never so low that more than VAL_CAP of the public validation parts' negatives are labelled
# (round five): with the ordinary-post gate taking ordinary seeds out of the cap, the threat threshold
# fell from 0.64 to 0.47 and labelled 18% of those negatives (round four 9.4%) and short everyday
# posts ("see u tomorrow", "im at the mall"); a recall gain must not come from flagging everyday
# text. Round four's rates, rounded up.
# Round eight: self-harm 0.17 -> 0.19; threat and bullying tried at 0.15 and 0.13 and put back to
# 0.10. On the seven dev sets the lower thresholds looked cheap (threat 0.935 -> 0.956, bullying
# 0.914 -> 0.928 recall for about a point more false labels), but on holdout8, three writers the
# models never saw (scored once with all three caps lowered): threat 0.64 -> 0.51 found one more of
# 135 threats for a point more false labels, and labelled 5.2% / 3.4% of Davidson's inoffensive
# tweets (with / without dialect markers) as threats against 1.9% / 2.0%; bullying 0.74 -> 0.69
# found five more of 135 but labelled 11.0% / 8.6% of those tweets bullying against 5.7% / 6.3%, a
# gap by dialect the check exists to catch. Self-harm 0.52 -> 0.47 found two more of 148 on
# holdout8 at no false-label or Davidson cost (EXPERIMENTS.md, round eight).
VAL_CAP = {"threat": 0.10, "self_harm": 0.19, "bullying": 0.09}
PRECISION_TARGET = {"bullying": 0.85, "threat": 0.85, "self_harm": 0.90}


def cache_dir() -> Path:
    env = os.environ.get("CROSSINGGUARD_CACHE")
    return Path(env) if env else repo_root() / ".cache" / "embeddings"


class EmbeddingCache:
    """First-window vectors by SHA-256(model id + text), in one SQLite file."""

    def __init__(self, path: Path | None = None):
        path = path or cache_dir() / f"{MODEL_ID}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, vec BLOB)")

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(f"{MODEL_ID}\0{text}".encode("utf-8")).hexdigest()

    def embed(self, encoder: Encoder, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        have: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            q = "SELECT k, vec FROM v WHERE k IN (%s)" % ",".join("?" * len(chunk))
            for k, blob in self.db.execute(q, chunk):
                have[k] = np.frombuffer(blob, dtype=np.float32)
        todo = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in have]
        for i in range(0, len(todo), 64):
            batch = todo[i:i + 64]
            vecs = encoder.encode([t for _, t in batch], first_only=True).vectors
            self.db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)",
                                [(k, v.astype(np.float32).tobytes()) for (k, _), v in zip(batch, vecs)])
            self.db.commit()
            for (k, _), v in zip(batch, vecs):
                have[k] = v
            if progress:
                progress(len(batch))
        return np.vstack([have[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)


@dataclass
class HeadData:
    train: Part = field(default_factory=Part)
    val: Part = field(default_factory=Part)
    tests: dict[str, Part] = field(default_factory=dict)
    train_source: list[str] = field(default_factory=list)
    train_weight: list[float] = field(default_factory=list)   # per train row (seed posts: SEED_REPEAT)
    val_source: list[str] = field(default_factory=list)


def _sample(part: Part, cap: int, rng: random.Random) -> list[int]:
    pos = [i for i, y in enumerate(part.labels) if y == 1]
    neg = [i for i, y in enumerate(part.labels) if y == 0]
    rng.shuffle(pos)
    rng.shuffle(neg)
    take = pos[:cap // 2]
    take += neg[:cap - len(take)]
    return sorted(take)


def gather_heads(category: str, data_dir: Path | None, splits: dict | None = None,
                 extra: Part | None = None, repeat_seeds: bool = True) -> HeadData:
    """The head's training rows. `repeat_seeds`: every seed post SEED_REPEAT times (the LOSO
    recipe); without, once, with weight SEED_REPEAT in `train_weight` (the same objective for
    fit_head, in a tenth of the rows: round five's 9,500 seed posts made 95,000 rows)."""
    splits = splits if splits is not None else {}

    def parts(name: str):
        if name not in splits:
            splits[name] = split_source(name, data_dir)
        return splits[name]

    out = HeadData()
    for name, (ntr, nva, nte) in HEAD_SOURCES[category].items():
        rng = random.Random(f"{SEED}:heads:{name}")
        p = parts(name)
        for i in _sample(p["train"], ntr, rng):
            out.train.add(p["train"].texts[i], p["train"].labels[i])
            out.train_source.append(name)
            out.train_weight.append(1.0)
        for i in _sample(p["val"], nva, rng):
            out.val.add(p["val"].texts[i], p["val"].labels[i])
            out.val_source.append(name)
        test = Part()
        for i in _sample(p["test"], nte, rng):
            test.add(p["test"].texts[i], p["test"].labels[i])
        out.tests[name] = test
    rng = random.Random(f"{SEED}:heads:borrow:{category}")
    for name, label, n in HEAD_BORROWED[category]:
        pool = [t for t, y in zip(parts(name)["train"].texts, parts(name)["train"].labels) if y == label]
        rng.shuffle(pool)
        for t in pool[:n]:
            out.train.add(t, 0)
            out.train_source.append(f"{name}(borrowed)")
            out.train_weight.append(1.0)
    for t in HEAD_IDIOMS.get(category, ()):
        out.train.add(t, 0)
        out.train_source.append("idioms")
        out.train_weight.append(1.0)
    for seed in read_seeds():
        text, cat = seed.text, seed.category
        if category == "bullying" and cat == "threat":
            continue
        for _ in range(SEED_REPEAT if repeat_seeds else 1):
            out.train.add(text, int(cat == category))
            out.train_source.append("seeds")
            out.train_weight.append(1.0 if repeat_seeds else float(SEED_REPEAT))
    if extra is not None:
        for t, y in zip(extra.texts, extra.labels):
            out.train.add(t, y)
            out.train_source.append("extra")
            out.train_weight.append(1.0)
    return out


def seeds_path() -> Path:
    return Path(__file__).resolve().parent / "seed_posts.csv"


# Writers left out of training (leave_writers_out): how `evaluate --writers` measures an unseen
# writer. Empty in every shipped training.
_LEFT_OUT: set[str] = set()


def seed_files() -> list[Path]:
    """The seed posts: seed_posts.csv (rounds two and three, no kind column) and every
    seeds/*.csv (round four: text,category,label,kind), in name order; without the writers
    leave_writers_out holds back."""
    files = [seeds_path()] + sorted((seeds_path().parent / "seeds").glob("*.csv"))
    return [f for f in files if f.stem not in _LEFT_OUT]


@contextmanager
def leave_writers_out(*writers: str):
    """Within the block, read_seeds() and so every fit skip these seed files (by name, no .csv)."""
    before = set(_LEFT_OUT)
    _LEFT_OUT.update(writers)
    try:
        yield
    finally:
        _LEFT_OUT.clear()
        _LEFT_OUT.update(before)


@dataclass(frozen=True)
class Seed:
    text: str
    category: str       # bullying | threat | self_harm | none
    label: int
    kind: str           # the category for positives (or `concern`: a worried friend, self_harm);
                        # help | hyperbole | slang | quote | game | ordinary for negatives;
                        # `hard` for negatives of seed_posts.csv, which has no kind column
    writer: str = ""    # the seed file's name without .csv: one file, one writer's voice (round five)


SEED_KINDS = ("bullying", "threat", "self_harm", "concern", "help", "hyperbole", "slang", "quote", "game",
              "gaming", "ordinary", "hard")


def read_seeds(paths: Sequence[Path] | None = None) -> list[Seed]:
    """Every seed post once (the first file that has a text wins). A malformed row raises
    DataFileError naming file, line and column."""
    import csv
    from classifiers.datasets import DataFileError
    out: list[Seed] = []
    seen: set[str] = set()
    for path in (paths if paths is not None else seed_files()):
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            for r in reader:
                where = f"{path}:{reader.line_num}"
                text, cat, label = (r.get("text") or "").strip(), r.get("category"), r.get("label")
                if not text:
                    raise DataFileError(f"{where}: text: empty")
                if cat not in ("bullying", "threat", "self_harm", "none"):
                    raise DataFileError(f"{where}: category: expected bullying, threat, self_harm or none, got {cat!r}")
                if label not in ("0", "1") or (label == "1") != (cat != "none"):
                    raise DataFileError(f"{where}: label: expected 1 for a category, 0 for none, got {label!r}")
                kind = r.get("kind") or (cat if cat != "none" else "hard")
                if kind == "gaming":
                    kind = "game"
                if kind not in SEED_KINDS or (cat == "none") != (kind not in ("bullying", "threat", "self_harm", "concern")):
                    raise DataFileError(f"{where}: kind: {kind!r} does not fit category {cat!r}")
                if text in seen:
                    continue
                seen.add(text)
                out.append(Seed(text, cat, int(label), kind, path.stem))
    return out


def token_lengths(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    return np.array([min(len(encoder.tokenizer.encode(t, add_special_tokens=False).ids), 126) for t in texts])


def length_match(lengths: np.ndarray, labels: Sequence[int], seed: str) -> np.ndarray:
    """Row indices with as many positives as negatives in every token-length bin."""
    y = np.asarray(labels)
    bins = np.digitize(lengths, LENGTH_BINS[1:-1])
    rng = random.Random(seed)
    keep: list[int] = []
    for b in sorted(set(bins.tolist())):
        pos = [int(i) for i in np.flatnonzero((bins == b) & (y == 1))]
        neg = [int(i) for i in np.flatnonzero((bins == b) & (y == 0))]
        rng.shuffle(pos)
        rng.shuffle(neg)
        n = min(len(pos), len(neg))
        keep += pos[:n] + neg[:n]
    return np.array(sorted(keep), dtype=np.int64)


def fit_head(X: np.ndarray, y: Sequence[int], weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Balanced logistic regression. `weight`: each row counts that many times (classes are
    balanced over the weighted counts, as over repeated rows)."""
    y = np.asarray(y)
    if weight is None:
        clf = LogisticRegression(C=HEAD_C, max_iter=5000, class_weight="balanced")
        clf.fit(X.astype(np.float64), y)
    else:
        w = np.asarray(weight, dtype=np.float64)
        total = {c: float(w[y == c].sum()) for c in (0, 1)}
        w = w * np.where(y == 1, w.sum() / (2 * total[1]), w.sum() / (2 * total[0]))
        clf = LogisticRegression(C=HEAD_C, max_iter=5000).fit(X.astype(np.float64), y, sample_weight=w)
    return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_stack(tfidf_p: np.ndarray, head_d: np.ndarray, y: Sequence[int]) -> tuple[list[float], float]:
    Z = np.column_stack([logit(tfidf_p), head_d])
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(Z, np.asarray(y))
    return [float(w) for w in clf.coef_[0]], float(clf.intercept_[0])


def threshold_for_recall(labels, scores, target: float) -> tuple[float, float, float]:
    """The highest threshold that keeps recall >= target: (threshold, precision, recall)."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(scores, dtype=float)
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    tp = np.cumsum(ys)
    rec = tp / max(1, ys.sum())
    i = int(np.argmax(rec >= target))
    while i + 1 < len(ps) and ps[i + 1] == ps[i]:
        i += 1
    return float(ps[i]), float(tp[i] / (i + 1)), float(rec[i])


def prepare(texts: Sequence[str]) -> list[str]:
    """What the encoder reads at run time (classifiers.textmodels.TextModels.score): the normalized
    text, cut at MAX_CHARS. The heads and the prototype bank are embedded the same way."""
    from classifiers.normalize import normalize
    from classifiers.textmodels import MAX_CHARS
    return [normalize(t[:MAX_CHARS], offsets=False).text for t in texts]


def prototypes_path() -> Path:
    return Path(__file__).resolve().parents[1] / "models" / "prototypes.csv"


def read_prototypes(path: Path | None = None) -> list[tuple[str, str]]:
    """(text, kind) rows of the prototype bank; kind is a category or one of NEGATIVE_KINDS."""
    import csv
    from classifiers.datasets import DataFileError
    from classifiers.heads import NEGATIVE_KINDS
    path = path or prototypes_path()
    out = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for r in reader:
            if r.get("kind") not in ("bullying", "threat", "self_harm") + NEGATIVE_KINDS or not r.get("text"):
                raise DataFileError(f"{path}:{reader.line_num}: kind: expected a category or one of "
                                    f"{', '.join(NEGATIVE_KINDS)}, got {r.get('kind')!r}")
            out.append((r["text"], r["kind"]))
    return out


def seed_fold(text: str) -> int:
    """A seed post's out-of-fold group by the hash of its text (round four's folds; stable, so
    repeats stay together)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % SEED_FOLDS


def seed_folds(seeds: Sequence[Seed]) -> np.ndarray:
    """Each seed post's out-of-fold group (FOLDS_BY): its writer's place in the seed files' order
    (every writer one fold), or round four's text hash."""
    if FOLDS_BY == "hash":
        return np.array([seed_fold(x.text) for x in seeds], dtype=np.int64)
    order = {f.stem: i for i, f in enumerate([seeds_path()] + sorted((seeds_path().parent / "seeds").glob("*.csv")))}
    return np.array([order.get(x.writer, len(order)) for x in seeds], dtype=np.int64)


def stack_sample_weights(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Every (group, class) cell weighs the same in total (len(y) / number of cells)."""
    w = np.zeros(len(y))
    cells = [(g, c) for g in np.unique(groups) for c in (0, 1) if np.any((groups == g) & (y == c))]
    for g, c in cells:
        m = (groups == g) & (y == c)
        w[m] = len(y) / len(cells) / m.sum()
    return w


def fit_stack_weighted(Z: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression over the member columns Z, rows weighted by stack_sample_weights: the
    seed posts (the student-style domain) count as much as the public validation parts, and
    positives as much as negatives."""
    w = stack_sample_weights(y, groups)
    w[groups == "seeds"] *= STACK_SEED_SHARE
    clf = LogisticRegression(C=STACK_C, max_iter=5000).fit(Z, y, sample_weight=w)
    return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def threshold_recall_capped(labels, scores, hard_negative, target: float, cap: float,
                            min_kind: int = 10) -> tuple[float, float, float]:
    """(threshold, recall threshold, cap threshold): recall first, within a cap. The recall
    threshold is the highest keeping recall >= target; the cap threshold the (1 - cap) quantile of
    the hard negatives' scores, so at most about `cap` of them are labelled; the larger wins.
    `hard_negative`: booleans (one group), or each row's kind ("" for none): then the cap holds
    for every kind with at least `min_kind` rows (the largest of their quantiles), so a kind that
    is easy for this category (slang for threat) cannot buy a lower threshold for a hard one
    (hyperbole for threat) by its numbers."""
    t_rec = threshold_for_recall(labels, scores, target)[0]
    sc = np.asarray(scores, dtype=float)
    hn = np.asarray(hard_negative)
    if hn.dtype == bool:
        groups = [hn]
    else:
        groups = [hn == k for k in sorted(set(hn.tolist()) - {""}) if (hn == k).sum() >= min_kind]
    floor = max((float(np.quantile(sc[g], 1 - cap)) for g in groups if g.any()), default=0.0)
    return max(t_rec, floor), t_rec, floor


def seed_rows(category: str, seeds: Sequence[Seed]) -> list[Seed]:
    """The seed posts a student-domain model of `category` trains on (threat seeds are left out
    of bullying: a threat to a peer is not a false bullying label)."""
    return [x for x in seeds if not (category == "bullying" and x.category == "threat")]


def fit_seed_model(category: str, seeds: Sequence[Seed], X, C: float, negatives=None) -> dict:
    """A student-domain model of `category` on the seed posts (X: one row per
    seed_rows(category, seeds), encoder vectors or student TF-IDF features; `negatives`: rows of
    borrowed everyday text, STUDENT_BORROWED, in every fold's training as negatives):
    coefficients, intercept, and each seed's out-of-fold decision (SEED_FOLDS folds by text hash,
    as the stack's)."""
    use = seed_rows(category, seeds)
    texts = [x.text for x in use]
    y = np.array([int(x.category == category) for x in use])
    folds = seed_folds(use)
    oof = np.zeros(len(use))

    def with_negatives(A, yy):
        if negatives is None or negatives.shape[0] == 0:
            return A, yy
        stack = sp.vstack if sp.issparse(A) else np.vstack
        return stack([A, negatives]), np.concatenate([yy, np.zeros(negatives.shape[0], dtype=yy.dtype)])

    for k in np.unique(folds):
        c_k, i_k = fit_seed_logistic(*with_negatives(X[folds != k], y[folds != k]), C)
        oof[folds == k] = X[folds == k] @ c_k + i_k
    coef, icpt = fit_seed_logistic(*with_negatives(X, y), C)
    return {"coef": coef, "intercept": icpt, "texts": texts, "oof": oof, "positives": int(y.sum()),
            "oof_roc_auc": round(float(roc_auc_score(y, oof)), 4)}


def knn_labels(category: str, seeds: Sequence[Seed]) -> np.ndarray:
    """Each seed post's label for `category`'s nearest-neighbour member: 1 a post of the category,
    0 another seed post, -1 not used (threat posts for bullying, as for the student members)."""
    return np.array([-1 if category == "bullying" and x.category == "threat" else int(x.category == category)
                     for x in seeds], dtype=np.int8)


def student_borrowed(category: str, data_dir: Path | None, splits: dict) -> list[str]:
    """The everyday public texts the student members of `category` also take as negatives
    (STUDENT_BORROWED; label-0 rows of train parts, seeded sample)."""
    rng = random.Random(f"{SEED}:student:borrow:{category}")
    out: list[str] = []
    for name, label, n in STUDENT_BORROWED.get(category, ()):
        if name not in splits:
            splits[name] = split_source(name, data_dir)
        pool = [t for t, y in zip(splits[name]["train"].texts, splits[name]["train"].labels) if y == label]
        rng.shuffle(pool)
        out += pool[:n]
    return out


def fit_seed_logistic(X, y: np.ndarray, C: float = SEED_HEAD_C) -> tuple[np.ndarray, float]:
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(X, y)
    return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def fit_gate(name: str, seeds: Sequence[Seed], vec: dict[str, np.ndarray], tfidf_models) -> dict:
    """A kind gate (GATES[name]; classifiers.heads.Gate): a logistic regression on the encoder
    vectors plus one on the student TF-IDF features, each trained on the seed posts of the gate's
    kinds (1) against those of the categories it suppresses (0); the gate's decision is their sum.
    Threshold: the lowest at which at most GATE_COST of the suppressed categories' seed posts
    (out of fold) pass, never below 0. Returns the arrays, the heads-file entry, and "_gated": each
    seed post's gate decision at that threshold, out of fold for the posts it trained on (and from
    the full fit for the others, which it never saw)."""
    spec = GATES[name]
    use = [x for x in seeds if x.kind in spec["kinds"] or x.category in spec["suppresses"]]
    texts = [x.text for x in use]
    y = np.array([int(x.kind in spec["kinds"]) for x in use])
    X = np.vstack([vec[t] for t in texts]).astype(np.float64)
    F = tfidf_models.feature_matrix(texts, spec["vocab"])
    folds = seed_folds(use)
    oof = np.zeros(len(use))
    for k in np.unique(folds):
        tr = folds != k
        ce, ie = fit_seed_logistic(X[tr], y[tr], SEED_HEAD_C)
        ct, it = fit_seed_logistic(F[tr], y[tr], STUDENT_C)
        oof[~tr] = X[~tr] @ ce + ie + F[~tr] @ ct + it
    ce, ie = fit_seed_logistic(X, y, SEED_HEAD_C)
    ct, it = fit_seed_logistic(F, y, STUDENT_C)
    thr = max(float(np.quantile(oof[y == 0], 1 - GATE_COST)), 0.0)
    gated = {t: bool(d >= thr) for t, d in zip(texts, oof)}
    rest = [x.text for x in seeds if x.text not in gated]
    if rest:
        d_rest = (np.vstack([vec[t] for t in rest]).astype(np.float64) @ ce + ie
                  + tfidf_models.feature_matrix(rest, spec["vocab"]) @ ct + it)
        gated.update({t: bool(d >= thr) for t, d in zip(rest, d_rest)})
    kinds = sorted({x.kind for x in seeds})
    by_kind = {k: round(float(np.mean([gated[x.text] for x in seeds if x.kind == k])), 4) for k in kinds}
    entry = {"kinds": list(spec["kinds"]), "suppresses": list(spec["suppresses"]), "vocab": spec["vocab"],
             "intercept": ie + it, "threshold": round(thr, 6), "C": [SEED_HEAD_C, STUDENT_C],
             "rule": f"lowest threshold passing at most {GATE_COST} of the {'/'.join(spec['suppresses'])} "
                     "seed posts (out of fold)",
             "n": len(use), "kind_seeds": int(y.sum()), "oof_roc_auc": round(float(roc_auc_score(y, oof)), 4),
             "passed_by_kind": by_kind}
    return {"enc": ce, "tfidf": ct, "entry": entry, "_gated": gated}


def train_heads(categories: Sequence[str], data_dir: Path | None, tfidf_proba: Callable[[list[str]], dict],
                encoder: Encoder, *, extra: dict[str, Part] | None = None, log=print, tfidf_models=None) -> dict:
    """Fit every category's head and ensemble; returns the heads document (arrays under "_arrays").
    BLAS runs on one thread: the solvers' sums then come out in the same order on every machine
    and at any OMP_NUM_THREADS, so `crossingguard train` reproduces the shipped files bit for bit
    (with two threads the coefficients differed in their last bits)."""
    from classifiers.train.threads import single_threaded
    with single_threaded():
        return _train_heads(categories, data_dir, tfidf_proba, encoder, extra=extra, log=log, tfidf_models=tfidf_models)


def _train_heads(categories: Sequence[str], data_dir: Path | None, tfidf_proba: Callable[[list[str]], dict],
                 encoder: Encoder, *, extra: dict[str, Part] | None = None, log=print, tfidf_models=None) -> dict:
    from classifiers.heads import NEGATIVE_KINDS, PROTO_TAU, dequantize_rows4, knn_margin, proto_features, quantize_rows4
    from classifiers.train.metrics import binary_metrics, threshold_for_precision

    cache = EmbeddingCache()
    splits: dict = {}
    bank_rows = read_prototypes()
    bank_kinds = [k for _, k in bank_rows]
    bank = cache.embed(encoder, prepare([t for t, _ in bank_rows])).astype(np.float32)
    doc: dict = {"format": HEADS_FORMAT, "encoder": MODEL_ID, "encoder_input": "normalized text",
                 "prototypes": {"file": prototypes_path().name,
                                "sha256": hashlib.sha256(prototypes_path().read_bytes()).hexdigest(),
                                "tau": PROTO_TAU, "negative_kinds": list(NEGATIVE_KINDS), "kinds": bank_kinds},
                 "categories": {}, "_arrays": {"proto_vectors": bank}}
    seeds = read_seeds()
    seed_vec = dict(zip((x.text for x in seeds), cache.embed(encoder, prepare([x.text for x in seeds]))))
    fold_of = dict(zip((x.text for x in seeds), seed_folds(seeds).tolist()))
    # the bank as it ships (round seven: 4 bits a component, classifiers.heads.quantize_rows4), so
    # the kNN columns the stack is fitted on are the ones the proxy computes, and the kernel SVMs
    # are fitted on these rows (their support vectors are stored as rows of this bank, so the
    # proxy's kernel decisions are the ones the stack was fitted on)
    knn_q, knn_scale, knn_offset = quantize_rows4(np.vstack([seed_vec[x.text] for x in seeds]))
    knn_bank = dequantize_rows4(knn_q, knn_scale, knn_offset)
    bank_row = {x.text: i for i, x in enumerate(seeds)}
    bank_fold = seed_folds(seeds)
    if any(m in MEMBERS[c] for c in categories for m in ("knn", "kernel")):
        doc["_arrays"].update(knn_vectors4=knn_q, knn_scale=knn_scale, knn_offset=knn_offset)
        doc["knn"] = {"k": KNN_K, "rows": len(seeds),
                      "dtype": "4 bits a component (two a byte), a float32 scale per vector, a float32 offset "
                               "per dimension, rows back to unit length (classifiers.heads.quantize_rows4)",
                      "what": "the seed posts' encoder vectors (our own synthetic posts)"}
    if tfidf_models is None:
        raise ValueError("the student members and kind gates need the TF-IDF models (tfidf_models)")
    doc["gates"] = {}
    gated_by: dict[str, set[str]] = {}     # category -> seed texts a gate suppressing it passes (out of fold)
    for name in GATES:
        g = fit_gate(name, seeds, seed_vec, tfidf_models)
        doc["gates"][name] = g["entry"]
        doc["_arrays"][f"gate_enc_{name}"] = g["enc"]
        doc["_arrays"][f"gate_tfidf_{name}"] = g["tfidf"]
        for c in GATES[name]["suppresses"]:
            gated_by.setdefault(c, set()).update(t for t, on in g["_gated"].items() if on)
        log(json.dumps({"gate": name, **{k: v for k, v in g["entry"].items() if k != "rule"}}))
    kind_of_seed = {x.text: x.kind for x in seeds if x.category == "none"}
    for cat in categories:
        members = MEMBERS[cat]
        data = gather_heads(cat, data_dir, splits, (extra or {}).get(cat), repeat_seeds=False)
        n_all = len(data.train) + len(data.val)
        log(f"{cat}: embedding {n_all} texts (cached ones are read back)")
        Xtr = cache.embed(encoder, prepare(data.train.texts))
        Xva = cache.embed(encoder, prepare(data.val.texts))
        ytr = np.asarray(data.train.labels)
        src = np.array(data.train_source)
        is_seed = src == "seeds"
        rows = np.arange(len(ytr))
        length_note = None
        if cat in LENGTH_MATCHED:
            # the public sources only: the seed posts are short on both sides and always kept
            pub = np.flatnonzero(~is_seed)
            lens = token_lengths(encoder, [data.train.texts[i] for i in pub])
            before = float(roc_auc_score(ytr[pub], lens))
            keep = length_match(lens, ytr[pub], f"{SEED}:heads:length:{cat}")
            after = float(roc_auc_score(ytr[pub][keep], lens[keep]))
            rows = np.sort(np.concatenate([pub[keep], np.flatnonzero(is_seed)]))
            length_note = {"length_auc_before": round(before, 4), "length_auc_after": round(after, 4),
                           "kept": int(len(keep)), "of": int(len(pub)), "scope": "public sources (seed posts kept)",
                           "how": "equal positives and negatives per token-length bin " + str(LENGTH_BINS)}
        wtr = np.asarray(data.train_weight)
        coef, icpt = fit_head(Xtr[rows], ytr[rows], wtr[rows])
        # out-of-fold head decisions for the seed posts: refit without each fold's seeds
        seed_texts = list(dict.fromkeys(data.train.texts[i] for i in np.flatnonzero(is_seed)))
        label_of = {t: y for t, y, seed in zip(data.train.texts, data.train.labels, is_seed) if seed}
        seed_y = np.array([int(label_of[t]) for t in seed_texts])
        folds = np.array([fold_of[t] for t in seed_texts])
        Xseed = cache.embed(encoder, prepare(seed_texts))
        d_seed = np.zeros(len(seed_texts))
        row_fold = np.array([fold_of[data.train.texts[i]] if is_seed[i] else -1 for i in rows])
        for k in np.unique(folds):
            c_k, i_k = fit_head(Xtr[rows[row_fold != k]], ytr[rows[row_fold != k]], wtr[rows[row_fold != k]])
            d_seed[folds == k] = Xseed[folds == k].astype(np.float64) @ c_k + i_k
        dva = Xva.astype(np.float64) @ coef + icpt
        # stacking rows: validation parts (out of sample for the head and TF-IDF) + seed posts (head
        # out of fold; TF-IDF never saw them; the prototype bank is separate text)
        texts_st = list(data.val.texts) + seed_texts
        y_st = np.concatenate([np.asarray(data.val.labels), seed_y])
        groups = np.array(["val"] * len(data.val) + ["seeds"] * len(seed_texts))
        p_st = np.asarray(tfidf_proba(texts_st)[cat], dtype=np.float64)
        d_st = np.concatenate([dva, d_seed])
        f_st = proto_features(np.vstack([Xva, Xseed]), bank, bank_kinds, cat)
        cols = {"tfidf": logit(p_st), "head": d_st, "proto_pos": f_st[:, 0], "proto_neg": f_st[:, 1]}
        seed_head_note = student_note = None
        if "seed_head" in members:
            borrowed = student_borrowed(cat, data_dir, splits)
            Xb = cache.embed(encoder, prepare(borrowed)).astype(np.float64) if borrowed else None
            Xs = np.vstack([seed_vec[x.text] for x in seed_rows(cat, seeds)]).astype(np.float64)
            sh = fit_seed_model(cat, seeds, Xs, SEED_HEAD_C, Xb)
            doc["_arrays"][f"seed_coef_{cat}"] = sh["coef"]
            oof = dict(zip(sh["texts"], sh["oof"]))
            cols["seed_head"] = np.concatenate([Xva.astype(np.float64) @ sh["coef"] + sh["intercept"],
                                                np.array([oof[t] for t in seed_texts])])
            seed_head_note = {"intercept": sh["intercept"], "n": len(sh["texts"]), "positives": sh["positives"],
                              "C": SEED_HEAD_C, "oof_roc_auc": sh["oof_roc_auc"]}
        if "seed_tfidf" in members:
            Fs = tfidf_models.feature_matrix([x.text for x in seed_rows(cat, seeds)], cat)
            borrowed = student_borrowed(cat, data_dir, splits)
            st = fit_seed_model(cat, seeds, Fs, STUDENT_C,
                                tfidf_models.feature_matrix(borrowed, cat) if borrowed else None)
            doc["_arrays"][f"student_coef_{cat}"] = st["coef"]
            oof = dict(zip(st["texts"], st["oof"]))
            cols["seed_tfidf"] = np.concatenate([tfidf_models.feature_matrix(data.val.texts, cat) @ st["coef"]
                                                 + st["intercept"], np.array([oof[t] for t in seed_texts])])
            student_note = {"intercept": st["intercept"], "n": len(st["texts"]), "positives": st["positives"],
                            "C": STUDENT_C, "oof_roc_auc": st["oof_roc_auc"],
                            "features": f"the {cat} TF-IDF model's vocabulary and idf"}
        if "knn" in members:
            lab = knn_labels(cat, seeds)
            doc["_arrays"][f"knn_label_{cat}"] = lab
            q_fold = np.array([fold_of[t] for t in seed_texts])
            k_seed = np.zeros(len(seed_texts))
            for k in np.unique(q_fold):
                k_seed[q_fold == k] = knn_margin(Xseed[q_fold == k], knn_bank, np.where(bank_fold == k, -1, lab), KNN_K)
            cols["knn"] = np.concatenate([knn_margin(Xva, knn_bank, lab, KNN_K), k_seed])
        kernel_note = None
        if "kernel" in members:     # round five (svc5): classifiers.train.kernel
            from classifiers.train.kernel import fit_kernel_member
            # the seed vectors as shipped (see knn_bank above), not as encoded
            Xk = knn_bank[[bank_row[x.text] for x in seed_rows(cat, seeds)]].astype(np.float64)
            km = fit_kernel_member(cat, seeds, Xk, {x.text: x.writer for x in seeds})
            doc.setdefault("_kernel", {})[cat] = {k: km[k] for k in ("sv", "dual", "intercept", "gamma")}
            oof = dict(zip(km["texts"], km["oof"]))
            cols["kernel"] = np.concatenate([km["model"].decision_function(Xva.astype(np.float64)),
                                             np.array([oof[t] for t in seed_texts])])
            kernel_note = km["note"]
        used = [m for m in ALL_MEMBERS if m in members]
        wts, b = fit_stack_weighted(np.column_stack([cols[m] for m in used]), y_st, groups)
        wd = dict(zip(used, (float(x) for x in wts)))
        stack = {"w_tfidf_logit": wd.get("tfidf", 0.0), "w_head": wd.get("head", 0.0), "intercept": b,
                 "w_proto_pos": wd.get("proto_pos", 0.0), "w_proto_neg": wd.get("proto_neg", 0.0),
                 "w_seed_head": wd.get("seed_head", 0.0), "w_seed_tfidf": wd.get("seed_tfidf", 0.0),
                 "w_knn": wd.get("knn", 0.0)}
        if "kernel" in used:    # round five (svc5)
            stack["w_kernel"] = wd["kernel"]
        key = STACK_KEY
        ens = 1 / (1 + np.exp(-(sum(stack[key[m]] * cols[m] for m in used) + b)))
        sv, ss = groups == "val", groups == "seeds"
        if gated_by.get(cat):
            # a seed post a gate (out of fold) passes loses this label whatever its score: the
            # threshold is chosen on what the pipeline would label (the plain-pattern exception
            # left aside)
            gated = ss & np.isin(np.array(texts_st, dtype=object), sorted(gated_by[cat]))
            ens = np.where(gated, 0.0, ens)
        seed_neg = (y_st == 0) & ss
        seed_none = ss & np.isin(np.array(texts_st, dtype=object), [s.text for s in read_seeds() if s.category == "none"])
        if cat in RECALL_TARGET:
            # recall first, within a cap: the highest threshold keeping RECALL_TARGET of the seed
            # posts of the category (out of fold), but never so low that more than NONE_CAP of the
            # hard-negative seed posts (hyperbole, help-seeking, slang, quotation, games) are labelled
            kind_of = {x.text: x.kind for x in seeds if x.category == "none"}
            neg_kind = np.array([kind_of.get(t, "") for t in np.array(texts_st, dtype=object)[ss]])
            thr, t_rec, floor = threshold_recall_capped(y_st[ss], ens[ss], neg_kind, RECALL_TARGET[cat], NONE_CAP[cat])
            vneg = ens[sv & (y_st == 0)]
            val_floor = float(np.quantile(vneg, 1 - VAL_CAP[cat])) if cat in VAL_CAP and len(vneg) else 0.0
            thr = max(thr, val_floor)
            choice = {"rule": f"max(threshold keeping seed recall >= {RECALL_TARGET[cat]}, "
                              f"threshold labelling <= {NONE_CAP[cat]} of the hard-negative seeds of every kind, "
                              f"threshold labelling <= {VAL_CAP.get(cat)} of the validation parts' negatives)",
                      "recall_threshold": round(t_rec, 4), "cap_threshold": round(floor, 4),
                      "val_cap_threshold": round(val_floor, 4), "on": "seed posts, out of fold; validation parts"}
            pos_s = ss & (y_st == 1)
            rec = float((ens[pos_s] >= thr).mean())
            flagged = ss & (ens >= thr)
            prec = float(y_st[flagged].mean()) if flagged.any() else 0.0
        else:
            thr, prec, rec = threshold_for_precision(y_st[sv], ens[sv], PRECISION_TARGET[cat])
            choice = {"rule": f"lowest threshold reaching precision {PRECISION_TARGET[cat]}", "on": "validation parts"}
        choice.update(precision=round(prec, 4), recall=round(rec, 4),
                      val_recall=round(float((ens[sv & (y_st == 1)] >= thr).mean()), 4),
                      val_false_positive_rate=round(float((ens[sv & (y_st == 0)] >= thr).mean()), 4),
                      seed_recall=round(float((ens[ss & (y_st == 1)] >= thr).mean()), 4),
                      seed_negatives_labelled=round(float((ens[seed_neg] >= thr).mean()), 4),
                      seed_none_labelled=round(float((ens[seed_none] >= thr).mean()), 4))
        kinds_st = np.array([kind_of_seed.get(t, "") for t in texts_st])
        choice["seed_negatives_labelled_by_kind"] = {
            k: round(float((ens[ss & (kinds_st == k)] >= thr).mean()), 4)
            for k in sorted(set(kinds_st[ss & (y_st == 0)].tolist()) - {""})}
        # the trade-off on the seed posts: recall of the category's seeds when at most q of the
        # hard-negative seeds ("none") are labelled
        tradeoff = {}
        for q in (0.05, 0.10, 0.15, 0.20):
            t_q = float(np.quantile(ens[seed_none], 1 - q)) if seed_none.any() else 1.0
            tradeoff[f"none_{int(q * 100)}pct"] = {"threshold": round(t_q, 4),
                                                  "seed_recall": round(float((ens[ss & (y_st == 1)] > t_q).mean()), 4)}
        choice["seed_tradeoff"] = tradeoff
        doc["_arrays"][f"coef_{cat}"] = coef
        doc["categories"][cat] = {
            "head_intercept": icpt, "members": list(used), "stack": stack,
            "seed_head_intercept": (seed_head_note or {}).get("intercept", 0.0), "seed_head": seed_head_note,
            "student_intercept": (student_note or {}).get("intercept", 0.0), "student_tfidf": student_note,
            "kernel": kernel_note,
            "threshold": round(thr, 4), "threshold_choice": choice,
            "training": {"n_train": int(len(rows)), "seed_weight": SEED_REPEAT, "n_val": len(data.val), "n_seed_posts": len(seed_texts),
                         "seed_folds": int(len(np.unique(folds))), "folds_by": FOLDS_BY, "C": HEAD_C, "stack_C": STACK_C,
                         "sources": {k: list(v) for k, v in HEAD_SOURCES[cat].items()},
                         "borrowed_negatives": [list(x) for x in HEAD_BORROWED[cat]],
                         "extra_rows": len((extra or {}).get(cat) or ()),
                         "length_matching": length_note},
            "val_metrics": {"tfidf": binary_metrics(y_st[sv], p_st[sv], 0.5),
                            "head": binary_metrics(y_st[sv], 1 / (1 + np.exp(-dva)), 0.5),
                            "ensemble": binary_metrics(y_st[sv], ens[sv], thr)},
            "seed_metrics_out_of_fold": {"tfidf": binary_metrics(y_st[ss], p_st[ss], 0.5),
                                         "head": binary_metrics(y_st[ss], 1 / (1 + np.exp(-d_seed)), 0.5),
                                         "proto_pos": binary_metrics(y_st[ss], f_st[ss, 0], 0.5),
                                         "ensemble": binary_metrics(y_st[ss], ens[ss], thr)},
        }
        log(json.dumps({"category": cat, "stack": {k: round(v, 3) for k, v in stack.items()},
                        "val": {k: v["roc_auc"] for k, v in doc["categories"][cat]["val_metrics"].items()},
                        "seeds_oof": {k: v["roc_auc"] for k, v in doc["categories"][cat]["seed_metrics_out_of_fold"].items()},
                        "threshold": round(thr, 4), "choice": choice}))
    return doc


def save_heads(doc: dict, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    from classifiers.heads import HeadsFileError, dequantize_rows4, read_seed_vectors

    # round seven: the seed vectors at 4 bits a component (quantize_rows4; round six's int8 made
    # heads.npz ~6.5 MB), and the TF-IDF coefficients of the student members and gates float32
    # (scores equal to 4 decimals on every classifiers/eval set; EXPERIMENTS.md, round six)
    def dtype(k: str):
        if k == "knn_vectors4":
            return np.uint8
        if k.startswith("knn_label_"):
            return np.int8
        if k.startswith(("student_coef_", "gate_tfidf_")) or k in ("proto_vectors", "knn_scale", "knn_offset"):
            return np.float32
        return np.float64
    if "knn_vectors" in doc["_arrays"]:
        raise ValueError("save_heads: knn_vectors (round six's int8 bank) is read, no longer written; "
                         "store quantize_rows4's knn_vectors4, knn_scale, knn_offset")
    arrays = {k: np.asarray(v, dtype=dtype(k)) for k, v in doc["_arrays"].items()}
    # the kernel member's rows of categories not retrained point into the seed vectors being replaced
    old_seed_vectors = None
    if (directory / "heads.npz").is_file():
        try:
            with np.load(directory / "heads.npz", allow_pickle=False) as z:
                old_seed_vectors = read_seed_vectors(z, directory / "heads.npz")
        except (HeadsFileError, OSError, ValueError):
            old_seed_vectors = None     # then save_kernel says so if a kept category needs them
    # compressed: the student coefficients are zero outside the seed posts' features
    np.savez_compressed(directory / "heads.npz", **arrays)
    if doc.get("_kernel") or any("kernel" in e.get("members", ()) for e in doc["categories"].values()):
        # round five (svc5): the kernel member's arrays; categories not retrained keep theirs
        from classifiers.kernel import KERNEL_FILE, save_kernel
        kernel = doc.get("_kernel", {})
        # the kernel SVMs are fitted on the bank's rows (see knn_bank in _train_heads), so every
        # support vector is stored as its row number
        seed_vectors = (dequantize_rows4(arrays["knn_vectors4"], arrays["knn_scale"], arrays["knn_offset"])
                        if "knn_vectors4" in arrays else None)
        not_seed = save_kernel(directory / KERNEL_FILE, kernel,
                               keep=[c for c, e in doc["categories"].items() if "kernel" in e.get("members", ()) and c not in kernel],
                               seed_vectors=seed_vectors, old_seed_vectors=old_seed_vectors)
        if any(not_seed.values()):      # the SVMs are fitted on seed posts: should not happen
            print(f"kernel.npz: support vectors stored as vectors, not seed rows: {not_seed}", file=sys.stderr)
    body = {k: v for k, v in doc.items() if k not in ("_arrays", "_kernel")}
    (directory / "heads.json").write_text(json.dumps(body, indent=1) + "\n")


if __name__ == "__main__":   # pragma: no cover - `crossingguard train` is the entry point
    sys.exit("use: crossingguard train")
