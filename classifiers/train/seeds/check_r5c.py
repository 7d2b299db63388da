"""Checks for r5c.csv (stdlib only): run `python3 classifiers/train/seeds/check_r5c.py`.

The CSV parses with a `text,category,label,kind` header; every row has a known category, the
label that category implies and a kind that fits it; no exact or near duplicate (lowercased
token-set Jaccard >= 0.75) within r5c.csv or against seed_posts.csv, seeds/r4a.csv, seeds/r4b.csv.
Exits 1 and lists every problem (file line numbers) if any check fails.
"""
from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
MINE = HERE / "r5c.csv"
OTHERS = [HERE.parent / "seed_posts.csv", HERE / "r4a.csv", HERE / "r4b.csv"]
KINDS = {
    "threat": {"threat"},
    "self_harm": {"self_harm", "concern"},
    "bullying": {"bullying"},
    "none": {"help", "hyperbole", "slang", "gaming", "quote", "ordinary"},
}
NEAR = 0.75


def tokens(text: str) -> frozenset[str]:
    # why: emoji and punctuation are dropped, so two posts that differ only by an emoji count as one
    return frozenset(re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'")))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def read(path: Path) -> list[tuple[int, dict]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return [(reader.line_num, r) for r in reader]


def main() -> int:
    problems: list[str] = []
    with MINE.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    if header != ["text", "category", "label", "kind"]:
        problems.append(f"header: expected text,category,label,kind, got {header}")
    rows = read(MINE)
    for line, r in rows:
        if None in r or any(v is None for v in r.values()):
            problems.append(f"r5c.csv:{line}: wrong number of columns")
            continue
        text, cat, label, kind = r["text"], r["category"], r["label"], r["kind"]
        if not text.strip() or text != text.strip():
            problems.append(f"r5c.csv:{line}: empty text or surrounding spaces")
        if cat not in KINDS:
            problems.append(f"r5c.csv:{line}: category {cat!r}")
            continue
        if label != ("0" if cat == "none" else "1"):
            problems.append(f"r5c.csv:{line}: label {label!r} for {cat}")
        if kind not in KINDS[cat]:
            problems.append(f"r5c.csv:{line}: kind {kind!r} for {cat}")
    mine = [(line, r["text"], tokens(r["text"])) for line, r in rows]
    for i, (la, ta, ka) in enumerate(mine):
        for lb, tb, kb in mine[i + 1:]:
            if ta.lower() == tb.lower() or jaccard(ka, kb) >= NEAR:
                problems.append(f"r5c.csv:{la} ~ r5c.csv:{lb} ({jaccard(ka, kb):.2f}): {ta!r} / {tb!r}")
    for other in OTHERS:
        theirs = [(line, r["text"], tokens(r["text"])) for line, r in read(other)]
        for la, ta, ka in mine:
            for lb, tb, kb in theirs:
                if ta.lower() == tb.lower() or jaccard(ka, kb) >= NEAR:
                    problems.append(f"r5c.csv:{la} ~ {other.name}:{lb} ({jaccard(ka, kb):.2f}): {ta!r} / {tb!r}")
    counts = Counter((r["category"], r["kind"]) for _, r in rows)
    for key, n in sorted(counts.items()):
        print(f"{key[0]:10s} {key[1]:10s} {n}")
    print(f"rows {len(rows)}, positives {sum(r['label'] == '1' for _, r in rows)}")
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
