"""The labelled training sets in ../shared/data and our seeded train/validation/test parts of them.

Each set's DATA.md says which column is the label and why (summarised per source below). The
held-out sets the data curators keep back are never read here: we split the training files
ourselves with a fixed seed, fit only on `train`, calibrate and pick thresholds on `val`, and
report on `test`. Formspring is split by profile (DATA.md: generalisation to unseen users).
Test rows whose normalized text also occurs in train are dropped, so a retweet cannot leak.
"""
from __future__ import annotations

import csv
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.normalize import normalize_text

SEED = 20261128
TEST_FRACTION = 0.2
VAL_FRACTION = 0.1
SELF_HARM_MAX_CHARS = 300   # DATA.md: positives are long Reddit posts, negatives short tweets

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class DataFileError(ValueError):
    """A data file that is missing or malformed, located (`FILE[:LINE]: what`). The CLI reports
    it as a usage error (exit 2); this package imports nothing of the agent."""


@dataclass(frozen=True)
class Source:
    name: str
    category: str            # bullying | threat | self_harm
    label: str               # how a row becomes 1 (documented in models/EXPERIMENTS.md)
    group: str | None = None  # column for a group-disjoint split


def label_tin(row: dict) -> int:
    """OLID level B: a targeted insult or threat (TIN). Reported next to `label` by the bench."""
    return int(row["offense_type"] == "TIN")


SOURCES: dict[str, Source] = {
    # OLID: `label` (sub-task A, offensive) is what DATA.md says published numbers use, so an
    # independent evaluation of the OLID test part scores against it; TIN is reported alongside.
    "olid": Source("olid", "bullying", "label (sub-task A: offensive)"),
    "kaggle_insults": Source("kaggle_insults", "bullying", "label (insult to a participant)"),
    "formspring": Source("formspring", "bullying", "label (>= 2 of 3 workers said bullying)", group="profile"),
    "threatgram": Source("threatgram", "threat", "label (threat_level 2: violent)"),
    "suicidal_tweets": Source("suicidal_tweets", "self_harm", "label (suicidal intention)"),
    # Round two (issue 13): used by the encoder heads only (classifiers/train/heads.py), so the
    # TF-IDF models and their figures are unchanged by them.
    "askfm": Source("askfm", "bullying", "label (hand-labelled cyberbullying)"),
    "gametox_peer_toxicity": Source("gametox_peer_toxicity", "bullying",
                                    "label (GameTox classes 1, 3, 4: insults, harassment, threats)"),
    "gab_hate_cv": Source("gab_hate_cv", "threat", "label (Gab Hate Corpus: call for violence)"),
    "implicit_hate_threatening": Source("implicit_hate_threatening", "threat",
                                        "label (Latent Hatred stage-2 class: threatening)"),
    "reddit_sw_teens": Source("reddit_sw_teens", "self_harm", "label (r/SuicideWatch vs r/teenagers)"),
}
# Davidson is deliberately absent: its labels are "offensive language", not bullying, and it
# over-flags African-American English (DATA.md). bench/ uses its `neither` rows only to measure
# how often a model flags inoffensive tweets.

CATEGORY_SOURCES = {
    "bullying": ("olid", "kaggle_insults", "formspring"),
    "threat": ("threatgram",),
    "self_harm": ("suicidal_tweets",),
}


@dataclass
class Part:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)   # the source row of each text (when read from a source)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, label: int, row: dict | None = None) -> None:
        self.texts.append(text)
        self.labels.append(label)
        if row is not None:
            self.rows.append(row)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """$CROSSINGGUARD_DATA, else ../shared/data next to the repository checkout."""
    env = os.environ.get("CROSSINGGUARD_DATA")
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "data"


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise DataFileError(f"{path}: no such data file")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _row_label(source: Source, row: dict) -> int:
    return int(row["label"])


def aux_label(source: str, row: dict) -> int | None:
    """ThreatGram's three levels, for the threat trainer's side model: 1 = violent (level 2),
    0 = punitive (level 1), None = neither (level 0) or another source."""
    if source == "threatgram" and row.get("threat_level", "") in ("1", "2"):
        return int(row["threat_level"] == "2")
    return None


def train_weight(source: str, row: dict) -> tuple[int, float]:
    """(label, sample weight) a training row is fitted with. Formspring's label is a vote of 3
    noisy workers (DATA.md): a post one worker called bullying is kept as a weak positive (weight
    0.5), a unanimous one counts 1.5. Evaluation always uses the plain `label`."""
    if source == "formspring" and row.get("n_yes", "") != "":
        n_yes = int(float(row["n_yes"]))
        return int(n_yes >= 1), {0: 1.0, 1: 0.5, 2: 1.0, 3: 1.5}.get(n_yes, 1.0)
    return int(row["label"]), 1.0


def _clip(source: Source, text: str) -> str:
    return text[:SELF_HARM_MAX_CHARS] if source.category == "self_harm" else text


def split_source(name: str, data_dir: Path | None = None) -> dict[str, Part]:
    """{"train", "val", "test"} parts of one source, reproducible from SEED."""
    source = SOURCES[name]
    rows = read_rows((data_dir or default_data_dir()) / name / "train.csv")
    rng = random.Random(f"{SEED}:{name}")
    assign: list[str] = []
    if source.group:
        groups = sorted({r[source.group] for r in rows})
        rng.shuffle(groups)
        sizes = {g: 0 for g in groups}
        for r in rows:
            sizes[r[source.group]] += 1
        test_groups: set[str] = set()
        taken = 0
        for g in groups:   # seeded order; add whole profiles until the test part is big enough
            if taken >= TEST_FRACTION * len(rows):
                break
            if taken + sizes[g] > 0.35 * len(rows):
                continue   # one of the four huge profiles would make train too small
            test_groups.add(g)
            taken += sizes[g]
        for r in rows:
            if r[source.group] in test_groups:
                assign.append("test")
            else:
                assign.append("val" if rng.random() < VAL_FRACTION / (1 - TEST_FRACTION) else "train")
    else:
        # stratified by label: shuffle each class and cut it the same way
        by_label: dict[int, list[int]] = {}
        for i, r in enumerate(rows):
            by_label.setdefault(_row_label(source, r), []).append(i)
        assign = [""] * len(rows)
        for idx in by_label.values():
            rng.shuffle(idx)
            n_test = round(TEST_FRACTION * len(idx))
            n_val = round(VAL_FRACTION * len(idx))
            for k, i in enumerate(idx):
                assign[i] = "test" if k < n_test else "val" if k < n_test + n_val else "train"
    parts = {"train": Part(), "val": Part(), "test": Part()}
    seen_train = {normalize_text(r["text"]) for r, a in zip(rows, assign) if a == "train"}
    for r, a in zip(rows, assign):
        text = r["text"]
        if not text or not text.strip():
            continue
        if a != "train" and normalize_text(text) in seen_train:
            continue
        parts[a].add(_clip(source, text), _row_label(source, r), r)
    return parts


def read_labelled_csv(path: Path) -> Part:
    """Any CSV with `text,label` columns (label 0/1). Bad rows raise naming file, line and key."""
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    part = Part()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "text" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise DataFileError(f"{path}:1: header: expected columns text,label (got {reader.fieldnames})")
        for row in reader:
            raw = (row.get("label") or "").strip()
            if raw not in ("0", "1", "0.0", "1.0", "true", "false", "True", "False"):
                raise DataFileError(f"{path}:{reader.line_num}: label: expected 0 or 1, got {raw!r}")
            part.add(row.get("text") or "", int(raw in ("1", "1.0", "true", "True")))
    return part


EXTRA_COLUMNS = ("text", "category", "label")
TRAINED_CATEGORIES = ("bullying", "threat", "self_harm")


def read_extra_csv(path: Path) -> dict[str, Part]:
    """`crossingguard train --extra FILE`: counselors' decisions exported by `crossingguard
    export-labels`, CSV with the header `text,category,label` (label 1 = a confirmed incident,
    0 = a dismissed one). Rows of categories without a text model (pii, impersonation) are skipped;
    a bad row raises naming file, line and key (nothing is trained from a half-read file)."""
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    out: dict[str, Part] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in EXTRA_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DataFileError(f"{path}:1: header: expected columns {','.join(EXTRA_COLUMNS)} (missing {', '.join(missing)})")
        for row in reader:
            cat = (row.get("category") or "").strip()
            if cat in ("pii", "impersonation"):
                continue
            if cat not in TRAINED_CATEGORIES:
                raise DataFileError(f"{path}:{reader.line_num}: category: expected one of "
                                 f"{', '.join(TRAINED_CATEGORIES)}, pii, impersonation; got {cat!r}")
            raw = (row.get("label") or "").strip()
            if raw not in ("0", "1"):
                raise DataFileError(f"{path}:{reader.line_num}: label: expected 0 or 1, got {raw!r}")
            text = row.get("text") or ""
            if not text.strip():
                raise DataFileError(f"{path}:{reader.line_num}: text: empty")
            out.setdefault(cat, Part()).add(text, int(raw))
    return out
