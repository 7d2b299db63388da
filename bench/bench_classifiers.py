"""Quality, robustness, speed and memory of the text classifiers, each next to a baseline.

    .venv/bin/python bench/bench_classifiers.py [--data DIR] [--obfuscation-n 300] [--json]

In one run, on our seeded held-out parts of ../shared/data (classifiers/datasets.py; the shipped
models never saw them):
1. ROC-AUC per held-out part (pipeline score = model + intent patterns, and model alone) next to
   alt-profanity-check's predict_prob on the same texts, with a 95% bootstrap interval of ours
   and the issue's bars
   (bullying: OLID >= 0.86, Kaggle insults >= 0.85, Formspring >= 0.90; threat >= 0.95;
   self-harm >= 0.88).
2. Obfuscation: positive test examples rewritten with leetspeak, a spaced-out word and stretched
   letters; mean |score delta| against the original and the fraction within 0.1.
3. Dialect check: how often bullying (and threat, self-harm) fires on Davidson tweets the
   annotators called "neither" (model scores at the thresholds, and the pipeline's labels), and
   the same split on the slang rows of the evaluation sets and of the seed posts
   (inoffensive), split by a small African-American English marker lexicon, next to
   alt-profanity-check (which was trained on Davidson, so its figure is optimistic).
4. Latency on one core (issue 13 budget, with the encoder: per post at most 15 ms median and
   40 ms at the 95th percentile in batches of 64, at most 25 ms for a post alone), for each head
   (TF-IDF models, encoder + heads) and the whole pipeline (ensemble, patterns, PII,
   impersonation, evidence); baseline alt-profanity-check predict_prob on the same posts.
5. Memory of the loaded models: the TF-IDF models (tracemalloc) and the encoder with its heads
   (resident-set growth: onnxruntime allocates outside Python), next to alt-profanity-check.
6. The evaluation sets (classifiers/eval/: realistic, fresh, holdout): recall and false labels
   through the pipeline, with and without the encoder.
"""
from __future__ import annotations

import os

# one core: the budget is per core, and the proxy runs one classifier worker per core
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from classifiers.datasets import SOURCES, default_data_dir, label_tin, read_rows, split_source  # noqa: E402
from classifiers.types import PostInput  # noqa: E402

BARS = {"olid": 0.86, "kaggle_insults": 0.85, "formspring": 0.90, "threatgram": 0.95, "suicidal_tweets": 0.88}
ORDER = ("olid", "kaggle_insults", "formspring", "threatgram", "suicidal_tweets")
from classifiers.realistic import AAE_MARKERS  # noqa: E402  (the dialect marker lexicon)

LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})


def obfuscate(text: str, kind: str, rng: random.Random) -> str:
    words = text.split()
    if kind == "leet":
        return text.translate(LEET)
    long_idx = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 4]
    if not long_idx:
        return text
    if kind == "spacing":      # one word spelled out, as an evader does with the word that matters
        i = rng.choice(long_idx)
        words[i] = " ".join(words[i])
        return " ".join(words)
    if kind == "repeat":       # stretch a vowel in up to three words
        for i in rng.sample(long_idx, min(3, len(long_idx))):
            w = words[i]
            j = next((k for k, c in enumerate(w) if c.lower() in "aeiou"), len(w) - 1)
            words[i] = w[:j] + w[j] * 5 + w[j + 1:]
        return " ".join(words)
    raise ValueError(kind)


def bootstrap_ci(y: np.ndarray, scores: np.ndarray, reps: int = 200, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of ROC-AUC (rows resampled with replacement): how far a held-out
    figure can move by the luck of the split alone (Formspring's test part has only 42 positives)."""
    rng = np.random.default_rng(seed)
    got = []
    for _ in range(reps):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            got.append(roc_auc_score(y[idx], scores[idx]))
    lo, hi = np.percentile(got, [2.5, 97.5])
    return float(lo), float(hi)


def memo_encoder(models):
    """Wrap models.encoder.encode with a per-text memo; returns the original (None: no encoder)."""
    if models.encoder is None:
        return None
    from classifiers.encoder import Encoded
    real = models.encoder.encode
    memo: dict[str, np.ndarray] = {}

    def encode(texts, first_only=False):
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            enc = real(todo)
            for k, t in enumerate(todo):
                memo[t] = enc.vectors[enc.offsets[k]:enc.offsets[k + 1]]
        parts = [memo[t][:1] if first_only else memo[t] for t in texts]
        offsets = np.cumsum([0] + [len(p) for p in parts])
        return Encoded(np.vstack(parts) if parts else np.zeros((0, 384), np.float32), offsets)

    models.encoder.encode = encode
    return real


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def median_us(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="shared data folder (default $CROSSINGGUARD_DATA, else ../shared/data)")
    ap.add_argument("--obfuscation-n", type=int, default=300, help="positive examples per category for the obfuscation test")
    ap.add_argument("--json", action="store_true", help="also print one JSON line with every figure")
    args = ap.parse_args()
    data_dir = Path(args.data) if args.data else default_data_dir()
    figures: dict = {}

    # memory first, before anything else is loaded
    tracemalloc.start()
    snap = tracemalloc.take_snapshot()
    from classifiers.pipeline import Classifier
    from classifiers.textmodels import TextModels
    tfidf_models = TextModels.load(encoder=False)
    ours_mem = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snap, "filename"))
    rss0 = rss_bytes()
    models = TextModels.load()
    models.predict_proba(["warm up the encoder"])
    encoder_rss = rss_bytes() - rss0
    if models.heads is None:
        print(f"!! encoder unavailable ({models.encoder_error}): figures are for the TF-IDF models alone")
    snap = tracemalloc.take_snapshot()
    from profanity_check import predict_prob
    predict_prob(["warm up"])
    apc_mem = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snap, "filename"))
    tracemalloc.stop()
    clf = Classifier(models)
    # The quality sections score the same texts several times (pipeline, model alone): each text
    # is encoded once (a memo keyed by text; vectors do not depend on the batch, so this changes
    # no figure). The latency section below runs without the memo.
    real_encode = memo_encoder(models)

    print("== ROC-AUC on our held-out parts (pipeline / model only / alt-profanity-check)")
    rows = []
    auc = {}
    parts = {}
    for name in ORDER:
        cat = SOURCES[name].category
        part = split_source(name, data_dir)["test"]
        parts[name] = part
        y = np.array(part.labels)
        ours = models.predict_proba(part.texts)[cat]
        alone = models.model_proba(part.texts)[cat]
        tfidf = tfidf_models.model_proba(part.texts)[cat]
        apc = predict_prob(part.texts)
        a = (roc_auc_score(y, ours), roc_auc_score(y, alone), roc_auc_score(y, apc))
        lo, hi = bootstrap_ci(y, ours)
        auc[name] = {"category": cat, "n": len(y), "positives": int(y.sum()), "pipeline": round(a[0], 4),
                     "pipeline_ci95": [round(lo, 4), round(hi, 4)],
                     "model": round(a[1], 4), "tfidf_only": round(roc_auc_score(y, tfidf), 4),
                     "alt_profanity_check": round(a[2], 4), "bar": BARS[name]}
        ok_bar = "PASS" if a[0] >= BARS[name] else "MISS"
        ok_peer = "better" if a[0] > a[2] else "WORSE"
        rows.append(f"  {cat:9s} {name:16s} n={len(y):5d} pos={int(y.sum()):4d}  ours {a[0]:.3f} (model {a[1]:.3f},"
                    f" tfidf alone {auc[name]['tfidf_only']:.3f})"
                    f"  apc {a[2]:.3f}  bar {BARS[name]:.2f} {ok_bar}, {ok_peer} than apc  (ours 95% CI {lo:.3f}-{hi:.3f})")
    # OLID: the bar is scored on `label` (sub-task A, offensive; what DATA.md says published
    # numbers and an independent evaluation use). Targeted insults (TIN, level B) reported too.
    olid = parts["olid"]
    tin = np.array([label_tin(r) for r in olid.rows])
    ours_olid = models.predict_proba(olid.texts)["bullying"]
    a_tin = (roc_auc_score(tin, ours_olid), roc_auc_score(tin, models.model_proba(olid.texts)["bullying"]),
             roc_auc_score(tin, predict_prob(olid.texts)))
    auc["olid_tin"] = {"category": "bullying", "n": len(tin), "positives": int(tin.sum()), "pipeline": round(a_tin[0], 4),
                       "model": round(a_tin[1], 4), "alt_profanity_check": round(a_tin[2], 4), "bar": None}
    rows.append(f"  bullying  olid (TIN label)  n={len(tin):5d} pos={int(tin.sum()):4d}  ours {a_tin[0]:.3f} (model {a_tin[1]:.3f})"
                f"  apc {a_tin[2]:.3f}  (no bar: level B, reported for reference)")
    print("\n".join(rows))
    figures["roc_auc"] = auc

    print(f"== Obfuscated positives (n <= {args.obfuscation_n} per category; |score delta| vs original)")
    rng = random.Random(11)
    obf = {}
    for cat, names in (("bullying", ("olid", "kaggle_insults", "formspring")), ("threat", ("threatgram",)),
                       ("self_harm", ("suicidal_tweets",))):
        pos = [t for n in names for t, y in zip(parts[n].texts, parts[n].labels) if y == 1 and len(t) < 300]
        rng.shuffle(pos)
        pos = pos[:args.obfuscation_n]
        base = models.predict_proba(pos)[cat]
        for kind in ("leet", "spacing", "repeat"):
            variants = [obfuscate(t, kind, rng) for t in pos]
            got = models.predict_proba(variants)[cat]
            d = np.abs(got - base)
            obf[f"{cat}/{kind}"] = {"n": len(pos), "mean_abs_delta": round(float(d.mean()), 4),
                                    "within_0.1": round(float((d <= 0.1).mean()), 4)}
            print(f"  {cat:9s} {kind:8s} n={len(pos):4d}  mean |delta| {d.mean():.3f}  within 0.1: {100 * (d <= 0.1).mean():.1f}%")
    figures["obfuscation"] = obf

    print("== Dialect check: bullying flag rate on Davidson 'neither' tweets (not trained on)")
    dav = [r["text"] for r in read_rows(data_dir / "davidson" / "train.csv") if r["category"] == "neither"]
    aae = [t for t in dav if AAE_MARKERS.search(t)]
    other = [t for t in dav if not AAE_MARKERS.search(t)]
    thr = models.thresholds["bullying"]
    dial = {}
    tthr = tfidf_models.thresholds["bullying"]
    for label, texts in (("aae_markers", aae), ("other", other)):
        ours_p, tf_p = models.predict_proba(texts), tfidf_models.predict_proba(texts)
        ours = float((ours_p["bullying"] >= thr).mean())
        tf = float((tf_p["bullying"] >= tthr).mean())
        apc = float((predict_prob(texts) >= 0.5).mean())
        dial[label] = {"n": len(texts), "ours": round(ours, 4), "tfidf_only": round(tf, 4),
                       "alt_profanity_check": round(apc, 4)}
        print(f"  {label:12s} n={len(texts):5d}  ours {100 * ours:.1f}% flagged (tfidf alone {100 * tf:.1f}%)"
              f"  apc {100 * apc:.1f}% (trained on these)")
        # the same inoffensive tweets labelled threat or self-harm: the recall-first thresholds of
        # round three must not turn everyday (or dialect) text into threats
        for cat in ("threat", "self_harm"):
            o = float((ours_p[cat] >= models.thresholds[cat]).mean())
            t = float((tf_p[cat] >= tfidf_models.thresholds[cat]).mean())
            dial[label][cat] = {"ours": round(o, 4), "tfidf_only": round(t, 4)}
            print(f"  {'':12s} {cat:9s} ours {100 * o:.1f}% labelled (tfidf alone {100 * t:.1f}%)")
        # the whole pipeline (round four: the kind gates drop labels, which predict_proba does not)
        piped = clf.classify([PostInput(t, kind="post") for t in texts])
        dial[label]["pipeline"] = {c: round(float(np.mean([c in r.labels for r in piped])), 4)
                                   for c in ("bullying", "threat", "self_harm")}
        print(f"  {'':12s} pipeline (with the kind gates): " +
              ", ".join(f"{c} {100 * v:.1f}%" for c, v in dial[label]["pipeline"].items()))
    figures["dialect"] = dial

    # The same check on the slang rows (issue 13, round four): friendly slang and profanity must
    # not read as bullying, whatever the dialect. Rows of the evaluation sets (never trained on)
    # and of the seed posts (trained on: an in-sample figure; the out-of-fold one is in heads.json,
    # threshold_choice.seed_negatives_labelled_by_kind), split by the same marker lexicon.
    print("== Slang check: labels on slang rows (pipeline), split by the same African-American English markers")
    from classifiers import realistic
    from classifiers.train.heads import read_seeds
    slang_sets = {"eval sets": [r.text for n in realistic.SHIPPED for r in realistic.read(realistic.shipped_path(n))
                                if r.kind == "slang"],
                  "seed posts (trained on)": [x.text for x in read_seeds() if x.kind == "slang"]}
    sl = {}
    for set_name, texts in slang_sets.items():
        for label, part in (("aae_markers", [t for t in texts if AAE_MARKERS.search(t)]),
                            ("other", [t for t in texts if not AAE_MARKERS.search(t)])):
            piped = clf.classify([PostInput(t, kind="post") for t in part])
            rates = {c: round(float(np.mean([c in r.labels for r in piped])), 4) if part else None
                     for c in ("bullying", "threat", "self_harm")}
            sl[f"{set_name}/{label}"] = {"n": len(part), **rates}
            print(f"  {set_name:24s} {label:12s} n={len(part):4d}  " +
                  ", ".join(f"{c} {100 * v:.1f}%" for c, v in rates.items() if v is not None))
    figures["slang_check"] = sl

    if real_encode is not None:
        models.encoder.encode = real_encode
    print("== Latency on one core (budget with the encoder: batches of 64 <= 15 ms median, <= 40 ms p95 per post;"
          " a post alone <= 25 ms)")
    posts = [t for n in ORDER for t in parts[n].texts if len(t) <= 280][:2000]
    rng.shuffle(posts)
    inputs = [PostInput(t, platform="x", kind="post") for t in posts]
    clf.classify(inputs[:64])
    tfidf_clf = Classifier(tfidf_models)
    batches = [inputs[i:i + 64] for i in range(0, 1024, 64)]

    def ms_stats(samples: list[float]) -> dict:
        return {"median_ms": round(statistics.median(samples), 3),
                "p95_ms": round(float(np.percentile(samples, 95)), 3)}

    def per_post_in_batches(fn) -> dict:   # per post = batch time / 64; median and p95 over 16 batches x 2
        return ms_stats([median_us(lambda b=b: fn(b), 1) / 1000 / len(b) for b in batches * 2])

    def alone(fn, n: int = 300) -> dict:
        return ms_stats([median_us(lambda p=p: fn(p), 1) / 1000 for p in inputs[:n]])

    def encoder_heads(texts):
        if models.heads is not None:
            models.heads.decisions(models.encoder.encode(texts))

    lat = {
        "tfidf_models": {"batch64": per_post_in_batches(lambda b: tfidf_models.model_proba([p.text for p in b])),
                         "alone": alone(lambda p: tfidf_models.model_proba([p.text]))},
        "encoder_and_heads": {"batch64": per_post_in_batches(lambda b: encoder_heads([p.text for p in b])),
                              "alone": alone(lambda p: encoder_heads([p.text]))},
        "ensemble_pipeline": {"batch64": per_post_in_batches(clf.classify), "alone": alone(lambda p: clf.classify([p]))},
        "tfidf_pipeline": {"batch64": per_post_in_batches(tfidf_clf.classify),
                           "alone": alone(lambda p: tfidf_clf.classify([p]))},
        "alt_profanity_check": {"batch64": per_post_in_batches(lambda b: predict_prob([p.text for p in b])),
                                "alone": alone(lambda p: predict_prob([p.text]))},
    }
    for name, f in lat.items():
        print(f"  {name:20s} batch of 64, per post: median {f['batch64']['median_ms']:7.3f} ms  p95 {f['batch64']['p95_ms']:7.3f} ms"
              f"   | alone: median {f['alone']['median_ms']:7.3f} ms  p95 {f['alone']['p95_ms']:7.3f} ms")
    ens = lat["ensemble_pipeline"]
    ok = (ens["batch64"]["median_ms"] <= 15 and ens["batch64"]["p95_ms"] <= 40 and ens["alone"]["median_ms"] <= 25)
    print(f"  whole pipeline within the budget: {'PASS' if ok else 'MISS'}"
          f"   (ratio to alt-profanity-check in batches: "
          f"{ens['batch64']['median_ms'] / max(lat['alt_profanity_check']['batch64']['median_ms'], 1e-9):.0f}x)")

    # The same, in CPU time of this thread: on a shared machine a batch is often paused for
    # another process, which wall time counts; CPU time compares fairly and is what the stage
    # table below adds up against.
    def cpu_us(fn) -> float:
        t0 = time.thread_time_ns()
        fn()
        return (time.thread_time_ns() - t0) / 1000

    single_cpu = statistics.median([cpu_us(lambda p=p: clf.classify([p])) for p in inputs[:300]])
    batch_cpu = statistics.median([cpu_us(lambda b=b: clf.classify(b)) / len(b) for b in batches * 2])
    lat.update(single_cpu_us=round(single_cpu, 1), batch64_per_post_cpu_us=round(batch_cpu, 1))
    print(f"  CPU time of this thread:    one post {single_cpu:.1f} us, batch of 64 {batch_cpu:.1f} us per post")
    # Where the batch time goes, stage by stage, as classify runs them (each stage once per batch
    # of 64, through the detectors' batch functions), per post: CPU time, best of 3 per batch,
    # median over the 16 batches. A stage repeated on one batch finds its dictionaries in the CPU
    # cache, which classify's one pass over everything does not, so the stages add up to less
    # than the total: the difference is the last line.
    from classifiers.helpseeking import is_help_seeking_batch
    from classifiers.normalize import normalize
    from classifiers.patterns import find_intent_batch

    def stage(fn) -> float:
        return statistics.median([min(cpu_us(lambda b=b: fn(b)) for _ in range(3)) / len(b) for b in batches])

    norm_b = {id(b): [normalize(p.text, offsets=False) for p in b] for b in batches}
    judged = {id(b): clf.classify(b) for b in batches}
    hits_b = {id(b): models.score(norm_b[id(b)])[1] for b in batches}

    def evidence(b) -> None:
        # what classify does for its labelled posts: the intent phrases, then the words of all of
        # them at once; each post's offset map is built afresh, as it is for a new post
        reqs = []
        for p, c, h in zip(b, judged[id(b)], hits_b[id(b)]):
            if c.labels:
                n = normalize(p.text, offsets=False)
                cats = tuple(k for k in models.categories if k in c.labels)
                for k in cats:
                    models.pattern_evidence(p.text, k, n, h)
                reqs.append((p.text, n, cats))
        models.word_evidence_batch(reqs)

    stages = {
        "normalize": stage(lambda b: [normalize(p.text, offsets=False) for p in b]),
        "features_and_product": stage(lambda b: models.decision([n.text for n in norm_b[id(b)]])),
        "encoder_and_heads": stage(lambda b: encoder_heads([p.text for p in b])),
        "intent_patterns": stage(lambda b: find_intent_batch([n.text for n in norm_b[id(b)]])),
        "help_seeking": stage(lambda b: is_help_seeking_batch([p.text for p in b], [n.text for n in norm_b[id(b)]])),
        "pii (classifiers/pii.py)": stage(lambda b: clf._pii_all(b)),
        "impersonation (classifiers/impersonation.py)": stage(lambda b: clf._impersonation_all(b)),
        f"evidence ({sum(bool(c.labels) for j in judged.values() for c in j)} of {64 * len(batches)} posts labelled)":
            stage(evidence),
    }
    stages["rest of classify (assembly, cache misses)"] = batch_cpu - sum(stages.values())
    for name, us in stages.items():
        print(f"    stage {name:45s} {us:6.1f} us per post")
    lat["stages_us"] = {k: round(v, 1) for k, v in stages.items()}
    figures["latency"] = lat

    print("== Memory of the loaded models")
    print(f"  TF-IDF models {ours_mem / 1e6:.1f} MB (tracemalloc; estimate {models.memory_bytes() / 1e6:.1f} MB)"
          f"   encoder + heads {encoder_rss / 1e6:.1f} MB (resident-set growth)"
          f"   | alt-profanity-check {apc_mem / 1e6:.1f} MB")
    figures["memory_mb"] = {"tfidf_models": round(ours_mem / 1e6, 2), "encoder_and_heads_rss": round(encoder_rss / 1e6, 2),
                            "alt_profanity_check": round(apc_mem / 1e6, 2)}

    print("== Realistic student posts (classifiers/eval/): recall and false labels through the pipeline")
    from classifiers import realistic
    real = {}
    for set_name in realistic.SHIPPED:
        path = realistic.shipped_path(set_name)
        for label, c in (("ensemble", clf), ("tfidf_only", tfidf_clf)):
            rep, _ = realistic.evaluate(c, path)
            real[f"{set_name}/{label}"] = rep
            rc = "  ".join(f"{k} {v['rate']:.2f} [{v['ci95'][0]:.2f}-{v['ci95'][1]:.2f}]" for k, v in rep["recall"].items())
            fl = rep["false_labels"]["all"]
            tx = rep["false_labels"]["all_but_help_self_harm_only"]
            print(f"  {set_name:9s} {label:10s} recall {rc}   false labels {fl['rate']:.3f} [{fl['ci95'][0]:.3f}-{fl['ci95'][1]:.3f}]"
                  f"   without help posts labelled self_harm only {tx['rate']:.3f}")
    figures["realistic"] = real
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
