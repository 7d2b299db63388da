"""The realistic student-post set through `crossingguard evaluate --realistic`, and the rules it
relies on (school threats, self-injury, eating disorders, hyperbole, teasing, help-seeking)."""
from __future__ import annotations

import pytest

from classifiers import realistic
from classifiers.normalize import normalize
from classifiers.patterns import find_intent, tone
from classifiers.pipeline import Classifier
from classifiers.types import PostInput
from tests.classifiers.test_commands import run_cli


def test_the_set_is_what_the_model_card_says():
    rows = realistic.read()
    assert len(rows) >= 300
    count = {}
    for r in rows:
        count[(r.category, r.kind)] = count.get((r.category, r.kind), 0) + 1
    for cat in ("threat", "self_harm", "bullying"):
        assert count[(cat, cat)] >= 60
    assert sum(n for (c, _), n in count.items() if c == "none") >= 150
    assert {k for c, k in count if c == "none"} == set(realistic.KINDS)
    assert len({r.text for r in rows}) == len(rows)               # no duplicates


def test_report_counts_recall_and_false_labels():
    rows = [realistic.Row("a", "threat", 1, "threat"), realistic.Row("b", "threat", 1, "threat"),
            realistic.Row("c", "none", 0, "help"), realistic.Row("d", "none", 0, "slang"),
            realistic.Row("e", "bullying", 1, "bullying")]
    labels = [["threat"], ["bullying"], ["threat"], [], ["bullying", "pii"]]
    rep = realistic.report(labels, rows)
    assert rep["recall"]["threat"]["rate"] == 0.5 and rep["recall"]["threat"]["n"] == 2
    assert rep["recall"]["bullying"]["rate"] == 1.0
    assert rep["false_labels"]["help"]["rate"] == 1.0 and rep["false_labels"]["slang"]["rate"] == 0.0
    assert rep["false_labels"]["all"] == {"n": 2, "rate": 0.5, "ci95": rep["false_labels"]["all"]["ci95"]}
    lo, hi = rep["false_labels"]["all"]["ci95"]
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    assert [m["text"] for m in realistic.misses(labels, rows)] == ["b", "c"]


def test_a_set_with_game_rows_is_read_and_reported(tmp_path):
    # the seed files' negative kind "game" (written "gaming" by some writers) is accepted, so a
    # seed file can be scored as it is; a set without such rows reports no "game" figure
    path = tmp_path / "set.csv"
    path.write_text("text,category,label,kind\n"
                    "gg ez we destroyed them,none,0,gaming\n"
                    "that boss fight killed me,none,0,game\n"
                    "ur trash at this game lol,none,0,slang\n", encoding="utf-8")
    rows = realistic.read(path)
    assert [r.kind for r in rows] == ["game", "game", "slang"]
    rep = realistic.report([["bullying"], [], []], rows)
    assert rep["false_labels"]["game"]["n"] == 2 and rep["false_labels"]["game"]["rate"] == 0.5
    assert "game" not in realistic.report([[]], rows[2:])["false_labels"]


def test_an_unknown_negative_kind_names_file_line_and_key(tmp_path):
    from classifiers.datasets import DataFileError
    path = tmp_path / "set.csv"
    path.write_text("text,category,label,kind\nhi,none,0,chatter\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"set\.csv:2: kind: expected one of help, .*game, got 'chatter'"):
        realistic.read(path)


@pytest.fixture(scope="module")
def figures():
    from classifiers.textmodels import TextModels
    return realistic.evaluate(Classifier(TextModels.load()))


def test_evaluate_prints_the_realistic_figures(capsys, monkeypatch, figures):
    rc, out, err = run_cli(["evaluate", "--realistic", "--show-misses"], capsys, monkeypatch)
    assert rc == 0, err
    head, misses = out[0], [o["miss"] for o in out[1:]]
    assert head["encoder"] is True
    report, expected_misses = figures
    assert head["recall"] == report["recall"] and head["false_labels"] == report["false_labels"]
    assert misses == expected_misses


def test_shipped_models_on_the_realistic_set(figures):
    """Regression floors at the figures measured when these models shipped (model card). False
    labels are above the issue's target (at most 5%); the card says so. A change that lowers
    them fails here."""
    report, _ = figures
    assert report["recall"]["self_harm"]["rate"] >= 0.96
    # round five: 0.95 -> 0.93 (one more of the 60 threats missed, in exchange for false labels
    # 7.5% -> 3.5% and bullying 0.88 -> 0.95 on this set; model card)
    # round seven: 0.93 -> 0.95 (0.967 with the round-seven intent patterns)
    assert report["recall"]["threat"]["rate"] >= 0.95
    # round six: 0.95 -> 0.93 (one more of the 60 bullying posts missed by the models retrained on
    # 4,953 more seed posts; threat 0.93 -> 0.95 here, and on the new independent set holdout6
    # bullying 0.81 -> 0.82 and false labels 4.9% -> 3.8%; model card)
    # round seven: 0.93 -> 0.95 (0.967: bullying's lower threshold, model card)
    assert report["recall"]["bullying"]["rate"] >= 0.95
    # round four: help posts worried about someone's self-harm are labelled self_harm on purpose
    # (the taxonomy in the model card); every other false label counts
    assert report["false_labels"]["all_but_help_self_harm_only"]["rate"] <= 0.04
    assert report["false_labels"]["slang"]["rate"] <= 0.07


def test_a_victims_request_for_help_is_never_bullying_or_threat():
    rows = [r for r in realistic.read() if r.kind == "help"]
    clf = Classifier.load()
    for r, c in zip(rows, clf.classify([PostInput(r.text, kind="post") for r in rows])):
        assert not {"bullying", "threat"} & set(c.labels), r.text


def _rules(text):
    return {(h.rule, h.score) for h in find_intent(normalize(text).text)}


PLAIN = 0.97


@pytest.mark.parametrize("text, rule", [
    ("bringing my cousins glock to the dance friday", "weapon_to_school"),
    ("gonna bring a blade to school monday", "weapon_to_school"),
    ("there's a gun in my backpack", "weapon_in_bag"),
    ("yall better stay home thursday", "school_warning"),
    ("after the bell that kid is getting jumped", "getting_jumped"),
    ("we are jumping him behind the gym", "we_jump_them"),
    ("i'll snap his neck", "break_body"),
    ("im going to make them all pay", "make_them_pay"),
    ("i want all of them to die", "want_them_dead"),
    ("you've been warned", "warning"),
    ("i keep carving my thighs", "self_injury"),
    ("i started hiding my scars", "self_injury"),
    ("havent eaten since monday", "eating_disorder"),
    ("purging after every meal", "eating_disorder"),
    ("sick of being alive", "ideation"),
    ("they'd be better off without me", "ideation"),
    ("you're such a loser", "insult_you"),
])
def test_round_two_rules_fire_plainly(text, rule):
    assert (rule, PLAIN) in _rules(text), _rules(text)


@pytest.mark.parametrize("text", [
    "i would never bring a gun to school",          # negated
    "he said he's bringing a knife to school",      # reported
    "i heard kids talking about bringing a gun friday",   # hearsay
    "i'm bringing cookies to school tomorrow",
    "i'm staying home tomorrow, i'm sick",
    "stay home tomorrow if you're sick",
    "break a leg at the recital",
    "i need to cut my hair",
    "we killed it at the concert",
    "my mom is gonna kill me lol",                  # hyperbole with laughter
    "you're the worst at chess lol",                # game talk
    "ur such a loser i love u",                     # teasing with affection
    "i'm not starving myself, i had a big lunch",   # negated
])
def test_round_two_near_misses_are_not_plain(text):
    assert not [r for r, s in _rules(text) if s >= PLAIN], _rules(text)


@pytest.mark.parametrize("text, hyperbole, friendly", [
    ("this test is killing me", True, False),
    ("i'm dead 💀", True, False),
    ("i could kill for a nap", True, False),
    ("bro you're sick at basketball", False, True),
    ("ur such an idiot i love u", False, True),
    ("i'm going to kill him tomorrow", False, False),
    ("you're so ugly", False, False),
])
def test_tone_markers(text, hyperbole, friendly):
    assert tone(normalize(text).text) == (hyperbole, friendly)


def test_tone_damps_the_model_but_never_a_plain_statement():
    clf = Classifier.load()
    joke, real = clf.classify([PostInput("this test is killing me"), PostInput("im gonna kill him, this is killing me")])
    assert "threat" not in joke.labels
    assert "threat" in real.labels
