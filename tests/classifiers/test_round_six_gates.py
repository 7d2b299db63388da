"""Round six (detect6): the hyperbole and ordinary-post gates outrank self_harm's bare "kms" rule,
and nothing else of self_harm (classifiers.pipeline.gate_outranks; EXPERIMENTS.md, round six)."""
from __future__ import annotations

import pytest

from classifiers import pipeline
from classifiers.patterns import PLAIN_SCORE, find_intent
from classifiers.normalize import normalize


@pytest.mark.parametrize("category, rule, outranked", [
    ("self_harm", "i_want_to_die", False),         # a first-person statement keeps its label
    ("self_harm", "i_will_kill_myself", False),
    ("self_harm", "i_cut_myself", False),
    ("self_harm", "goodbye_post", False),
    ("threat", "i_will_verb_you", False),          # round five: gates never outrank threat rules
    ("threat", "bringing_weapon", False),
    ("bullying", "bringing_weapon", False),        # GATE_KEEPS
    ("bullying", "some_insult_rule", True),        # round five: the slang gate outranks insult rules
])
def test_which_plain_rules_a_kind_gate_outranks(category, rule, outranked):
    assert pipeline.gate_outranks(category, rule) is outranked


def _kms_outranked(text: str) -> bool:
    norm = normalize(text).text
    hit = next(h for h in find_intent(norm) if h.rule == "kms")
    return pipeline.gate_outranks(hit.category, hit.rule, norm, hit.start, hit.end)


@pytest.mark.parametrize("text, outranked", [
    ("kms the wifi went out mid ranked", True),    # says what it is about: the gate judges the post
    ("wifi down again kms 😭", True),
    ("kms", False),                                # nothing but the phrase: the label stays
    ("kms fr", False),
    ("kms rn", False),
])
def test_the_bare_kms_rule_is_outranked_only_in_a_post_about_something(text, outranked):
    assert _kms_outranked(text) is outranked


def _plain_self_harm_rules(text: str) -> set[str]:
    return {h.rule for h in find_intent(normalize(text).text) if h.category == "self_harm" and h.score >= PLAIN_SCORE}


def test_a_first_person_kms_matches_a_rule_no_gate_outranks():
    # why outranking "kms" alone is safe: a stated intent matches a second, kept rule
    for text in ("i want to kms for real this time", "im gonna kms tonight"):
        rules = _plain_self_harm_rules(text)
        assert "kms" in rules and any(not pipeline.gate_outranks("self_harm", r) for r in rules), (text, rules)
    assert _plain_self_harm_rules("kms the bus left without me") == {"kms"}


@pytest.fixture(scope="module")
def clf():
    from classifiers.textmodels import TextModels
    return pipeline.Classifier(TextModels.load())


@pytest.mark.parametrize("text", ["kms my charger broke again 😭", "kms the bus left without me",
                                  "kms i forgot my gym clothes again"])
def test_kms_about_a_small_annoyance_is_not_labelled_self_harm(clf, text):
    from classifiers.types import PostInput
    c = clf.classify([PostInput(text)])[0]
    assert c.scores["self_harm"] >= PLAIN_SCORE        # the score stays for the counselor's view
    assert "self_harm" not in c.labels, (c.labels, c.scores)


@pytest.mark.parametrize("text", ["im going to kill myself tonight, i mean it", "kms fr",
                                  "i really want to kms rn everything hurts and i cant do this anymore",
                                  "kms. not joking. i have the pills counted out"])
def test_a_stated_intent_keeps_its_self_harm_label(clf, text):
    from classifiers.types import PostInput
    assert "self_harm" in clf.classify([PostInput(text)])[0].labels
