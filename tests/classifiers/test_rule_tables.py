"""The checks every round's intent-rule table must pass (tables in the test_round_*_patterns
modules; rule_tables.py says what a table holds): each positive is found plainly, no harmless twin
is, each new rule is in its category with its keys and enough posts, the keyword index never skips
a rule that matches, and the batch scan finds what single posts find; and each round's help posts
are help-seeking, their look-alikes are not, in single posts and in a batch."""
from __future__ import annotations

import pytest

from classifiers.helpseeking import is_help_seeking, is_help_seeking_batch
from classifiers.normalize import normalize
from classifiers.patterns import RULE_KEYS, TRIGGER_WORDS, _ALL_RULES, _DOUBLE_RE, find_intent, find_intent_batch
from tests.classifiers import (test_round_eight_holdout_patterns, test_round_eight_patterns,
                               test_round_nine_holdout_patterns, test_round_nine_patterns,
                               test_round_nine_third_pass_patterns, test_round_seven_patterns)
from tests.classifiers.rule_tables import hits, plain_rules

TABLES = [m.TABLE for m in (test_round_seven_patterns, test_round_eight_patterns, test_round_eight_holdout_patterns,
                            test_round_nine_patterns, test_round_nine_holdout_patterns,
                            test_round_nine_third_pass_patterns)]
_IDS = [t.name for t in TABLES]


def _rows(attr: str):
    return [pytest.param(text, rule, id=f"{t.name}: {text[:40]}") for t in TABLES for text, rule in getattr(t, attr)]


@pytest.mark.parametrize("text,rule", _rows("positives"))
def test_positive_is_found_plainly(text, rule):
    assert rule in plain_rules(text), [(h.rule, h.score, h.negated, h.quoted) for h in hits(text)]


@pytest.mark.parametrize("text,rule", _rows("negatives"))
def test_look_alike_is_not_found_plainly(text, rule):
    assert rule not in plain_rules(text), [(h.rule, h.score, h.negated, h.quoted) for h in hits(text)]


@pytest.mark.parametrize("table", TABLES, ids=_IDS)
def test_every_new_rule_has_its_category_keys_and_posts(table):
    cats = {rule: cat for cat, rule, _, _ in _ALL_RULES}
    for rule, cat in table.new_rules.items():
        assert cats[rule] == cat and rule in RULE_KEYS, rule
        assert sum(r == rule for _, r in table.positives) >= table.min_positives, rule
        assert sum(r == rule for _, r in table.negatives) >= table.min_negatives, rule
        if table.check_triggers:
            # the batch scan's trigger words must let each rule's first keyword group through
            assert all(any(k.startswith(w) for w in TRIGGER_WORDS) for k in RULE_KEYS[rule][0]), rule


@pytest.mark.parametrize("text,rule", _rows("positives"))
def test_keys_never_skip_a_rule_that_matches(text, rule):
    # RULE_KEYS lets the scan skip a rule's regex; it must never skip one that would match
    squeezed = _DOUBLE_RE.sub(r"\1", normalize(text, offsets=False).text)
    for _, name, pattern, keys in _ALL_RULES:
        if pattern.search(squeezed):
            assert all(any(k in squeezed for k in group) for group in keys), name


@pytest.mark.parametrize("table", TABLES, ids=_IDS)
def test_batch_finds_what_single_posts_find(table):
    texts = [normalize(t, offsets=False).text for t, _ in table.positives + table.negatives]
    assert find_intent_batch(texts) == [find_intent(t) for t in texts]


def _help_rows(attr: str):
    return [pytest.param(text, id=f"{t.name}: {text[:40]}") for t in TABLES for text in getattr(t, attr)]


@pytest.mark.parametrize("text", _help_rows("help"))
def test_help_post_is_help_seeking(text):
    assert is_help_seeking(text)


@pytest.mark.parametrize("text", _help_rows("not_help"))
def test_help_look_alike_is_not_help_seeking(text):
    assert not is_help_seeking(text)


@pytest.mark.parametrize("table", [t for t in TABLES if t.help or t.not_help], ids=lambda t: t.name)
def test_help_batch_finds_what_single_posts_find(table):
    texts = list(table.help + table.not_help)
    assert is_help_seeking_batch(texts, [None] * len(texts)) == [is_help_seeking(t) for t in texts]
