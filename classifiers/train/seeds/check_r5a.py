"""Checks for r5a.csv (round-five seed posts, younger voice). Stdlib only.

Run: python3 classifiers/train/seeds/check_r5a.py   (exit status 1 on any problem)

- the CSV parses with a `text,category,label,kind` header;
- category/label/kind are valid and agree (label 1 for a category, kind = category except
  `concern`, which is self_harm; negatives use category none and a negative kind);
- no empty, exact-duplicate or near-duplicate texts (lowercased token-set Jaccard >= 0.75)
  within the file or against seed_posts.csv, seeds/r4a.csv and seeds/r4b.csv. Tokens are taken
  two ways (whitespace split; words only) and a pair is near if either way reaches 0.75.
"""
from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
MINE = HERE / "r5a.csv"
OTHERS = [HERE.parent / "seed_posts.csv", HERE / "r4a.csv", HERE / "r4b.csv"]
POSITIVE = {"threat": {"threat"}, "self_harm": {"self_harm", "concern"}, "bullying": {"bullying"}}
NEGATIVE = {"help", "hyperbole", "slang", "gaming", "quote", "ordinary"}
NEAR = 0.75


def token_sets(text: str) -> tuple[frozenset[str], frozenset[str]]:
    low = text.lower()
    return frozenset(low.split()), frozenset(re.findall(r"[a-z0-9']+", low))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near(x, y) -> float:
    return max(jaccard(x[0], y[0]), jaccard(x[1], y[1]))


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def validate(rows: list[dict]) -> list[str]:
    errors = []
    for i, r in enumerate(rows, start=2):
        text, cat, label, kind = (r.get(k) for k in ("text", "category", "label", "kind"))
        if not text or not text.strip():
            errors.append(f"row {i}: empty text")
        if text != (text or "").strip():
            errors.append(f"row {i}: leading/trailing whitespace")
        if cat in POSITIVE:
            if label != "1" or kind not in POSITIVE[cat]:
                errors.append(f"row {i}: {cat}/{label}/{kind} do not agree")
        elif cat == "none":
            if label != "0" or kind not in NEGATIVE:
                errors.append(f"row {i}: none/{label}/{kind} do not agree")
        else:
            errors.append(f"row {i}: unknown category {cat!r}")
    return errors


def candidates(items):
    """Index by word token so only pairs that share a token are compared."""
    index = defaultdict(list)
    for n, (_, sets) in enumerate(items):
        for t in sets[0] | sets[1]:
            index[t].append(n)
    return index


def duplicates(mine: list[str], others: list[tuple[str, str]]) -> list[str]:
    problems = []
    seen = {}
    for i, t in enumerate(mine, start=2):
        key = t.strip().lower()
        if key in seen:
            problems.append(f"row {i}: exact duplicate of row {seen[key]}")
        seen[key] = i
    mine_sets = [(t, token_sets(t)) for t in mine]
    other_sets = [(f"{src}: {t}", token_sets(t)) for src, t in others]
    pool = mine_sets + other_sets
    index = candidates(pool)
    for n, (t, s) in enumerate(mine_sets):
        cands = set()
        for tok in s[0] | s[1]:
            cands.update(index[tok])
        for m in sorted(cands):
            if m < len(mine_sets) and m <= n:  # within my file: each pair once
                continue
            score = near(s, pool[m][1])
            if score >= NEAR:
                where = f"row {m + 2}" if m < len(mine_sets) else pool[m][0]
                problems.append(f"row {n + 2} {t!r} ~ {where!r} ({score:.2f})")
    return problems


def main() -> int:
    rows = read_rows(MINE)
    if not rows or list(rows[0].keys()) != ["text", "category", "label", "kind"]:
        print("bad header", file=sys.stderr)
        return 1
    others = []
    for p in OTHERS:
        others += [(p.name, r["text"]) for r in read_rows(p)]
    problems = validate(rows) + duplicates([r["text"] for r in rows], others)
    for p in problems:
        print(p)
    counts = Counter((r["category"], r["kind"]) for r in rows)
    for k, v in sorted(counts.items()):
        print(f"{k[0]:10} {k[1]:10} {v}")
    pos = sum(v for (c, _), v in counts.items() if c != "none")
    print(f"rows {len(rows)}  positives {pos}  negatives {len(rows) - pos}  problems {len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
