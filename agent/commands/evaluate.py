"""`crossingguard evaluate`: how the shipped text models do on labelled data.

`--data CSV` (columns text,label) scores every row for one category (`--category`, default
bullying). `--split NAME` scores our held-out part of a shared data set instead (NAME is a source
such as olid, kaggle_insults, formspring, threatgram, suicidal_tweets, optionally `:val` or
`:train`; `all` for every source). Prints one JSON line per evaluation: ROC-AUC, PR-AUC, and
precision and recall at the shipped threshold. Scores are what the pipeline uses (model combined
with the intent patterns); `--model-only` leaves the patterns out.

`--realistic [SET]` runs a realistic student-post set (columns text,category,label,kind) through the
whole pipeline and prints recall per category and the false-label rate on the negatives
(help-seeking, hyperbole, slang, quotation, ordinary), with bootstrap 95% intervals; help-seeking
posts whose only label is self_harm are also counted apart (`help_self_harm_only`: a post worried
about a friend's self-harm is labelled self_harm on purpose, model card), with the false-label rate
without them (`all_but_help_self_harm_only`). SET is a CSV
path or a shipped set: `realistic` (the default; tuned against), `fresh`, `holdout` (written
independently of the models in round three, classifiers/eval/HOLDOUT.md; tuned against since),
`holdout4` (written independently in round four, scored once, HOLDOUT4.md), `holdout5` to `holdout10` (three
independent writers each in rounds five to nine, two in round nine, each scored once when its models were
final and a dev set since, HOLDOUT5.md to HOLDOUT10.md) or `all` (one line per set); a set's `game` rows (the
seed files' kind, also written `gaming`) are reported when it has them; `--show-misses` lists the posts counted
against them. `--loso` prints, per source, ROC-AUC with 95% intervals of the in-source fit and of
the fit that left that source out (leave-one-source-out), for the TF-IDF member, the encoder
head and their ensemble, plus the shipped models and alt-profanity-check (when installed) on the
same test sample (classifiers/train/loso.py; minutes: embeddings are cached in .cache/).
`--writers` prints leave-one-writer-out figures: for each seed file (one writer's voice), the heads,
members, gates, stack and thresholds trained without it, its posts run through the whole pipeline;
recall per category and false labels per kind, one JSON line per writer and one pooled
(`"writer": "all"`); `--show-misses` lists the posts counted against them (classifiers/train/writers.py;
one heads training per writer, minutes).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = __doc__.split("\n", 2)[2]


def register(sub, common) -> None:
    p = sub.add_parser("evaluate", parents=[common], help="ROC-AUC, PR-AUC, precision and recall of the text models",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="CSV", help="labelled CSV with text,label columns")
    src.add_argument("--split", metavar="NAME", help="a held-out part of the shared data (source[:test|val|train] or all)")
    src.add_argument("--realistic", metavar="SET", nargs="?", const="", default=None,
                     help="a realistic student-post set: CSV path, or realistic (default), fresh, holdout, holdout4, holdout5, holdout6 or "
                          "all: recall and false labels")
    src.add_argument("--loso", action="store_true",
                     help="leave-one-source-out and in-source ROC-AUC with 95%% intervals, per source")
    src.add_argument("--writers", action="store_true",
                     help="leave-one-writer-out recall and false labels on the seed posts (a heads training per writer)")
    p.add_argument("--show-misses", action="store_true",
                   help="--realistic, --writers: list the posts counted against the figures")
    p.add_argument("--category", choices=("bullying", "threat", "self_harm"), default=None,
                   help="category to score (--data: default bullying; --split: the source's own)")
    p.add_argument("--shared", metavar="DIR", default=None,
                   help="shared data folder for --split (default $CROSSINGGUARD_DATA, else ../shared/data)")
    p.add_argument("--models", metavar="DIR", default=None, help="model folder (default: the shipped models)")
    p.add_argument("--model-only", action="store_true", help="score with the model alone, without intent patterns")
    p.set_defaults(func=run)


def evaluate_part(models, category: str, texts: list[str], labels: list[int], model_only: bool) -> dict:
    from classifiers.train.metrics import binary_metrics

    if category not in models.categories:
        from agent.errors import UsageError
        raise UsageError(f"--category: no shipped model for {category!r}")
    probs = models.model_proba(texts) if model_only else models.predict_proba(texts)
    return binary_metrics(labels, probs[category], models.thresholds[category])


def run(args) -> int:
    from agent.errors import UsageError
    from classifiers.datasets import DataFileError

    try:
        return _run(args)
    except DataFileError as exc:   # located file errors from the data readers: a usage error
        raise UsageError(str(exc)) from exc


def _run(args) -> int:
    from agent.errors import UsageError
    from classifiers.datasets import SOURCES, default_data_dir, read_labelled_csv, split_source
    from classifiers.textmodels import ModelFileError, TextModels

    try:
        models = TextModels.load(args.models)
    except ModelFileError as exc:
        raise UsageError(str(exc)) from exc
    if models.encoder_error:
        print(json.dumps({"warning": "encoder unavailable, TF-IDF models alone", "reason": models.encoder_error}),
              flush=True)
    if args.realistic is not None:
        return _realistic(models, args)
    if args.loso or args.writers:
        # these retrain models: one thread, so their figures repeat (classifiers/train/threads.py)
        from classifiers.train.threads import single_threaded
        with single_threaded():
            return _loso(models, args) if args.loso else _writers(models, args)
    if args.data:
        category = args.category or "bullying"
        part = read_labelled_csv(Path(args.data))
        if not len(part):
            raise UsageError(f"{args.data}: no rows")
        out = {"category": category, "data": args.data,
               **evaluate_part(models, category, part.texts, part.labels, args.model_only)}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    name, _, which = args.split.partition(":")
    which = which or "test"
    if which not in ("test", "val", "train"):
        raise UsageError(f"--split: part must be test, val or train, got {which!r}")
    names = sorted(SOURCES) if name == "all" else [name]
    for n in names:
        if n not in SOURCES:
            raise UsageError(f"--split: unknown source {n!r} (one of {', '.join(sorted(SOURCES))}, all)")
    data_dir = Path(args.shared) if args.shared else default_data_dir()
    for n in names:
        category = args.category or SOURCES[n].category
        part = split_source(n, data_dir)[which]
        out = {"category": category, "split": f"{n}:{which}",
               **evaluate_part(models, category, part.texts, part.labels, args.model_only)}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def _realistic(models, args) -> int:
    from classifiers import realistic
    from classifiers.pipeline import Classifier

    classifier = Classifier(models)
    for path in realistic.paths_for(args.realistic):
        report, misses = realistic.evaluate(classifier, path)
        shipped = path.parent == realistic.default_path().parent and path.name in realistic.SHIPPED.values()
        print(json.dumps({"realistic": path.name if shipped else str(path),
                          "encoder": models.heads is not None, **report}, ensure_ascii=False), flush=True)
        if args.show_misses:
            for m in misses:
                print(json.dumps({"miss": m}, ensure_ascii=False))
    return 0


def _encoder_and_data(args, option: str):
    """The encoder and the shared data folder, for the options that retrain (--writers, --loso)."""
    from agent.errors import UsageError
    from classifiers.datasets import default_data_dir
    from classifiers.encoder import Encoder, EncoderUnavailable

    try:
        encoder = Encoder()
    except EncoderUnavailable as exc:
        raise UsageError(f"{option} needs the encoder: {exc}") from exc
    return encoder, Path(args.shared) if args.shared else default_data_dir()


def _writers(models, args) -> int:
    import sys

    from classifiers.textmodels import default_model_dir
    from classifiers.train.writers import leave_one_writer_out

    encoder, data_dir = _encoder_and_data(args, "--writers")
    rows, missed = leave_one_writer_out(Path(args.models) if args.models else default_model_dir(), data_dir, encoder,
                                        log=lambda m: print(m, file=sys.stderr, flush=True))
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.show_misses:
        for m in missed:
            print(json.dumps({"miss": m}, ensure_ascii=False))
    return 0


def _loso(models, args) -> int:
    import sys

    from classifiers.train.loso import loso

    encoder, data_dir = _encoder_and_data(args, "--loso")
    baseline = None
    try:   # the bench extra; a reference point, not a member of the shipped ensemble
        from profanity_check import predict_prob
        baseline = predict_prob
    except ImportError:
        pass
    cats = [args.category] if args.category else ["bullying", "threat", "self_harm"]
    for row in loso(cats, data_dir, encoder, shipped=models.model_proba, baseline=baseline,
                    log=lambda m: print(m, file=sys.stderr, flush=True)):
        print(json.dumps(row), flush=True)
    return 0
