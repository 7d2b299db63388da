"""The batch forms of the rule-based stages give exactly what the single-post forms give.

`find_intent_batch`, `is_help_seeking_batch`, `find_pii_batch` and `find_impersonation_batch`
evaluate their cheap gates once over a whole batch (the posts joined by NUL) and look at the
posts that pass one by one. These tests compare them with the per-post functions on a
synthetic corpus built to reach every rule and every PII kind, their near misses, empty and very
long texts, NULs and other separator-like characters inside posts, and Unicode whose lower case
changes length ("İ") or that case-insensitive regexes fold ("ſ", the Kelvin sign).
All text here is synthetic.
"""
from __future__ import annotations

import random
import re

import pytest

from classifiers.district import District
from classifiers.helpseeking import _RULES as HELP_RULES
from classifiers.helpseeking import _TRIGGER as HELP_TRIGGER
from classifiers.helpseeking import is_help_seeking, is_help_seeking_batch
from classifiers.impersonation import ImpersonationDetector, find_impersonation, find_impersonation_batch
from classifiers.normalize import normalize_text
from classifiers.patterns import (_ALL_RULES, _BI, _DOUBLE_RE, _I_FORMS, _TRIGGER, _TRIGGER_RAW, _WILL_FORMS, RULE_KEYS,
                                  find_intent, find_intent_batch)
from classifiers.textscan import word_start
from classifiers.pii import PiiDetector, find_pii, find_pii_batch
from classifiers.types import Attachment, PostInput
from tests.classifiers import test_helpseeking, test_impersonation, test_patterns, test_pii, test_rule_tables
from tests.classifiers.test_pii import big_roster, fixture_roster

# ------------------------------------------------------------------------------ the corpus
# One or more phrases per rule, PII kind and impersonation cue, and a near miss next to each.
FRAGMENTS = [
    # intent rules (threat, self-harm, bullying) and their negated / quoted / game forms
    "i will kill you", "im gonna stab him tomorrow", "i'll shoot up the school", "I will destroy you at chess",
    "i'm bringing a gun to school", "i would never kill myself", "he said \"i will kill you\"", "you're dead after school",
    "watch your back", "i know where you live", "im coming for you", "im coming for you guys", "you're next",
    "you will pay for this", "you wont survive until friday", "gonna fucking punch you", "i wanna die",
    "i want to just disappear forever", "i cut myself again", "i've been cutting my wrists", "im so suicidal",
    "i tried to overdose", "writing my suicide note", "i don't want to live anymore", "no reason to keep going",
    "i cant do this anymore", "goodbye world", "kill myself", "kys", "go kill yourself", "hope you die",
    "drink bleach", "slit your wrists", "nobody would miss you", "the world is better without you",
    "everyone would be happier if you died", "nobody likes you", "no1 cares about u", "everyone hates you",
    "the whole class thinks you're a loser", "you have no friends", "you dont belong here", "why are you even alive",
    "why do you exist", "you're a waste of space", "but then i will hurt him", "i will beat the crap out of her",
    "kiiiill", "i wiiill kiiiill yooou", "diiiie", "i w1ll k i l l u", "Ι wаnt tо diе", "i'm gonna end it all",
    "stop, i will never hurt anyone", "the song goes i want to die", "ima jump him after school",
    "i will run over ur face", "i am going to blow up the gym", "i have a knife in my bag",
    # round two: school threats, self-injury, eating disorder, implicit ideation, insults, and near misses
    "bringing my dads glock to the pep rally", "i'm bringing cookies to school tomorrow", "a knife in my backpack",
    "dont come to school friday", "i'm staying home tomorrow", "stay home tomorrow if you're sick",
    "hes getting jumped after school", "i'm getting jumped, help", "we're jumping that kid after 6th period",
    "i'm gonna break his legs", "break a leg tonight", "im gonna make them all pay", "you'll get what's coming",
    "burn this school down", "pipe bomb in the 200 hall", "i want every single one of them to bleed",
    "this is your last warning", "dont say i didnt warn you", "i burned my arms again", "hiding my cuts from mom",
    "i bought new blades", "i havent eaten in 3 days", "purged after dinner", "under 500 calories today",
    "chewing and spitting again", "im so tired of being alive", "im ending it tonight", "im ending it for all of them",
    "everyone would be better off without me", "i took a bunch of pills", "im going to overdose",
    "my arms are covered in scars", "you're so ugly", "ur such an idiot i love u", "you're the worst at chess",
    "no one at this school likes you", "nobody will come to your party", "im not joking im gonna hurt him",
    "this test is killing me", "my mom is gonna kill me lol", "i could kill for a nap", "if she says one more word im gonna break her face",
    # round five: extortion, leakage, goodbye posts, standing by a target
    "send 200 on cashapp by tonight or ur pics go to everyone", "150 by friday or ur mom gets them",
    "im gonna leak ur nudes", "ur nudes go public at midnight unless u pay", "remember i said this when u see our school on tv",
    "watch the news tomorrow", "im making the news", "by the time you read this i'll be gone", "this is the last post",
    "wont need it where im going", "im sorry for everything. goodbye", "ur not ugly dont listen to them", "leave him alone",
    # round seven (pat7): one post per new rule
    "im gonna put rat poison in his lunch", "gonna beat him til he stops moving", "ur not making it to graduation",
    "friday is the day they all pay for it", "i wont be here for my birthday",
    "i wish the bus had hit me", "wrote letters for my mom and my sister", "no one sits with maya tmrw",
    "lets tell everyone she stuffs her bra", "love ur shoes said no one ever", "sent her texts to the whole team lmao",
    "sit in the back if u wanna live", "i bang my head against the wall until it stops", "stuck pins in my thigh",
    "gonna walk into the lake tonight", "ur not invited dont even ask",
    # round eight (pat8): one post per new rule
    "whoever reported my tiktok is getting jumped monday", "next person who touches me is getting stabbed",
    "imma kill marcus deadass, dont tell nobody", "dont be in the cafeteria friday. thats all im saying",
    "its hidden in my locker for tomorrow 🔪", "i found where my dad keeps the ammo",
    "u got til 9 to send more or they go up on the fake acct",
    "saved all your snaps. u break up with me and everyone sees them",
    "my dads glock is in the glovebox. if he says one more thing im done talking",
    "te voy a matar manana a la salida", "vou te matar amanha na saida", "m ap touye w demen",
    "mi a go kill yuh after school", "i go kill you after school", "i dont wanna die i just dont wanna exist",
    "gave my brother all my hoodies. won't be needing them much longer", "ion wanna be alive for my 16th bday",
    "kms for real this time", "had 3 grapes today. trying for nothing tomorrow", "my last sunset. see u in another life",
    "had to wear a hoodie so no one sees my arms", "me quiero morir", "quero morrer", "m vle mouri",
    "mi waan dead", "i just wan die", "my friend took like 20 of her moms pills",
    "she said she's gonna end it and now her location is off", "i won't be in class tomorrow. or ever",
    # round eight, second pass (pat8b): one post per new rule
    "ur dead friday. bring ur cousins", "imma catch him after the dance and put him in the hospital",
    "the next kid who touches my bike gets his legs broken", "got something that goes bang for the pep rally friday",
    "i have a key to the gym and two gas cans in my trunk", "tell marcus to keep looking over his shoulder",
    "keep talking and see what happens to your teeth", "slipped laxatives into jakes gatorade",
    "we'll be outside after school and we're not coming to talk", "yall better wear your bulletproof vests to the game",
    "im bringing something in my backpack tmrw 🔫", "that kid is getting unalived if he touches my sister again",
    "if u actually like me, stay home thursday", "counting down to my birthday so i can finally end it",
    "if i fail this test im gonna take the whole bottle", "stepping closer to the tracks each morning before the train",
    "left notes for my parents in my desk. if you find them, i'm sorry",
    "giving away my jerseys to the jv kids. thanks for everything guys", "me corté otra vez",
    "im gonna make it all stop for good", "won't be at school tomorrow or anywhere after that",
    "i dont want to die, i just want to stop waking up", "he texted goodbye everybody in the gc and his phone is off",
    "my friend said she has a plan and it's tonight", "my big sister keeps saying she wants to die",
    "jess had an std last year fr. spread the word", "guys stop sharing the video of eli. its not funny", "ignore them, ur beautiful", "como bloquear a alguien en insta",
    # help-seeking
    "how do i talk to a counselor", "who do i tell", "what should i do, my friend wants to hurt herself",
    "i need help", "someone please help me", "is there a hotline", "i talked to my school counselor",
    "call 988", "text HOME to 741741", "1-800-273-8255", "crisis text line", "you can always talk to me",
    "i'm here for you", "please tell an adult", "are you safe?", "my friend said she wants to kill herself, what do i do",
    "call me maybe", "text me later", "tell him i said hi", "report card day", "safe travels", "support the team",
    # PII
    "call me at 978-555-0123 tonight", "my cell is (617) 555 0199", "+44 20 7946 0958", "text me 555-0123",
    "nine seven eight five five five zero one four two", "9 7 8 5 5 5 0 1 4 2", "978 five five five 0 1 4 2",
    "one two three four five six seven eight nine zero", "scores: 10 20 30 40 50 60", "order #6175550123",
    "email me at jay.o+games@gmail.com", "jayo at gmail dot com", "jay [at] yahoo [dot] com", "@USER @USER lol",
    "ping @user.name", "a@b", "x@y.co", "I live at 42 Maple Street, Danvers, MA 01923", "come over to 17 Birch Ln",
    "i live at 12 oak st lol", "party at 5 Hawthorne Way!!", "my address is 221 N. Main St. Apt 4",
    "we live on Chestnut Avenue now", "i live on maple street", "lives at 12 Main Street apt 3, Danvers MA 01923",
    "mail it to Peabody, MA 01960", "Concord, New Hampshire 03301", "I ate 3 hot dogs on the street",
    "my pc has 2 hard drive bays", "my house is\ton Elm Street", "my bday is March 4th!!",
    "my birthday is 3/14/2012", "born on 14 June 2011", "DOB: 2011-03-14", "born in 2011", "born in '11",
    "turning 14 on 5/6", "march 4th was a great game", "version 10.4.2", "I go to Essex Tech btw",
    "im a junior at north shore tech", "great game at Essex Tech", "Hawthorne Brook Middle class of 2030",
    "ENSATSD", "ensatsd", "Jayden Ortiz cried in gym lol", "julia ortiz's new haircut", "Mike Chen is so weird",
    "José Núñez is moving away", "Jose Nunez", "Will May got detention", "i will may be late", "Ms. Rivera's class",
    "Mrs Rivera gave us homework", "Maria Rivera teaches chem",
    # impersonation cues
    "this is Ms. Rivera", "hi its principal Smith here", "it's Jayden, new account", "my old account got hacked",
    "I'm Jayden Ortiz", "Julia Ortiz here", "- Mrs. Rivera", "im mr oneil", "follow me here", "changed my username",
    "This is the official Essex Tech account", "posting on behalf of Essex Tech athletics", "Go Essex Tech football!",
    "account of the ENSATSD principal", "Essex Tech memes, not an official account", "the official score was 3-1",
]
# Characters that a batch might use as a separator or that end lines or words, inside posts.
ODD = ["\0", "\0\0", "\n", "\r\n", "\t", "\x0b", "\x1c", "\u2028", "\u00a0", '"', "“", "”", "'", " ", "", ".", "!",
       "İ", "ſ", "\u212a", "ß", "Σ", "🔪", "💀", "é", "\ufeff", "@", "#", "$", "-", "/", ",", "0", "7"]


def _existing_tables() -> list[str]:
    """The texts of the single-post tests' own tables (their cases must also agree)."""
    out = [t for t, _ in test_patterns.PLAIN]
    out += [t for t, _, _ in test_pii.POSITIVES] + list(test_pii.NEAR_MISSES)
    out += list(test_helpseeking.HELP) + list(test_helpseeking.NOT_HELP)
    out += [c[0] for c in test_impersonation.CLAIMS] + [c[0] for c in test_impersonation.CLAIM_NEAR_MISSES]
    out += [a for a, _ in test_impersonation.DISTRICT_ACCOUNTS]
    # every round's rule table (round seven on): a new round's rules reach this corpus with it
    out += [t for table in test_rule_tables.TABLES for t, _ in table.positives + table.negatives]
    return [t for t in out if isinstance(t, str)]


def corpus(n: int = 500, seed: int = 20261128) -> list[str]:
    """Fragments, the existing tables, and random mixes of them with odd characters, changed
    case and doubled letters; plus empty, NUL-only and very long texts."""
    rng = random.Random(seed)
    base = FRAGMENTS + _existing_tables()
    out = list(base) + ["", "\0", " ", "\0kill myself\0", "i will kill you\0", "\0call 988", "978\0-555-0123",
                        "help" * 2000, ("i will kill you and call 978-555-0123 " * 150), "İ" * 50 + " i want to die",
                        "ſtreet 12 Main ſt", "12 Main \u212aing Street", "Kelvin \u212a at gmail dot com",
                        # what the PII gates must let through: odd spaces, capitals, case folding
                        "Danvers, MA\t01923", "Danvers,\nMA\n01923", "Concord, New Hampshire\u00a003301",
                        "jay\tat gmail dot com", "JAY AT GMAIL DOT COM", "jay\u00a0at\u00a0gmail.com",
                        "jay(at)gmail(dot)com", "HOME IS on Elm Street", "staying at Oak Lane", "LİVE on Maple Street",
                        "i liVe on Oak Street", "my house is on Elm Street", "I LIVE AT 12 OAK ST",
                        "mail: JAY.O@GMAIL.COM", "jay@gmail.c0m", "j@x.io",
                        "I LIVE ON Maple Street 🔪", "My HOUSE IS on Elm Street é", "ſtaying at Oak Lane",
                        "jay at GMAIL.COM", "jay at ſchool.edu dot com", "jay\u2003at\u2003msn\u2003dot\u2003us",
                        "jay [AT] outlook [DOT] net", "jay {at} proton . me", "jay at",
                        # re.I reads İ as i and ſ as s: the street-only gate must too (with a digit or
                        # a street word, so that the address step runs at all)
                        "LİVE on Maple Street 12", "ſtaying at Oak Lane, 5 of us", "we LİVE ON Maple Street, live free",
                        "Hou\u017fe is on Elm Street 4"]
    for _ in range(n):
        parts = [rng.choice(base) for _ in range(rng.randint(1, 4))]
        text = rng.choice(ODD).join(parts)
        r = rng.random()
        if r < 0.15:
            text = text.upper()
        elif r < 0.3:
            text = re.sub(r"[a-z]", lambda m: m.group() * rng.randint(1, 4), text, count=rng.randint(1, 6))
        elif r < 0.4:
            text = text.replace(" ", rng.choice(ODD))
        out.append(text)
    return out


CORPUS = corpus()
NORMALIZED = [normalize_text(t) for t in CORPUS]
BATCH_SIZES = (1, 2, 7, 64, len(CORPUS))


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def test_corpus_reaches_every_rule_and_pii_kind():
    """The comparison below is only worth something if the corpus fires what it should."""
    rules = {h.rule for t in NORMALIZED + CORPUS for h in find_intent(t)}
    assert rules == set(RULE_KEYS), set(RULE_KEYS) - rules
    assert sum(is_help_seeking(t, normalized=n) for t, n in zip(CORPUS, NORMALIZED)) > 30
    kinds = {e.kind for t in CORPUS for e in find_pii(t, roster=fixture_roster(), author="s-michael")}
    assert kinds >= {"phone", "email", "address", "dob", "school", "student_name", "own_name"}, kinds
    imp = {e.kind for t in CORPUS for e in find_impersonation(PostInput(t, author="s-michael", kind="post"),
                                                                roster=fixture_roster())}
    assert imp >= {"claim", "district"}, imp


# ------------------------------------------------------------------------------ patterns
@pytest.mark.parametrize("size", BATCH_SIZES)
@pytest.mark.parametrize("source", ["normalized", "raw"])
def test_find_intent_batch_equals_single(size, source):
    texts = NORMALIZED if source == "normalized" else CORPUS
    for chunk in chunks(texts, size):
        assert find_intent_batch(chunk) == [find_intent(t) for t in chunk]


def test_find_intent_batch_accepts_any_sequence_and_empty():
    assert find_intent_batch([]) == []
    assert find_intent_batch(("i will kill you", "")) == [find_intent("i will kill you"), []]


def test_raw_trigger_is_the_squeezed_trigger():
    """_TRIGGER_RAW in NUL + the unsqueezed text finds exactly the posts _TRIGGER finds once
    squeezed."""
    for text in NORMALIZED + CORPUS + ["kill", "kiiill", "skill", "_kill", "1kill", "x\0kill", "ar15", "nar15"]:
        squeezed = _DOUBLE_RE.sub(r"\1", text)
        assert bool(_TRIGGER_RAW.search("\0" + text)) == bool(_TRIGGER.search(squeezed)), text


@pytest.mark.parametrize("forms", [_I_FORMS, _WILL_FORMS, ("a", "ab", "b", "abc", "ba", "a b")])
def test_word_start_matches_like_a_word_boundary(forms):
    """`word_start(forms)` is `\\b(?:forms)` starting with a letter: every form matches at the
    same places with the same length, and the whole alternation too."""
    samples = NORMALIZED[:300] + CORPUS[:100] + ["i", "xi", "_i", "1i", "i'm", " i am", "ii", "\ni will", "ﬁi", "éi",
                                                 "i\ni", "gonna going to", "xwill", "ab abc ba a b", "\0ab"]
    for f in forms:
        b, w = re.compile(r"\b" + re.escape(f)), re.compile(word_start([f]))
        for text in samples:
            for pos in range(len(text) + 1):
                mb, mw = b.match(text, pos), w.match(text, pos)
                assert (mb and mb.span()) == (mw and mw.span()), (text, pos, f)
    whole_b, whole_w = re.compile(r"\b(?:" + "|".join(map(re.escape, forms)) + ")"), re.compile(word_start(forms))
    for text in samples:
        assert [m.span() for m in whole_b.finditer(text)] == [m.span() for m in whole_w.finditer(text)]
    assert _BI == word_start(_I_FORMS)
    with pytest.raises(ValueError):
        word_start(["1a"])


def test_rules_still_compile_from_their_sources():
    assert all(isinstance(p, re.Pattern) for _, _, p, _ in _ALL_RULES)


# ------------------------------------------------------------------------------ help-seeking
@pytest.mark.parametrize("size", BATCH_SIZES)
def test_is_help_seeking_batch_equals_single(size):
    for texts, norms in zip(chunks(CORPUS, size), chunks(NORMALIZED, size)):
        assert is_help_seeking_batch(texts, norms) == [is_help_seeking(t, normalized=n) for t, n in zip(texts, norms)]
    # unnormalized text through the same rules (the rules must not depend on the normalizer)
    for chunk in chunks(CORPUS, size):
        assert is_help_seeking_batch(chunk, chunk) == [is_help_seeking(t, normalized=t) for t in chunk]


def test_help_seeking_batch_forms_match_the_rules():
    from classifiers.helpseeking import _ANY_RULE, _ANY_RULE_AFTER_NON_WORD, _RULES_AFTER_NON_WORD, _TRIGGER_BATCH
    assert _RULES_AFTER_NON_WORD            # the fast form is the one in use
    for text in CORPUS + NORMALIZED + ["call 988", "x call 988", "_call 988", "call 988x", "988", "\0988 lifeline"]:
        rules = any(r.search(text) for r in HELP_RULES)
        assert bool(_TRIGGER_BATCH.search(text)) == bool(HELP_TRIGGER.search(text))
        assert bool(_ANY_RULE.search(text)) == rules
        assert bool(_ANY_RULE_AFTER_NON_WORD.search("\0" + text)) == rules, text


def test_help_seeking_batch_rejects_mismatched_lengths_and_normalizes_missing_texts():
    with pytest.raises(ValueError):
        is_help_seeking_batch(["a", "b"], ["a"])
    assert is_help_seeking_batch([], []) == []
    texts = ["how do I talk to a counselor", "c4ll 988", "you loser"]
    assert is_help_seeking_batch(texts, [None, None, None]) == [is_help_seeking(t) for t in texts] == [True, True, False]


# ------------------------------------------------------------------------------ PII
AUTHORS = [None, "s-michael", "s-jayden", "jortiz27", "nobody-known", "t-rivera"]


def _authors(n: int, seed: int) -> list:
    rng = random.Random(seed)
    return [rng.choice(AUTHORS) for _ in range(n)]


@pytest.mark.parametrize("roster_name", ["none", "fixture", "big"])
@pytest.mark.parametrize("size", (1, 7, 64, len(CORPUS)))
def test_find_pii_batch_equals_single(roster_name, size):
    roster = {"none": None, "fixture": fixture_roster(), "big": big_roster()}[roster_name]
    authors = _authors(len(CORPUS), size)
    for texts, who in zip(chunks(CORPUS, size), chunks(authors, size)):
        assert find_pii_batch(texts, roster=roster, authors=who) == \
            [find_pii(t, roster=roster, author=a) for t, a in zip(texts, who)]


def test_pii_gates_are_necessary_conditions(monkeypatch):
    """The gates added for speed (_EMAIL_GATE, _AT_GATE, the street-only and ZIP gates) only
    skip regexes that cannot match: with every one of them forced open, nothing changes."""
    import classifiers.pii as pii
    roster = fixture_roster()
    gated = [find_pii(t, roster=roster, author="s-michael") for t in CORPUS]
    always = re.compile("")
    for name in ("_EMAIL_GATE", "_AT_GATE", "_ZIP_GATE"):
        monkeypatch.setattr(pii, name, always)
    monkeypatch.setattr(pii, "_STREET_ONLY_KEYS", ("",))
    assert [find_pii(t, roster=roster, author="s-michael") for t in CORPUS] == gated
    assert find_pii_batch(CORPUS, roster=roster, authors=["s-michael"] * len(CORPUS)) == gated


def test_address_regex_digit_first_is_the_look_behind_form():
    """_ADDRESS tests the house number's first digit before its look-behind (so the engine can
    skip from digit to digit); the form with the look-behind first matches the same."""
    import classifiers.pii as pii
    fast = pii._ADDRESS.pattern
    plain = fast.replace(r"(?P<num>\d(?<![\w$#.,/]\d)\d{0,5}", r"(?<![\w$#.,/])(?P<num>\d{1,6}", 1)
    assert plain != fast
    reference = re.compile(plain, pii._ADDRESS.flags)
    samples = CORPUS + ["12 Main St", "x12 Main St", "$12 Main St", "a,12 Main St", "/12 Main St", "1234567 Main St",
                        "١٢ Main Street", "_12 Main St", "12\nMain\nSt", "7-11 Oak Ave, Danvers, MA 01923"]
    for text in samples:
        assert [(m.span(), m.groupdict()) for m in pii._ADDRESS.finditer(text)] == \
            [(m.span(), m.groupdict()) for m in reference.finditer(text)], text


def _non_ascii_re_i_letters() -> dict[int, str]:
    """Every non-ASCII character that re.I matches with an ASCII letter, and that letter."""
    import sys
    any_letter = re.compile("[a-z]", re.I)
    out = {}
    for code in range(128, sys.maxunicode + 1):
        if any_letter.fullmatch(chr(code)):
            out[code] = next(x for x in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(x, chr(code), re.I))
    return out


def test_ascii_folds_and_at_gate_letters():
    """_ASCII_FOLDS (the street-only gate) lists every character re.I matches with an ASCII
    letter; _AT_GATE spells out a/A and t/T where _EMAIL_SPELLED uses re.I, right only because
    none of them is an "a" or a "t" (unlike "k", "s" and "i")."""
    import classifiers.pii as pii
    folds = _non_ascii_re_i_letters()
    assert folds == pii._ASCII_FOLDS
    assert not set(folds.values()) & {"a", "t"}


def test_find_pii_batch_other_district_and_none_texts():
    district = District("Springfield Public Schools", "SPS", ("Springfield High", "North Springfield"))
    det = PiiDetector(fixture_roster(), district)
    texts = CORPUS + ["i go to Springfield High", "SPS rules", "sps", "north springfield class of '29"]
    assert det.find_batch(texts, [None] * len(texts)) == [det.find(t) for t in texts]
    assert det.find_batch([None, "", "call 978-555-0123"], [None] * 3) == \
        [[], [], det.find("call 978-555-0123")]


def test_find_pii_batch_rejects_mismatched_lengths_and_handles_empty():
    with pytest.raises(ValueError):
        find_pii_batch(["a"], authors=[])
    assert find_pii_batch([], authors=[]) == []


# ------------------------------------------------------------------------------ impersonation
def _posts(seed: int) -> list[PostInput]:
    rng = random.Random(seed)
    logo = test_impersonation.LOGO_HASH
    attachments = [(), (Attachment("image/png", 10, "ab" * 32, logo, "a.png"),),
                   (Attachment("image/png", 10, "cd" * 32, "0" * 16, None),),
                   (Attachment("image/jpeg", 10, "ef" * 32, None, None),)]
    accounts = [None, "", "Jayden Ortiz", "jortiz27", "essextech_admin", "Essex Tech memes (unofficial)",
                "JOrtiz", "J.O.", "Official ENSATSD Robotics", "x\0y", "İstanbul"]
    out = []
    for text in CORPUS:
        out.append(PostInput(text, author=rng.choice(AUTHORS), platform="x",
                             kind=rng.choice(["post", "comment", "profile", "signup", None, "PROFILE"]),
                             account=rng.choice(accounts), attachments=rng.choice(attachments)))
    return out


@pytest.mark.parametrize("roster_name", ["none", "fixture", "big"])
@pytest.mark.parametrize("size", (1, 7, 64, len(CORPUS)))
def test_find_impersonation_batch_equals_single(roster_name, size):
    roster = {"none": None, "fixture": fixture_roster(), "big": big_roster()}[roster_name]
    posts = _posts(size)
    for chunk in chunks(posts, size):
        assert find_impersonation_batch(chunk, roster=roster) == [find_impersonation(p, roster=roster) for p in chunk]


def test_account_context_in_lower_case_ascii_is_the_case_insensitive_regex():
    import classifiers.impersonation as imp
    assert not re.search(r"[A-Z]", re.sub(r"\\.", "", imp._ACCOUNT_CONTEXT.pattern))
    samples = CORPUS + ["MY OLD ACCOUNT GOT HACKED", "Follow Me Here", "new\tInsta", "Changed My Username", "back up acct"]
    for text in samples:
        if text.isascii():
            assert imp._account_context(text, text.lower()) == bool(imp._ACCOUNT_CONTEXT.search(text)), text


def test_find_impersonation_batch_with_a_logo_and_another_district():
    district = District("Springfield Public Schools", "SPS", ("Springfield High",),
                        logo_phashes=(test_impersonation.LOGO_HASH,))
    det = ImpersonationDetector(fixture_roster(), district)
    posts = _posts(3) + [PostInput("official page of Springfield High", kind="profile"),
                         PostInput("SPS official account", kind="post")]
    assert det.find_batch(posts) == [det.find(p) for p in posts]
    assert det.find_batch([]) == []
