"""Leave-one-writer-out figures (`crossingguard evaluate --writers`): what the models do on posts by
a writer they never read.

Every seed file is one writer's voice (classifiers/train/heads.py, seed_files). For each writer W,
the encoder heads, student members, nearest-neighbour member, kind gates, stack and thresholds are
trained as `crossingguard train --heads-only` trains them, but without W's file
(heads.leave_writers_out); then W's posts are run through the whole pipeline (patterns, gates,
help-seeking rules) as the proxy would, and scored as the realistic sets are: recall per category
(a worried-friend `concern` post counts for self_harm), false labels (any of bullying, threat,
self_harm) per kind of negative. The TF-IDF models are the shipped ones (they never read a seed
post). A post whose text an earlier file already holds belongs to that file's writer.

This is the selection figure of round five: the dev sets (classifiers/eval/) have been looked at,
and out-of-fold scores by text hash let one writer's paraphrases sit on both sides of a fold.
Minutes: one heads training per writer (embeddings come from the cache).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from classifiers.realistic import figures, wrong

NEGATIVE_KINDS = ("help", "hyperbole", "slang", "quote", "game", "ordinary", "hard")


def report(rows: Sequence, labels: Sequence[Sequence[str]]) -> dict:
    """Recall per category and false-label rates per negative kind present (the realistic sets'
    figures, classifiers.realistic.figures); `rows` are heads.Seed."""
    out = figures(rows, labels, NEGATIVE_KINDS, only_kinds_present=True, none_when_empty=True)
    # the rule: a victim's or witness's request for help is never labelled bullying or threat
    out["help_misconduct"] = sum(1 for r, lab in zip(rows, labels)
                                 if r.category == "none" and r.kind == "help" and ({"bullying", "threat"} & set(lab)))
    return out


def misses(rows: Sequence, labels: Sequence[Sequence[str]]) -> list[dict]:
    return [{"text": r.text, "category": r.category, "kind": r.kind, "writer": r.writer, "labels": list(lab)}
            for r, lab in wrong(rows, labels)]


def leave_one_writer_out(model_dir: Path, data_dir: Path | None, encoder, writers: Sequence[str] | None = None,
                         log: Callable[[str], None] = print, keep: Path | None = None) -> tuple[list[dict], list[dict]]:
    """(one report per writer left out + the pooled one (writer "all"), every miss). `keep`: a
    folder to leave each writer's models in (keep/<writer>/), instead of a temporary one."""
    from classifiers.heads import Heads
    from classifiers.pipeline import Classifier
    from classifiers.textmodels import TextModels
    from classifiers.train import heads as th
    from classifiers.types import PostInput

    everyone = th.read_seeds()
    names = list(writers) if writers else list(dict.fromkeys(x.writer for x in everyone))
    tfidf = TextModels.load(model_dir, encoder=False)
    out: list[dict] = []
    all_rows: list = []
    all_labels: list[list[str]] = []
    all_misses: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="cg-writers-") as tmp:
        if keep is not None:
            tmp = str(keep)
        for name in names:
            held = [x for x in everyone if x.writer == name]
            if not held:
                continue
            with th.leave_writers_out(name):
                doc = th.train_heads(list(th.ENSEMBLE_CATEGORIES), data_dir, tfidf.tfidf_proba, encoder,
                                     log=lambda m: None, tfidf_models=tfidf)
            folder = Path(tmp) / name
            folder.mkdir(parents=True, exist_ok=True)
            for f in model_dir.iterdir():
                if f.suffix in (".npz", ".json") and not f.name.startswith("heads."):
                    shutil.copy(f, folder / f.name)
            th.save_heads(doc, folder)
            models = TextModels.load(folder, encoder=False)
            models.attach(Heads.load(folder), encoder)
            labels = [c.labels for c in Classifier(models).classify([PostInput(text=x.text, kind="post") for x in held])]
            rep = {"writer": name, "posts": len(held),
                   "thresholds": {c: e["threshold"] for c, e in doc["categories"].items()}, **report(held, labels)}
            log(f"writer {name}: " + ", ".join(f"{c} {v['rate']}" for c, v in rep["recall"].items() if v["n"])
                + f"; false {rep['false_labels']['all']['rate']}")
            out.append(rep)
            all_rows += held
            all_labels += labels
            all_misses += misses(held, labels)
    out.append({"writer": "all", "posts": len(all_rows), **report(all_rows, all_labels)})
    return out, all_misses
