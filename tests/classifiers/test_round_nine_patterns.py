"""Round nine intent patterns (classifiers/patterns.py, "round nine (pat9)"): bullying that names
none of the older rules' insult words: a slur aimed at a peer, classmates rated or ranked, and
praise that mocks a trait. Written from the kinds of post the dev sets' misses showed (holdout8's,
read after its scoring), before holdout9 was scored. Each rule is tested on paraphrases of our own
(the dev-set post last) and on harmless twins; the shared checks run in test_rule_tables.py."""
from __future__ import annotations

import pytest

from classifiers.types import PostInput
from tests.classifiers.rule_tables import RuleTable, plain_rules

NEW_RULES = {"slur_at_peer": "bullying", "rate_peer": "bullying", "brave_with_trait": "bullying"}

POSITIVES = [
    ("ur such a f*g omg nobody wants u in the locker room", "slur_at_peer"),
    ("bro is lowkey a retard, he failed the permit test 3 times", "slur_at_peer"),
    ("jake is such a tranny lmaooo did u see his nails", "slur_at_peer"),
    ("everyone call him a fgt when he walks in tomorrow", "slur_at_peer"),
    ("he's a maricon fr, look at his shoes", "slur_at_peer"),
    ("stop acting like a dyke kayla nobody wants ur haircut", "slur_at_peer"),
    ("stop being a f*g Victor, real men don't do cosmetology", "slur_at_peer"),
    ("rate her 1-10 in the comments, i'll start", "rate_peer"),
    ("rate that kid's haircut out of 10 in the gc 😂", "rate_peer"),
    ("we ranked the girls in our grade by looks and posted it", "rate_peer"),
    ("me and tay made a tier list of the whole cast by how cringe they are", "rate_peer"),
    ("rate the new freshman's 'art' 1-10 in the replies. i'll start: 2 and that's for effort", "rate_peer"),
    ("ur so brave to post that with ur skin like that", "brave_with_trait"),
    ("so brave of her to try out for the solo knowing how that voice sounds", "brave_with_trait"),
    ("honestly so brave to wear a crop top with that body", "brave_with_trait"),
    ("cute that u tried out for cheer lexi! so brave with ur body type 💕", "brave_with_trait"),
]

NEGATIVES = [
    # the poster about themself, or a victim or witness reporting it
    ("im such a f*g for this song lmao", "slur_at_peer"),
    ("they called me a f*g in the hallway what do i do", "slur_at_peer"),
    ("how do you report someone who keeps calling you retarded in class", "slur_at_peer"),
    ("i saw them call him a f*g and shove him. who do i tell", "slur_at_peer"),
    ("he's not a f*g, stop saying that about him", "slur_at_peer"),
    # not aimed at a person
    ("this homework is retarded", "slur_at_peer"),
    ("is ur sped teacher here today", "slur_at_peer"),
    # rating things, or one's own
    ("rate my fit 1-10 be honest", "rate_peer"),
    ("rate this song 1-10 in the replies", "rate_peer"),
    ("ranking the seniors by who has the best car", "rate_peer"),
    ("we ranked the lunches by how bad they are, tuesday pizza came in last", "rate_peer"),
    # real encouragement
    ("so brave of u to share ur skin journey, ur glowing", "brave_with_trait"),
    ("she was so brave to sing the solo with a cold, proud of her", "brave_with_trait"),
    ("so brave to post ur body positivity journey, love this 💕", "brave_with_trait"),
]

# the shared checks (found plainly, not by its twins, keys, batch) run in test_rule_tables.py
TABLE = RuleTable("round nine", NEW_RULES, POSITIVES, NEGATIVES, min_positives=4, min_negatives=2)


@pytest.mark.parametrize("text", [
    "ur so retarded i love u bestie",
    "jake ur such a f*g lol ily",
])
def test_a_slur_between_friends_who_say_so_is_not_stated_plainly(text):
    # shown to the models (a quoted-strength hit), not labelled by the rule alone
    assert "slur_at_peer" not in plain_rules(text)


@pytest.fixture(scope="module")
def clf(models):
    from classifiers.pipeline import Classifier
    return Classifier(models)


@pytest.mark.parametrize("text", [
    "ur such a f*g omg nobody wants u in the locker room",
    "we ranked the girls in our grade by looks and posted it",
])
def test_pipeline_labels_round_nine_bullying(clf, text):
    assert "bullying" in clf.classify([PostInput(text=text, kind="post")])[0].labels


@pytest.mark.parametrize("text", [
    "they called me a f*g in the hallway what do i do",
    "i saw them call him a f*g and shove him. who do i tell",
])
def test_pipeline_victim_quoting_a_slur_is_not_bullying(clf, text):
    result = clf.classify([PostInput(text=text, kind="post")])[0]
    assert "bullying" not in result.labels and "threat" not in result.labels
