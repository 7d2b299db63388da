"""The table each round of intent rules is tested with, and the helpers its checks share.

A round's test module states its new rules (name -> category), posts each rule must find plainly
(POSITIVES: the post that showed the gap and paraphrases of our own) and harmless twins it must
not (NEGATIVES), and the help posts its help rules must find (HELP, NOT_HELP), as a RuleTable;
test_rule_tables.py runs the same checks over every round's table, so a new round adds a table,
not another copy of the checks."""
from __future__ import annotations

from dataclasses import dataclass

from classifiers.normalize import normalize
from classifiers.patterns import PLAIN_SCORE, find_intent


def hits(text: str) -> list:
    return find_intent(normalize(text, offsets=False).text)


def plain_rules(text: str) -> set[str]:
    return {h.rule for h in hits(text) if h.score >= PLAIN_SCORE}


@dataclass(frozen=True)
class RuleTable:
    name: str
    new_rules: dict[str, str]                # rule -> category
    positives: list[tuple[str, str]]         # (text, rule that must fire plainly)
    negatives: list[tuple[str, str]]         # (text, rule that must not fire plainly)
    min_positives: int = 1                   # posts a new rule needs in POSITIVES
    min_negatives: int = 0                   # harmless twins a new rule needs in NEGATIVES
    # rules added since the batch scan's trigger words existed must be let through by them
    check_triggers: bool = True
    # help-seeking posts the round's help rules must find, and look-alikes they must not
    help: tuple[str, ...] = ()
    not_help: tuple[str, ...] = ()
