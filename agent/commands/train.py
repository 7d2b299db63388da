"""`crossingguard train`: reproduce the shipped text models (classifiers/models/README.md).

Default: every category from the shared data sets (`--data`, else $CROSSINGGUARD_DATA, else
../shared/data next to the checkout): the TF-IDF models, then the encoder heads and the ensemble
(heads.npz/heads.json; embeddings cached in .cache/embeddings/ of the checkout), written to the
shipped model folder. `--heads-only` refits the heads and ensemble on the TF-IDF models already
in `--out`. `--csv FILE` trains one category's TF-IDF model (`--category`, default bullying) from
any CSV with text,label columns instead (no heads: they need the shared sources).
`--extra FILE` adds counselors' decisions (`crossingguard export-labels`: header
text,category,label) to each category's training rows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.errors import UsageError

HELP = __doc__.split("\n", 2)[2]


def register(sub, common) -> None:
    p = sub.add_parser("train", parents=[common], help="train the bullying/threat/self-harm text models",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", metavar="DIR", default=None,
                   help="shared data folder (default $CROSSINGGUARD_DATA, else ../shared/data beside the repository)")
    p.add_argument("--category", choices=("bullying", "threat", "self_harm"), default=None,
                   help="train only this category (default: all three)")
    p.add_argument("--out", metavar="DIR", default=None, help="where to write model files (default: the shipped models)")
    p.add_argument("--csv", metavar="FILE", default=None, help="train from a CSV with text,label columns")
    p.add_argument("--extra", metavar="FILE", default=None,
                   help="also train on this CSV of counselors' decisions (header text,category,label; "
                        "`crossingguard export-labels` writes it)")
    heads = p.add_mutually_exclusive_group()
    heads.add_argument("--no-heads", action="store_true", help="train the TF-IDF models only")
    heads.add_argument("--heads-only", action="store_true",
                       help="refit only the encoder heads and ensemble on the TF-IDF models in --out")
    p.set_defaults(func=run)


def run(args) -> int:
    from classifiers.datasets import DataFileError

    # every BLAS/OpenMP pool on one thread for the whole run, the TF-IDF models' randomized SVD as
    # well as the heads, so a retrain reproduces the shipped files bit for bit (classifiers/train/threads.py)
    from classifiers.train.threads import single_threaded

    try:
        with single_threaded():
            return _run(args)
    except DataFileError as exc:   # located file errors from the data readers: a usage error
        raise UsageError(str(exc)) from exc


def _run(args) -> int:
    from tqdm import tqdm

    from classifiers.datasets import CATEGORY_SOURCES, default_data_dir, read_extra_csv
    from classifiers.textmodels import default_model_dir
    from classifiers.train.fit import (STEPS_PER_CATEGORY, add_extra, fit_category, gather, gather_csv,
                                       label_definitions)

    out = Path(args.out) if args.out else default_model_dir()
    extra = read_extra_csv(Path(args.extra)) if args.extra else {}
    if args.csv and args.heads_only:
        raise UsageError("--heads-only: the heads train on the shared data sets, not on --csv")
    if args.csv:
        categories = [args.category or "bullying"]
    else:
        categories = [args.category] if args.category else list(CATEGORY_SOURCES)
        data_dir = Path(args.data) if args.data else default_data_dir()
        for name in {s for c in categories for s in CATEGORY_SOURCES[c]}:
            if not (data_dir / name / "train.csv").is_file():
                raise UsageError(f"{data_dir / name / 'train.csv'}: missing (set --data or $CROSSINGGUARD_DATA)")
    if not args.heads_only:
        splits: dict = {}
        with tqdm(total=STEPS_PER_CATEGORY * len(categories), desc="train", unit="step", file=sys.stderr) as bar:
            for cat in categories:
                bar.set_postfix_str(cat)
                if args.csv:
                    data = gather_csv(Path(args.csv))
                    note = {"labels": {"csv": "label column"}}
                else:
                    data = gather(cat, data_dir, splits)
                    note = {"labels": label_definitions(cat)}
                add_extra(data, extra.get(cat))
                if extra.get(cat):
                    note["extra_rows"] = {"file": Path(args.extra).name, "rows": len(extra[cat])}
                try:
                    model = fit_category(cat, data, progress=bar, data_note=note)
                except ValueError as exc:
                    raise UsageError(str(exc)) from exc
                model.save(out)
                print(json.dumps({"category": cat, "out": str(out), "n_features": len(model.vocab),
                                  "threshold": model.threshold, "test": model.meta.get("test_metrics", {})},
                                 ensure_ascii=False))
    if args.csv or args.no_heads:
        return 0
    return train_heads(categories, data_dir, out, extra)


def train_heads(categories, data_dir: Path, out: Path, extra: dict) -> int:
    from classifiers.encoder import EncoderUnavailable, Encoder
    from classifiers.heads import Heads, HeadsFileError
    from classifiers.textmodels import ModelFileError, TextModels
    from classifiers.train.heads import ENSEMBLE_CATEGORIES, save_heads, train_heads as fit_heads

    try:
        encoder = Encoder()
    except EncoderUnavailable as exc:
        raise UsageError(f"encoder heads: {exc}") from exc
    try:
        tfidf = TextModels.load(out, encoder=False)
    except ModelFileError as exc:
        raise UsageError(str(exc)) from exc
    categories = [c for c in categories if c in ENSEMBLE_CATEGORIES]
    if not categories:
        return 0
    doc = fit_heads(categories, data_dir, tfidf.tfidf_proba, encoder, extra=extra,
                    log=lambda m: print(m, file=sys.stderr, flush=True), tfidf_models=tfidf)
    if (out / "heads.json").exists() and set(categories) != set(ENSEMBLE_CATEGORIES):
        # keep the other categories' heads of the folder
        try:
            old = Heads.load(out)
        except HeadsFileError as exc:
            raise UsageError(str(exc)) from exc
        import numpy as np
        with np.load(out / "heads.npz", allow_pickle=False) as z:
            for c in old.categories:
                if c not in doc["categories"]:
                    doc["categories"][c] = old.meta["categories"][c]
                    for name in ("coef", "seed_coef", "student_coef"):
                        if f"{name}_{c}" in z.files:
                            doc["_arrays"][f"{name}_{c}"] = z[f"{name}_{c}"]
        doc["categories"] = {c: doc["categories"][c] for c in ENSEMBLE_CATEGORIES if c in doc["categories"]}
    save_heads(doc, out)
    print(json.dumps({"heads": str(out / "heads.json"),
                      "thresholds": {c: e["threshold"] for c, e in doc["categories"].items()}}))
    return 0
