"""The realistic evaluation set (classifiers/eval/realistic.csv): synthetic student posts written
for this project (no real people), scored through the whole pipeline as the proxy would.

Columns: text, category (threat | self_harm | bullying | none), label (1 = a post of that
category, 0 = a negative), kind (the category again for positives; help | hyperbole | slang |
quote | ordinary for negatives). The set was written before any threshold or pattern was tuned
on it (model card); it is a check of what a counselor would see, not training data.

Figures: recall per category (a positive counts when its own category is among the labels) and
false labels on the negatives (a negative counts when it gets any of bullying, threat, self_harm;
per kind and overall), each with a bootstrap 95% interval.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

TEXT_LABELS = ("bullying", "threat", "self_harm")
KINDS = ("help", "hyperbole", "slang", "quote", "ordinary")
# Game trash talk about the game: a negative kind of the seed files (classifiers/train/heads.py),
# accepted here so a seed file (or a district's own set written the same way) can be scored as it
# is; "gaming" is read as "game". Reported only for a set that has such rows.
EXTRA_KINDS = ("game",)
# Lexical markers of African-American English common on Twitter (a crude proxy for a dialect
# model, after Blodgett et al. 2016 / Davidson et al. 2019); enough to compare two subsets in the
# dialect and slang checks (bench/bench_classifiers.py, tests/classifiers/test_round_seven.py).
AAE_MARKERS = re.compile(r"\b(?:finna|tryna|bruh|dat|dis|dem|ion|ima|imma|aint|ain't|nah|yall|y'all|"
                         r"bout|lil|homie|gon|boutta|thang|deadass|yo|da|wit|fr|ya)\b", re.I)
BOOTSTRAP = 1000
SEED = 20261206


@dataclass(frozen=True)
class Row:
    text: str
    category: str
    label: int
    kind: str


def default_path() -> Path:
    return Path(__file__).resolve().parent / "eval" / "realistic.csv"


# The shipped sets by name (classifiers/eval/): `realistic` was written first and has been tuned
# against; `fresh` was written later and read after tuning; `holdout` was written by someone who
# saw neither the models nor the other sets (HOLDOUT.md); holdout4 to holdout10 likewise in rounds
# four to nine, two in round nine (HOLDOUT4.md to HOLDOUT10.md; scored once each, dev sets after).
# Figures on a set tuned against are optimistic, so the card reports each set separately.
SHIPPED = {"realistic": "realistic.csv", "fresh": "fresh.csv", "holdout": "holdout.csv",
           "holdout4": "holdout4.csv", "holdout5": "holdout5.csv", "holdout6": "holdout6.csv",
           "holdout7": "holdout7.csv", "holdout8": "holdout8.csv",
           "holdout9": "holdout9.csv", "holdout10": "holdout10.csv"}


def shipped_path(name: str) -> Path:
    return Path(__file__).resolve().parent / "eval" / SHIPPED[name]


def paths_for(spec: str) -> list[Path]:
    """`evaluate --realistic SPEC`: empty for the first set, a shipped set's name, `all`, or a CSV path."""
    if not spec:
        return [default_path()]
    if spec == "all":
        return [shipped_path(n) for n in SHIPPED]
    if spec in SHIPPED:
        return [shipped_path(spec)]
    return [Path(spec)]


def read(path: Path | None = None) -> list[Row]:
    """The rows of a set in this layout; a bad row raises DataFileError naming file, line and key."""
    from classifiers.datasets import DataFileError

    path = path or default_path()
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    out: list[Row] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("text", "category", "label", "kind") if c not in (reader.fieldnames or ())]
        if missing:
            raise DataFileError(f"{path}:1: header: expected columns text,category,label,kind (missing {', '.join(missing)})")
        for r in reader:
            where = f"{path}:{reader.line_num}"
            if r["category"] not in TEXT_LABELS + ("none",):
                raise DataFileError(f"{where}: category: expected bullying, threat, self_harm or none, got {r['category']!r}")
            if r["label"] not in ("0", "1") or (r["label"] == "1") != (r["category"] != "none"):
                raise DataFileError(f"{where}: label: expected 1 for a category, 0 for none, got {r['label']!r}")
            kind = "game" if r["kind"] == "gaming" else r["kind"]
            if r["label"] == "0" and kind not in KINDS + EXTRA_KINDS:
                raise DataFileError(f"{where}: kind: expected one of {', '.join(KINDS + EXTRA_KINDS)}, got {r['kind']!r}")
            out.append(Row(r["text"], r["category"], int(r["label"]), kind))
    return out


def interval(hits: np.ndarray, seed: int = SEED) -> tuple[float, float]:
    """Bootstrap 95% interval of a rate (mean of 0/1 outcomes)."""
    if not len(hits):
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = hits[rng.integers(0, len(hits), size=(BOOTSTRAP, len(hits)))].mean(axis=1)
    return (round(float(np.quantile(means, 0.025)), 4), round(float(np.quantile(means, 0.975)), 4))


def rate(hits, none_when_empty: bool = False) -> dict:
    """n, rate and bootstrap 95% interval of 0/1 outcomes. No outcomes: rate 0.0 and interval
    [0.0, 0.0], or (`none_when_empty`, the writers' report) None for both."""
    arr = np.asarray(list(hits), dtype=np.float64)
    if not len(arr):
        return {"n": 0, "rate": None, "ci95": None} if none_when_empty else {"n": 0, "rate": 0.0, "ci95": [0.0, 0.0]}
    return {"n": int(len(arr)), "rate": round(float(arr.mean()), 4), "ci95": list(interval(arr))}


def flagged(labels) -> bool:
    """A false label, on a negative: any of the text categories."""
    return any(c in labels for c in TEXT_LABELS)


def figures(rows, labels, kinds: Sequence[str], *, only_kinds_present: bool = False,
            none_when_empty: bool = False) -> dict:
    """Recall per category (a row counts for its `category`) and false-label rates on the rows of
    category "none", per kind in `kinds` and overall. Shared by the realistic sets' report and the
    writers' (classifiers.train.writers: rows are seed posts there); `only_kinds_present` leaves
    out a kind without rows, `none_when_empty` as rate()."""
    out: dict = {"recall": {}, "false_labels": {}}
    for cat in TEXT_LABELS:
        out["recall"][cat] = rate([cat in lab for r, lab in zip(rows, labels) if r.category == cat], none_when_empty)
    neg = [(r, lab) for r, lab in zip(rows, labels) if r.category == "none"]
    for kind in kinds:
        got = [flagged(lab) for r, lab in neg if r.kind == kind]
        if got or not only_kinds_present:
            out["false_labels"][kind] = rate(got, none_when_empty)
    out["false_labels"]["all"] = rate([flagged(lab) for _, lab in neg], none_when_empty)
    return out


def wrong(rows, labels) -> list[tuple]:
    """(row, labels) of the rows the figures count against: missed positives, labelled negatives."""
    return [(r, lab) for r, lab in zip(rows, labels)
            if (r.category != "none" and r.category not in lab) or (r.category == "none" and flagged(lab))]


def report(labels: list[list[str]], rows: list[Row]) -> dict:
    """Recall per category and false-label rates, from each row's labels."""
    out = figures(rows, labels, KINDS + tuple(k for k in EXTRA_KINDS if any(r.kind == k for r in rows)))
    neg = [(lab, r) for lab, r in zip(labels, rows) if r.label == 0]
    # Taxonomy (round four, the lead's decision; model card): a post worried about someone else's
    # self-harm or suicide risk is labelled self_harm on purpose (a counselor must see it). The sets
    # file such posts as help-seeking negatives, so help posts whose only text label is self_harm
    # are counted apart, and the rate without them is given too. (Reading them is still needed to
    # tell a worried-friend post from one that is not.)
    sh_only = [[c for c in TEXT_LABELS if c in lab] == ["self_harm"] for lab, r in neg if r.kind == "help"]
    out["false_labels"]["help_self_harm_only"] = rate(sh_only)
    out["false_labels"]["all_but_help_self_harm_only"] = rate(
        [flagged(lab) for lab, r in neg
         if not (r.kind == "help" and [c for c in TEXT_LABELS if c in lab] == ["self_harm"])])
    return out


def misses(labels: list[list[str]], rows: list[Row]) -> list[dict]:
    """The rows the figures count against: missed positives and labelled negatives."""
    return [{"text": r.text, "category": r.category, "kind": r.kind, "labels": lab} for r, lab in wrong(rows, labels)]


def evaluate(classifier, path: Path | None = None) -> tuple[dict, list[dict]]:
    from classifiers.types import PostInput

    rows = read(path)
    judged = classifier.classify([PostInput(text=r.text, kind="post") for r in rows])
    labels = [j.labels for j in judged]
    return report(labels, rows), misses(labels, rows)
