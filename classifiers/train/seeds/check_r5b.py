"""Checks for r5b.csv (stdlib only): the CSV parses, every row's category/label/kind fit
TAXONOMY.md, and no row is an exact or near duplicate (lowercased token-set Jaccard >= 0.75)
of another row in the file or of a row in seed_posts.csv, seeds/r4a.csv or seeds/r4b.csv.

    python classifiers/train/seeds/check_r5b.py        # exit 1 and a list of problems if any
"""
from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
MINE = HERE / "r5b.csv"
OTHERS = [HERE.parent / "seed_posts.csv", HERE / "r4a.csv", HERE / "r4b.csv"]
POSITIVE = {"threat": ("threat",), "self_harm": ("self_harm", "concern"), "bullying": ("bullying",)}
NEGATIVE = ("help", "hyperbole", "slang", "gaming", "quote", "ordinary")
NEAR = 0.75


def tokens(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9']+|[^\sa-z0-9']", text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def problems_in(rows: list[dict[str, str]]) -> list[str]:
    out = []
    for i, r in enumerate(rows, start=2):
        text, cat, label, kind = (r.get(k) for k in ("text", "category", "label", "kind"))
        if not text or text != text.strip():
            out.append(f"line {i}: text empty or padded")
        if cat in POSITIVE:
            if label != "1" or kind not in POSITIVE[cat]:
                out.append(f"line {i}: {cat}/{label}/{kind} does not fit")
        elif cat == "none":
            if label != "0" or kind not in NEGATIVE:
                out.append(f"line {i}: none/{label}/{kind} does not fit")
        else:
            out.append(f"line {i}: unknown category {cat!r}")
    return out


def main() -> int:
    with MINE.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["text", "category", "label", "kind"]:
            print(f"header: {reader.fieldnames}")
            return 1
        rows = list(reader)
    problems = problems_in(rows)
    mine = [(i, r["text"], tokens(r["text"])) for i, r in enumerate(rows, start=2)]
    for a in range(len(mine)):
        for b in range(a + 1, len(mine)):
            j = jaccard(mine[a][2], mine[b][2])
            if j >= NEAR:
                problems.append(f"lines {mine[a][0]} and {mine[b][0]}: Jaccard {j:.2f}: {mine[a][1]!r} ~ {mine[b][1]!r}")
    for other in OTHERS:
        with other.open(newline="", encoding="utf-8") as f:
            theirs = [(r["text"], tokens(r["text"])) for r in csv.DictReader(f)]
        for i, text, tok in mine:
            for t2, tok2 in theirs:
                j = jaccard(tok, tok2)
                if j >= NEAR:
                    problems.append(f"line {i} vs {other.name}: Jaccard {j:.2f}: {text!r} ~ {t2!r}")
    for p in problems:
        print(p)
    counts = Counter((r["category"], r["kind"]) for r in rows)
    for (cat, kind), n in sorted(counts.items()):
        print(f"{cat:10} {kind:10} {n}")
    print(f"rows {len(rows)}, positives {sum(r['label'] == '1' for r in rows)}, problems {len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
