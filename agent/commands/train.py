"""`crossingguard train`: reproduce the shipped text models (classifiers/models/README.md).

Default: every category from the shared data sets (`--data`, else $CROSSINGGUARD_DATA, else
../shared/data next to the checkout), written to the shipped model folder. `--csv FILE` trains one
category (`--category`, default bullying) from any CSV with text,label columns instead.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.errors import UsageError


def register(sub, common) -> None:
    p = sub.add_parser("train", parents=[common], help="train the bullying/threat/self-harm text models")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="shared data folder (default $CROSSINGGUARD_DATA, else ../shared/data beside the repository)")
    p.add_argument("--category", choices=("bullying", "threat", "self_harm"), default=None,
                   help="train only this category (default: all three)")
    p.add_argument("--out", metavar="DIR", default=None, help="where to write model files (default: the shipped models)")
    p.add_argument("--csv", metavar="FILE", default=None, help="train from a CSV with text,label columns")
    p.set_defaults(func=run)


def run(args) -> int:
    from classifiers.datasets import DataFileError

    try:
        return _run(args)
    except DataFileError as exc:   # located file errors from the data readers: a usage error
        raise UsageError(str(exc)) from exc


def _run(args) -> int:
    from tqdm import tqdm

    from classifiers.datasets import CATEGORY_SOURCES, default_data_dir
    from classifiers.textmodels import default_model_dir
    from classifiers.train.fit import STEPS_PER_CATEGORY, fit_category, gather, gather_csv, label_definitions

    out = Path(args.out) if args.out else default_model_dir()
    if args.csv:
        categories = [args.category or "bullying"]
    else:
        categories = [args.category] if args.category else list(CATEGORY_SOURCES)
        data_dir = Path(args.data) if args.data else default_data_dir()
        for name in {s for c in categories for s in CATEGORY_SOURCES[c]}:
            if not (data_dir / name / "train.csv").is_file():
                raise UsageError(f"{data_dir / name / 'train.csv'}: missing (set --data or $CROSSINGGUARD_DATA)")
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
            try:
                model = fit_category(cat, data, progress=bar, data_note=note)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
            model.save(out)
            print(json.dumps({"category": cat, "out": str(out), "n_features": len(model.vocab),
                              "threshold": model.threshold, "test": model.meta.get("test_metrics", {})},
                             ensure_ascii=False))
    return 0
