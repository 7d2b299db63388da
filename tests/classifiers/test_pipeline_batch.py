"""The batched pipeline gives exactly what judging each post on its own gives.

`Classifier.classify` runs every stage once per batch (normalization, the rule detectors' batch
functions, the word evidence of all labelled posts at once). `reference_classify` below is the
plain per-post path it replaced: each post normalized, searched, checked and explained alone,
with the per-post detector functions and the per-post evidence computation written out as they
were. Both run on a synthetic corpus (no data set text) built to reach every branch: leetspeak,
spaced letters, emoji, URLs, mentions, look-alike letters, e-mail addresses, phone numbers,
threats, self-harm, help-seeking, negation, quotes, names and accounts, empty and very long posts.
Scores, labels, evidence (text, span, weight, order) and help_seeking must be identical.
"""
from __future__ import annotations

import logging
import math
import random

import numpy as np
import pytest

import classifiers.pipeline as pipeline
import classifiers.textmodels as textmodels
from classifiers.helpseeking import is_help_seeking
from classifiers.impersonation import find_impersonation
from classifiers.ngrams import TOKEN_RE
from classifiers.normalize import normalize
from classifiers.patterns import PLAIN_SCORE, TONE_DAMP, VICTIM_REPEATS, find_intent, scores_from_hits, tone
from classifiers.pii import find_pii
from classifiers.textmodels import MAX_CHARS, MIN_EVIDENCE_SHARE, NEGATED_CEILING
from classifiers.types import CATEGORIES, Classification, Evidence, PostInput
from tests.classifiers.test_pii import fixture_roster

# ---------------------------------------------------------------------------- synthetic corpus
FRAGMENTS = [
    "u r s0 ugly", "ur such a l0s3r lol", "k i l l urself", "k  i  l  l  u", "k.i.l.l y.o.u", "k\ti\tl\tl",
    "i w1ll k i l l u", "1 w4nt 70 d13", "$tupid b!tch", "h8 u ppl", "kys", "kms fr", "stuuuuupid idiot!!!",
    "I will shoot up the school tomorrow", "im gonna stab him after school", "I'm bringing a gun to school monday",
    "you're dead after school 🔪🔫", "watch your back", "i know where you live",
    "i want to die", "I'm going to kill myself", "i cut myself again", "I dont want to live anymore",
    "im suicidal", "goodbye everyone", "i would never kill myself", "I'm not going to hurt anyone",
    'he said "I will kill you" lol', "the song goes i want to die", "nobody likes you", "you have no friends",
    "why are you even alive", "go drink bleach", "nobody would miss you",
    "my friend said she wants to hurt herself, who do I tell", "how do I talk to a counselor",
    "call 988 if you need to talk", "text HOME to 741741", "i need help", "you can always talk to me",
    "💀💀💀 im dead lol", "this homework is killing me 😭😭", "shoot me a text", "we're gonna kill it at the game 🏫",
    "check https://example.com/a?b=1 and www.test.io/page", "see bit.ly/xyz", "@some_one123 shut up",
    ".@USER lol", "@USER @USER you are an idiot", "email me at kid.name+tag@school-mail.example.org",
    "call me 978-555-0142", "my number is (617) 555 0199", "Ι wаnt tо diе", "уоu аrе ѕtuріd",
    "ki\u200bll y\u00adou", "kíll yoü", "İSTANBUL ŞEHİR", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ", "ﬁne ﬂower",
    "Jayden Ortiz is a loser", "it's Jayden, new account", "Michael Chen lives at 12 Elm Street",
    "I live at 44 Maple Ave apt 3", "hey guys its jayden, my old account got hacked", "nice pic!",
    "see you at lunch", "3am again, 2nd time, 10k steps", "jay2010 and line1", "wow!!! ok...",
    "u+r+d+u+m+b", "n o  o n e  c a r e s", "a b c", "'quoted' \"text\"", "i'm ok, i'm fine.", "lol",
]
WORDS = ("the and you are so just like really what why school class today tomorrow bus lunch game "
         "dumb ugly fat weird hate love friend nobody everyone kill die hurt gun knife help talk").split()
AUTHORS = (None, "s-jayden", "s-michael", "s-anna", "t-rivera")
ACCOUNTS = (None, "Jayden Ortiz", "Ms Rivera", "ENSATSD Official", "mchen")
KINDS = (None, "post", "comment", "profile", "signup", "message")


def corpus(n: int = 260, seed: int = 20261128) -> list[PostInput]:
    rng = random.Random(seed)
    posts = [PostInput(f) for f in FRAGMENTS]
    posts += [PostInput(""), PostInput("   "), PostInput("\n\n"), PostInput("🔪"), PostInput("@")]
    for _ in range(n):
        parts = rng.sample(FRAGMENTS, rng.randint(1, 3)) + rng.sample(WORDS, rng.randint(0, 6))
        rng.shuffle(parts)
        text = rng.choice((" ", ". ", ", ", "\n", "  ", " ... ")).join(parts)
        if rng.random() < 0.2:
            text = text.upper()
        posts.append(PostInput(text, author=rng.choice(AUTHORS), platform=rng.choice((None, "x", "instagram")),
                               kind=rng.choice(KINDS), account=rng.choice(ACCOUNTS)))
    # very long posts: the models read MAX_CHARS characters, the rule detectors all of it
    filler = " ".join(rng.choice(WORDS) for _ in range(1100))
    posts.append(PostInput(filler + " I will shoot up the school, call me 978-555-0142"))
    posts.append(PostInput("i want to die " + filler + " kys loser"))
    posts.append(PostInput(("u r s0 ugly 🔪 " * 500)[: MAX_CHARS + 7]))
    return posts


# ------------------------------------------------------------------- the per-post reference path
def reference_word_evidence(models, text, norm, category, limit=3) -> list[Evidence]:
    """The word half of TextModels.evidence, one post and one category at a time, as written
    before the batch version: each word's features then the word grams it starts, a feature
    credited to the first word that has it, a dozen small numpy steps."""
    matches = list(TOKEN_RE.finditer(norm.text[:MAX_CHARS]))
    if not matches:
        return []
    c = models.categories.index(category)
    toks = [m.group(0) for m in matches]
    phrases: dict[int, list[int]] = {}
    for i, j in models._phrase_grams(toks):
        phrases.setdefault(i, []).append(j)
    feats: list[int] = []
    owner: list[int] = []
    for i, tok in enumerate(toks):
        f = models._token_features(tok)
        feats.extend(f)
        owner.extend([i] * len(f))
        for j in phrases.get(i, ()):
            feats.append(j)
            owner.append(i)
    if not feats:
        return []
    uniq, first = np.unique(np.array(feats, dtype=np.int64), return_index=True)
    norm_c = math.sqrt(float(models.I2[uniq, c].sum())) or 1.0
    per_word = np.bincount(np.array(owner, dtype=np.int64)[first], weights=models.W[uniq, c],
                           minlength=len(matches)) / norm_c
    total = float(per_word[per_word > 0].sum()) or 1.0
    ev = []
    for i in np.argsort(-per_word, kind="stable")[:limit]:
        score = float(per_word[i])
        if score <= 0 or score < MIN_EVIDENCE_SHARE * total:
            break
        s, e = norm.span(*matches[i].span())
        ev.append(Evidence(category, "model", text[s:e], s, e, round(score / total, 3)))
    return ev


def reference_pattern_evidence(text, norm, category, hits) -> list[Evidence]:
    ev, spans = [], []
    for hit in sorted((h for h in hits if h.category == category), key=lambda h: h.start - h.end):
        if hit.score <= 0 or any(a <= hit.start and hit.end <= b for a, b in spans):
            continue
        spans.append((hit.start, hit.end))
        s, e = norm.span(hit.start, hit.end)
        ev.append(Evidence(category, "pattern", text[s:e], s, e, round(hit.score, 3)))
    return ev


def reference_classify(clf, posts: list[PostInput]) -> list[Classification]:
    models = clf.models
    texts = [p.text or "" for p in posts]
    norms = [normalize(t[:MAX_CHARS], offsets=False) for t in texts]
    # the linear decision is the one thing taken batch-wise (scipy's product for a batch, numpy's
    # for a few posts: different float paths that the 4-decimal rounding hides, not under test)
    d = models.decision([n.text for n in norms])
    probs = {c: models._calibrate(c, d[:, k]) for k, c in enumerate(models.categories)}
    gates = [{} for _ in texts]     # each post's kind gates (round four): name -> (passed, suppresses)
    if models.heads is not None:    # the encoder ensemble, one post at a time
        for i, t in enumerate(texts):
            enc = models.encoder.encode([norms[i].text])
            student = models.student_decisions(d[i:i + 1])
            one = models.heads.combine({c: probs[c][i:i + 1] for c in probs}, enc, student)
            for c in probs:
                probs[c][i] = one[c][0]
            gates[i] = {name: (bool(on[0]), models.heads.gates[name].suppresses)
                        for name, on in models.heads.gate_decisions(enc, student).items()}
    all_hits = []
    for i in range(len(posts)):
        hits = []
        found = find_intent(norms[i].text[:MAX_CHARS])
        hyperbole, friendly = tone(norms[i].text[:MAX_CHARS])
        plain = {h.category for h in found if not h.negated and not h.quoted}
        for cat, on in (("threat", hyperbole), ("self_harm", hyperbole), ("bullying", friendly)):
            if on and cat not in plain:
                probs[cat][i] *= TONE_DAMP
        for cat, (score, damp, h) in scores_from_hits(found).items():
            hits.extend(h)
            if cat in probs and h:
                if damp < 1.0:      # negated/quoted only: kept under the category's threshold
                    damp = min(damp, NEGATED_CEILING * models.thresholds.get(cat, 1.0))
                probs[cat][i] = max(probs[cat][i] * damp, score)
        all_hits.append(hits)
    out = []
    for i, post in enumerate(posts):
        hits = all_hits[i]
        scores = {c: 0.0 for c in CATEGORIES}
        for cat, arr in probs.items():
            scores[cat] = np.clip(arr, 0.0, 1.0).round(4).tolist()[i]   # numpy's rounding, as scored
        pii = find_pii(post.text, roster=clf.roster, author=post.author, district=clf.district) if post.text else []
        imp = find_impersonation(post, roster=clf.roster, district=clf.district)
        if pii:
            scores["pii"] = round(max(e.weight for e in pii), 4)
        if imp:
            scores["impersonation"] = round(max(e.weight for e in imp), 4)
        labels = [c for c in CATEGORIES if scores[c] >= clf.thresholds.get(c, 1.01)]
        # round five: for bullying only the rules of GATE_KEEPS outrank a kind gate; round six:
        # the gates outrank self_harm's bare "kms" rule (pipeline.gate_outranks)
        plain = {h.category for h in hits if h.score >= PLAIN_SCORE
                 and not pipeline.gate_outranks(h.category, h.rule, norms[i].text, h.start, h.end)}
        off = {c for name, (on, cats) in gates[i].items() if name != "help" and on for c in cats} - plain
        labels = [c for c in labels if c not in off]
        help_seeking = is_help_seeking(texts[i], normalized=norms[i].text) or gates[i].get("help", (False,))[0]
        evidence = []
        if labels:
            full = normalize(texts[i])          # the offsets, computed the plain way
            text_ev = {cat: reference_pattern_evidence(texts[i], full, cat, hits)
                       + reference_word_evidence(models, texts[i], full, cat)
                       for cat in models.categories if cat in labels}
            if help_seeking:
                # round five: not the kinds a victim's report repeats unquoted (extortion, leakage)
                plain_threat = "threat" in text_ev and any(h.category == "threat" and h.score >= PLAIN_SCORE
                                                           and h.rule not in VICTIM_REPEATS for h in hits)
                labels = [c for c in labels if c not in pipeline.MISCONDUCT or (c == "threat" and plain_threat)]
            for cat in models.categories:
                if cat in labels:
                    evidence.extend(text_ev[cat])
        evidence.extend(pii)
        evidence.extend(imp)
        out.append(Classification(scores=scores, labels=labels, evidence=evidence, help_seeking=help_seeking))
    return out


# ---------------------------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def clf(models):
    return pipeline.Classifier(models, roster=fixture_roster())


@pytest.fixture(scope="module")
def posts():
    return corpus()


@pytest.fixture(scope="module")
def expected(clf, posts):
    return reference_classify(clf, posts)


def _same(got, want, posts):
    assert len(got) == len(want)
    for g, w, p in zip(got, want, posts):
        assert (g.scores, g.labels, g.evidence, g.help_seeking) == (w.scores, w.labels, w.evidence, w.help_seeking), p.text[:120]


def test_the_corpus_reaches_every_branch(clf, expected):
    """The comparison below only means something if the corpus exercises what it compares."""
    labels = {c for r in expected for c in r.labels}
    kinds = {e.kind for r in expected for e in r.evidence}
    assert labels == set(CATEGORIES)
    assert {"pattern", "model"} <= kinds and len(kinds) >= 5
    assert any(r.help_seeking for r in expected) and any(r.help_seeking and r.labels for r in expected)
    assert sum(bool(r.labels) for r in expected) > 50
    # a help-seeking post whose bullying label was suppressed (the suppression path is compared)
    assert any(r.help_seeking and "bullying" not in r.labels and r.scores["bullying"] >= clf.thresholds["bullying"]
               for r in expected)


@pytest.mark.parametrize("size", [1, 5, 8, 64, 10_000])
def test_batches_of_any_size_match_the_per_post_path(clf, posts, expected, size):
    got = []
    for i in range(0, len(posts), size):
        got += clf.classify(posts[i:i + size])
    if size == 1:
        # one post at a time takes numpy's decision path, not scipy's: compare with the
        # reference run the same way
        want = [reference_classify(clf, [p])[0] for p in posts]
    elif size == 5:
        want = [r for i in range(0, len(posts), 5) for r in reference_classify(clf, posts[i:i + 5])]
    else:
        want = [r for i in range(0, len(posts), size) for r in reference_classify(clf, posts[i:i + size])] \
            if size != 10_000 else expected
    _same(got, want, posts)


def test_public_evidence_matches_the_per_post_computation(clf, posts, expected):
    models = clf.models
    checked = 0
    for p, r in zip(posts, expected):
        for cat in models.categories:
            if cat not in r.labels:
                continue
            full = normalize(p.text)
            want = reference_word_evidence(models, p.text, full, cat)
            got = [e for e in models.evidence(p.text, cat) if e.kind == "model"]
            assert got == want, p.text[:120]
            checked += 1
    assert checked > 50


def test_word_evidence_batch_edge_cases(models):
    assert models.word_evidence_batch([]) == []
    norm = normalize("u r s0 ugly")
    assert models.word_evidence_batch([("u r s0 ugly", norm, ("pii",))]) == [{}]   # not a text category
    assert models.word_evidence_batch([("", normalize(""), ("bullying",))]) == [{"bullying": []}]
    assert models.word_evidence_batch([("!!! ...", normalize("!!! ..."), ("bullying",))]) == [{"bullying": []}]
    both = models.word_evidence_batch([("u r s0 ugly", norm, ("bullying", "threat"))])[0]
    assert set(both) == {"bullying", "threat"}
    assert both["bullying"] and all(e.category == "bullying" and e.kind == "model" for e in both["bullying"])


# ----------------------------------------------------------------- fail-open of the batch calls
def boom(*args, **kwargs):
    raise RuntimeError("batch bug")


@pytest.mark.parametrize("target,name", [
    (pipeline, "find_pii_batch"),
    (pipeline, "find_impersonation_batch"),
    (pipeline, "is_help_seeking_batch"),
    (textmodels, "find_intent_batch"),
])
def test_a_failing_batch_call_falls_back_to_each_post(clf, posts, expected, monkeypatch, caplog, target, name):
    monkeypatch.setattr(target, name, boom)
    with caplog.at_level(logging.ERROR):
        got = clf.classify(posts)
    _same(got, expected, posts)
    assert f"{name} failed" in caplog.text


@pytest.mark.parametrize("target,name", [
    (pipeline, "find_pii_batch"),
    (pipeline, "find_impersonation_batch"),
    (pipeline, "is_help_seeking_batch"),
    (textmodels, "find_intent_batch"),
])
def test_a_batch_call_with_a_wrong_count_is_not_trusted(clf, posts, expected, monkeypatch, caplog, target, name):
    monkeypatch.setattr(target, name, lambda *a, **k: [])
    with caplog.at_level(logging.ERROR):
        got = clf.classify(posts)
    _same(got, expected, posts)
    assert name in caplog.text


def test_one_bad_post_costs_only_its_own_pii_score(clf, posts, expected, monkeypatch, caplog):
    bad = next(i for i, r in enumerate(expected) if r.scores["pii"] > 0 and r.scores["bullying"] > 0)
    real = find_pii

    def flaky(text, **kw):
        if text == posts[bad].text:
            raise RuntimeError("detector bug")
        return real(text, **kw)

    monkeypatch.setattr(pipeline, "find_pii_batch", boom)
    monkeypatch.setattr(pipeline, "find_pii", flaky)
    got = clf.classify(posts)
    assert got[bad].scores["pii"] == 0.0 and not [e for e in got[bad].evidence if e.category == "pii"]
    assert got[bad].scores["bullying"] == expected[bad].scores["bullying"]
    others = [i for i in range(len(posts)) if posts[i].text != posts[bad].text]
    _same([got[i] for i in others], [expected[i] for i in others], [posts[i] for i in others])
    assert sum(got[i].scores["pii"] > 0 for i in others) > 5
    assert "find_pii failed" in caplog.text


def test_word_evidence_in_chunks_is_the_same(models, posts, expected, monkeypatch):
    reqs = [(p.text, normalize(p.text), tuple(r.labels)) for p, r in zip(posts, expected) if r.labels]
    whole = models.word_evidence_batch(reqs)
    monkeypatch.setattr(textmodels, "_EVIDENCE_CHUNK", 3)
    assert models.word_evidence_batch(reqs) == whole
    assert sum(len(v) for d in whole for v in d.values()) > 50


def test_failing_evidence_keeps_every_label(clf, posts, expected, monkeypatch, caplog):
    """Evidence is a reading aid: when computing it fails, labels and scores stand (a failure
    here used to fail the whole batch, which the proxy lets through unjudged)."""
    monkeypatch.setattr(clf.models, "word_evidence_batch", boom)
    with caplog.at_level(logging.ERROR):
        got = clf.classify(posts)
    assert [g.scores for g in got] == [w.scores for w in expected]
    assert [g.labels for g in got] == [w.labels for w in expected]
    assert not any(e.kind == "model" for g in got for e in g.evidence)
    assert "word evidence failed" in caplog.text


def test_failing_pattern_evidence_keeps_a_help_seeking_post_s_threat_label(clf, monkeypatch, caplog):
    """Without its intent phrases the pipeline cannot tell a plain threat from a help-seeking
    one, so the threat label stays (the counselor sees it); bullying is still suppressed."""
    post = PostInput("I will shoot up the school tomorrow, how do I talk to a counselor")
    want = clf.classify([post])[0]
    assert want.help_seeking and "threat" in want.labels
    monkeypatch.setattr(clf.models, "pattern_evidence", boom)
    with caplog.at_level(logging.ERROR):
        got = clf.classify([post])[0]
    assert got.labels == want.labels and got.scores == want.scores
    assert not any(e.kind == "pattern" for e in got.evidence)
    assert "pattern evidence failed" in caplog.text
