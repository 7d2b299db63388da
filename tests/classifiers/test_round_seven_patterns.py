"""Round seven intent patterns (classifiers/patterns.py, round seven's rules): food and drink tampering,
beating "until", dated harm to a second person, revenge payback, dated plans, passive death
wishes, goodbye letters, coordinated exclusion, rumours, mock praise and humiliating shares; and
that each respects negation, quotation, hyperbole, friendly talk and a victim's request for help."""
from __future__ import annotations

import pytest

from classifiers.patterns import VICTIM_REPEATS
from classifiers.types import PostInput
from tests.classifiers.rule_tables import RuleTable

NEW_RULES = {"tamper_food": "threat", "beat_until": "threat", "wont_make_it_to": "threat",
             "they_will_pay": "threat", "dated_plan": "self_harm",
             "passive_death_wish": "self_harm", "goodbye_letters": "self_harm",
             "coordinated_exclusion": "bullying", "spread_rumor": "bullying", "mock_praise": "bullying",
             "humiliating_share": "bullying", "survival_warning": "threat", "head_banging": "self_harm",
             "sharp_in_skin": "self_harm", "into_the_water": "self_harm", "not_invited": "bullying"}


# (text, rule): each stated plainly, in the poster's own voice
POSITIVES = [
    # threat: food and drink tampering
    ("im gonna put rat poison in his lunch tomorrow", "tamper_food"),
    ("i'm putting bleach in her water bottle at practice", "tamper_food"),
    ("gonna slip some laxatives into ur gatorade before the meet", "tamper_food"),
    ("i have my dads pills and im crushing them in her smoothie", "tamper_food"),
    ("we're gonna spike that kid's drink at the dance", "tamper_food"),
    # threat: beating someone past a stated harm
    ("me and my cousins gonna beat him til he stops moving", "beat_until"),
    ("she's getting stomped till she can't walk", "beat_until"),
    ("imma punch him until he ends up in the hospital", "beat_until"),
    # threat: harm at a dated event, second or third person
    ("ur not making it to graduation", "wont_make_it_to"),
    ("that kid won't make it to prom, watch", "wont_make_it_to"),
    # threat: the vent that ends in payback
    ("three years of this. friday is the day they all pay for it", "they_will_pay"),
    ("everyone who laughed at me is gonna pay", "they_will_pay"),
    ("the ones who did this should enjoy this week", "they_will_pay"),
    # threat: extortion onto the poster's own story (widened extortion rule)
    ("$200 or they go on my story", "extortion"),
    ("venmo me 50 by tonight or the pics go on my page", "extortion"),
    # threat: who will be spared
    ("monday is the day. sit in the back if u wanna live", "survival_warning"),
    ("when it happens yall will know why", "survival_warning"),
    # threat: widened old rules (someone as a target; "better not ... or"; "say that again" is a dare)
    ("i'm going to hurt somebody tomorrow", "i_will_verb_you"),
    ("he better not come to practice or im putting him in the hospital", "make_them_pay"),
    ("say that again and ill break ur jaw", "break_body"),
    # self_harm: a date set
    ("i wont be here for my birthday anyway", "dated_plan"),
    ("i'll probably be dead by summer and im ok with that", "dated_plan"),
    ("i dont think ill be around for christmas", "dated_plan"),
    # self_harm: passive death wish
    ("i wish the bus had hit me this morning", "passive_death_wish"),
    ("honestly wouldnt mind if a truck took me out on the way home", "passive_death_wish"),
    ("i just want to stop existing", "passive_death_wish"),
    # self_harm: self-injury, water
    ("i bang my head against the wall until it stops", "head_banging"),
    ("stuck pins in my thigh all through math", "sharp_in_skin"),
    ("been jabbing myself with a safety pin in class", "sharp_in_skin"),
    ("gonna walk into the lake tonight", "into_the_water"),
    # self_harm: goodbye letters
    ("wrote letters for my mom and my sister, theyre in my drawer", "goodbye_letters"),
    ("left a note for each of them under my pillow", "goodbye_letters"),
    # self_harm: "can't stop" is no negation (ideation, unchanged rule)
    ("cant stop thinking about ending it", "ideation"),
    ("i cant stop thinking about dying lately", "ideation"),
    # bullying: coordinated exclusion
    ("no one sits with maya tmrw", "coordinated_exclusion"),
    ("dont invite jordan lol", "coordinated_exclusion"),
    ("if u talk to her ur out too", "coordinated_exclusion"),
    ("whoever hangs out with tyler is getting cut off", "coordinated_exclusion"),
    ("lets all leave when she sits down at lunch", "coordinated_exclusion"),
    ("kick him out of the gc", "coordinated_exclusion"),
    ("we made a group chat without her", "coordinated_exclusion"),
    # bullying: not invited
    ("ur not invited dont even ask", "not_invited"),
    ("u really thought u were invited? lmao", "not_invited"),
    # bullying: rumours
    ("lets tell everyone she stuffs her bra", "spread_rumor"),
    ("did u hear kayla has lice", "spread_rumor"),
    ("imma start a rumor that marcus wet his pants", "spread_rumor"),
    ("i didnt start it but im definitely spreading it", "spread_rumor"),
    # bullying: mock praise
    ("love ur shoes... said no one ever", "mock_praise"),
    ("so brave of u to wear that to school", "mock_praise"),
    ("cute haircut! for a 5 year old", "mock_praise"),
    ("you'd be so pretty if you lost some weight", "mock_praise"),
    # bullying: humiliating shares, fake accounts
    ("sent her texts to the whole team lmao", "humiliating_share"),
    ("posting his diary on my story, enjoy 😂", "humiliating_share"),
    ("the video of ella crying is on my story", "humiliating_share"),
    ("who wants the vid of jake tripping", "humiliating_share"),
    ("made a fake account pretending to be liam", "humiliating_share"),
]



# look-alikes: (text, rule that must not fire plainly)
NEGATIVES = [
    # negated
    ("i would never put anything in her drink", "tamper_food"),
    ("im not gonna beat him til he cant walk, im not like that", "beat_until"),
    ("i would never spread a rumor that she cheated", "spread_rumor"),
    ("i'm not saying they'll pay for it, just that it sucks", "they_will_pay"),
    # quoted or reported
    ('he said "ur not making it to graduation" and i laughed', "wont_make_it_to"),
    ('she keeps saying "im gonna put bleach in his water" as a joke', "tamper_food"),
    # victim's own: "my" drink, "me", "my" pics
    ("someone put something in my drink at the party", "tamper_food"),
    ("nobody sits with me at lunch anymore", "coordinated_exclusion"),
    ("someone made a fake account of me", "humiliating_share"),
    ("someone made a fake account pretending to be a boy and asked me out", "humiliating_share"),
    ("someone sent my texts to the whole team", "humiliating_share"),
    ("someone is spreading a rumor that im pregnant", "spread_rumor"),
    # hyperbole and ordinary talk
    ("my mom set a 9pm curfew for prom, i'll be dead by 9:01", "dated_plan"),
    ("dont sit by the windows tomorrow, the heater is broken", "coordinated_exclusion"),
    ("nobody sit in aaliyah seat at lunch tomorrow, we decorating it for her", "coordinated_exclusion"),
    ("team dinner after the game, parents said they'll pay", "they_will_pay"),
    ("he's not gonna make it to graduation with those grades", "wont_make_it_to"),
    ("put ice in his water bottle before the game, its hot out", "tamper_food"),
    ("i put a note in her lunchbox for her birthday", "tamper_food"),
    ("spread the word: bake sale friday!", "spread_rumor"),
    ("wrote a thank you letter to my grandma", "goodbye_letters"),
    ("i wish the bus would come already", "passive_death_wish"),
    ("ive been hitting my head against the wall over this essay lol", "head_banging"),
    ("this traffic makes me want to drive into the lake", "into_the_water"),
    ("if the bus is late again im walking into the ocean", "into_the_water"),
    ("we walked into the lake to cool off after practice", "into_the_water"),
    ("i lost my compass, anyone got a spare", "sharp_in_skin"),
    ("lexi said i'm not invited to her party", "not_invited"),
    ('my mom always says "stay home if u want to live" about her chili', "survival_warning"),
    ("i don't want to hurt anyone or kill myself", "i_will_verb_you"),
    # friendly
    ("nia so brave for wearing the all-green fit to prom and she ATE", "mock_praise"),
    ("dont invite me to anything before noon lol", "coordinated_exclusion"),
    ("sending the team photo to the whole team so everyone has it", "humiliating_share"),
    ("birthday party for a 5 year old, my little cousin, it was chaos", "mock_praise"),
]

# the shared checks (found plainly, not by its twins, keys, batch) run in test_rule_tables.py
TABLE = RuleTable('round seven', NEW_RULES, POSITIVES, NEGATIVES, min_positives=1, min_negatives=0, check_triggers=False)






def test_second_person_lines_a_victim_repeats_do_not_keep_the_threat_label():
    assert {"wont_make_it_to", "survival_warning"} <= VICTIM_REPEATS
    assert "tamper_food" not in VICTIM_REPEATS and "beat_until" not in VICTIM_REPEATS


# --- through the whole pipeline ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def clf(models):
    from classifiers.pipeline import Classifier
    return Classifier(models)


@pytest.mark.parametrize("text,category", [
    ("if she keeps talking about me im putting bleach in her water bottle", "threat"),
    ("me and the boys gonna beat him til he cant walk after the game", "threat"),
    ("ur not making it to graduation. remember that", "threat"),
    ("venmo me $80 or they go on my story", "threat"),
    ("i wont be here for my birthday so dont bother planning anything", "self_harm"),
    ("wrote letters for my mom and my little sister. love yall", "self_harm"),
    ("cant stop thinking about ending it", "self_harm"),
    ("no one sits with brianna tmrw. if u do ur out too", "bullying"),
    ("lets tell everyone she stuffs her bra", "bullying"),
])
def test_pipeline_labels_round_seven_posts(clf, text, category):
    assert category in clf.classify([PostInput(text)])[0].labels


@pytest.mark.parametrize("text", [
    # a victim or witness asking what to do, quoting or retelling what was said or done
    "a kid told me ur not making it to graduation. should i tell the principal?",
    "this girl keeps saying i wont make it to summer if i show up. what do i do",
    "my friends made a group chat without me and now nobody sits with me. how do i deal with this",
    "someone sent my texts to the whole team and everyone is laughing. who do i talk to",
    "people keep spreading a rumor that i cheated. how do i make it stop",
    "a girl commented 'so brave of u to wear that' on my pic. is that bullying? what should i do",
])
def test_help_seeking_victim_is_not_labelled_bullying_or_threat(clf, text):
    c = clf.classify([PostInput(text)])[0]
    assert c.help_seeking, text
    assert not {"bullying", "threat"} & set(c.labels), (c.labels, c.scores)
