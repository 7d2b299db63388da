import pytest

from classifiers.normalize import normalize_text
from classifiers.patterns import NEGATED_DAMP, PLAIN_SCORE, QUOTED_SCORE, pattern_scores


def scores(text):
    return {cat: (s, damp) for cat, (s, damp, _) in pattern_scores(normalize_text(text)).items()}


PLAIN = [
    ("I will shoot up the school", "threat"),
    ("im gonna stab him tomorrow", "threat"),
    ("i'm going to kill you", "threat"),
    ("I'm bringing a gun to school monday", "threat"),
    ("im gonna jump him after school", "threat"),
    ("you're dead after school", "threat"),
    ("I'm going to kill myself", "self_harm"),
    ("i want to die", "self_harm"),
    ("i cut myself again", "self_harm"),
    ("I dont want to live anymore", "self_harm"),
    ("im suicidal", "self_harm"),
    ("kms", "self_harm"),
    # obfuscated: patterns run on normalized text
    ("i w1ll k i l l u", "threat"),
    ("I'm g0nna k1ll mys3lf", "self_harm"),
    ("Ι wаnt tо diе", "self_harm"),                   # Greek/Cyrillic look-alikes
    ("i want to dieeeee", "self_harm"),
]


@pytest.mark.parametrize("text,category", PLAIN)
def test_plain_first_person_statements_score_high(text, category):
    assert scores(text)[category] == (PLAIN_SCORE, 1.0)


@pytest.mark.parametrize("text,category", [
    ("I would never kill myself", "self_harm"),
    ("i dont want to die", "self_harm"),
    ("I will never hurt you", "threat"),
    ("im not going to kill myself, relax", "self_harm"),
])
def test_negated_statements_give_no_pattern_score_and_damp_the_model(text, category):
    assert scores(text)[category] == (0.0, NEGATED_DAMP)


@pytest.mark.parametrize("text,category", [
    ("he said 'I will kill you'", "threat"),
    ('my brother texted "im gonna kill you" lol', "threat"),
    ("she told me i want to die is her favorite song", "self_harm"),
])
def test_quoted_or_reported_statements_score_lower(text, category):
    s, damp = scores(text)[category]
    assert s == QUOTED_SCORE and damp == NEGATED_DAMP


@pytest.mark.parametrize("text", [
    "I will destroy you in chess",
    "i will beat you at fortnite",
    "this test is killing me",
    "I am going to kill it at the game tonight",
    "he wants to kill himself",            # third person: for the model, not a first-person rule
    "have a nice day",
    "",
])
def test_no_intent(text):
    assert all(s == 0.0 and damp == 1.0 for s, damp in scores(text).values())


@pytest.mark.parametrize("text,expected", [
    ("kys", (PLAIN_SCORE, 1.0)),
    ("go kill yourself", (PLAIN_SCORE, 1.0)),
    ("nobody would miss you", (PLAIN_SCORE, 1.0)),
    ("i hope you die", (PLAIN_SCORE, 1.0)),
    ("please dont kill yourself", (0.0, NEGATED_DAMP)),
    ("i would never say kys", (0.0, NEGATED_DAMP)),
])
def test_harm_yourself_directives_are_bullying(text, expected):
    assert scores(text)["bullying"] == expected


@pytest.mark.parametrize("text", ["I have a gun and I know where you live", "im coming for you", "youre next",
                                  "you will pay for this"])
def test_veiled_threats(text):
    assert scores(text)["threat"] == (PLAIN_SCORE, 1.0)


@pytest.mark.parametrize("text", ["nobody likes you", "everyone hates you", "you have no friends",
                                  "no one would care if you disappeared", "why are you even alive",
                                  "sit somewhere else, nobody wants you here", "you are a waste of space",
                                  "everyone thinks ur a loser"])
def test_exclusion_is_bullying(text):
    assert scores(text)["bullying"] == (PLAIN_SCORE, 1.0)


@pytest.mark.parametrize("text", ["everyone likes you!", "nobody likes mondays", "not everyone hates you, cheer up",
                                  "she said nobody likes you and im so sad"])
def test_exclusion_near_misses(text):
    assert scores(text)["bullying"][0] < PLAIN_SCORE


def _all_rule_texts():
    texts = [t for t, _ in PLAIN] + ["I have a gun and I know where you live", "im coming for you", "youre next",
                                     "you will pay for this", "nobody likes you", "why are you even alive",
                                     "you are a waste of space", "go kill yourself", "kys", "i hope you die",
                                     "I would never kill myself", "he said i will kill you", "i will bring a knife to class",
                                     "everyone is gonna die", "i tried to overdose", "goodbye everyone",
                                     "why dont you hang yourselves", "i keep hurting my arms"]
    return texts


@pytest.mark.parametrize("text", _all_rule_texts())
def test_rule_keywords_are_necessary(text):
    # RULE_KEYS lets a rule's regex be skipped; it must never skip a rule that would match
    from classifiers.patterns import _ALL_RULES, _DOUBLE_RE
    squeezed = _DOUBLE_RE.sub(r"\1", normalize_text(text))
    matched = 0
    for _, rule, pattern, keys in _ALL_RULES:
        if pattern.search(squeezed):
            matched += 1
            assert all(any(k in squeezed for k in group) for group in keys), rule
    assert matched, text


# --- round five: extortion, leakage, goodbye posts -------------------------------------------------

@pytest.mark.parametrize("text,category", [
    ("send 200 on cashapp by tonight or ur snaps go to ur whole group chat", "threat"),
    ("venmo me 300 or the video of u from the party goes on every story i got", "threat"),
    ("150 by friday or ur mom gets them, dont test me", "threat"),
    ("3 more pics or ur mom gets the first ones", "threat"),
    ("ur nudes go public at midnight unless u pay", "threat"),
    ("im gonna leak ur pics if u dont answer", "threat"),
    ("remember i said this when u see our school on tv", "threat"),
    ("just remember i told all of u before it happened", "threat"),
    ("watch the news tomorrow", "threat"),
    ("everybody who laughed at me better pray. im making the news this year", "threat"),
    ("yall gonna be the story on the 6 oclock news", "threat"),
    ("by the time you read this i'll be gone", "self_harm"),
    ("deleted every app. this is the last post, thank u for the good parts", "self_harm"),
    ("gave my brother my truck keys. wont need it where im going", "self_harm"),
    ("im sorry for everything. goodbye", "self_harm"),
])
def test_extortion_leakage_and_goodbye_posts_are_plain_statements(text, category):
    assert scores(text)[category] == (PLAIN_SCORE, 1.0)


@pytest.mark.parametrize("text,category", [
    # a victim's report: quoted, or about the poster's own pictures
    ("someone on insta says send 100 by tonight or the pics go to my contacts. what do i do", "threat"),
    ("he said he'd leak my pics unless i pay", "threat"),
    ("he keeps saying i have to send more or my mom sees them", "threat"),
    ("i would never leak ur pics", "threat"),
    # ordinary posts with the same words
    ("send me the notes or im failing", "threat"),
    ("give me back my charger or im telling mom", "threat"),
    ("just remember i told all of u the quiz was friday", "threat"),
    ("our robotics team was on the news last night!!", "threat"),
    ("this is my last post of 2026 see yall next year", "self_harm"),
    ("this is goodbye to my braces 😁", "self_harm"),
    ("by the time you read this ill be asleep lol", "self_harm"),
    ("thank you for everything coach, bye seniors!! love you all", "self_harm"),
])
def test_extortion_leakage_and_goodbye_near_misses_are_not_plain(text, category):
    assert scores(text)[category][0] < PLAIN_SCORE


@pytest.mark.parametrize("text", [
    "send 200 on cashapp by tonight or ur snaps go to ur whole group chat", "150 by friday or ur mom gets them",
    "ur nudes go public at midnight unless u pay", "im gonna leak ur pics", "remember i said this when u see our school on tv",
    "watch the news tomorrow", "im making the news", "by the time you read this i'll be gone",
    "this is the last post", "wont need it where im going", "im sorry for everything. goodbye"])
def test_round_five_rule_keywords_are_necessary(text):
    test_rule_keywords_are_necessary(text)


@pytest.mark.parametrize("text", [
    "some account screenrecorded my snap and wants $40 on venmo by 9 or they post it. do i pay",
    "watch the news tonight, our robotics team is on channel 5!!",
])
def test_reports_and_news_of_ones_own_are_not_extortion_or_leakage(text):
    assert scores(text)["threat"][0] < PLAIN_SCORE
