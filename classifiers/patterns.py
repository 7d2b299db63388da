"""Explicit first-person statements of intent to hurt others (threat) or oneself (self_harm), and
two plain forms of bullying: telling someone to hurt themselves ("kys", "go kill yourself") and
exclusion aimed at the reader ("nobody likes you", "you have no friends").

The public threat and self-harm data transfer poorly to school posts (political Telegram replies,
flattened Reddit posts), so plain statements a mandated reporter must never miss are caught here
by rule: "I'm going to kill myself", "i want to die", "i will shoot up the school", "im gonna stab
him tomorrow". The rules run on normalized text (classifiers.normalize), so `k i l l`, `k1ll` and
Cyrillic look-alikes do not evade them.

A statement is weakened, not dropped, when
- it is negated in the same clause ("I would never kill myself", "I don't want to die"): no
  pattern score, and the model's own score for that category is damped (see NEGATED_DAMP);
- it is quoted or reported ("he said 'I will kill you'", "the song goes ..."): a lower score,
  because a report of a threat may still be worth a counselor's look.
Jokes and song lyrics are not detected (a known limit, written in the model card).

Round five adds what the words state plainly and the models missed on an independent set:
extortion and sextortion (a demand whose price is exposure), leakage (telling of an attack
before it happens: "watch the news tomorrow") and goodbye posts ("by the time you read this").
Extortion and leakage are words a victim's or witness's request for help repeats without quotation
marks, so on a help-seeking post they do not keep the threat label (VICTIM_REPEATS).

Round seven (the rules appended to each category's table, after _FOOD_OR_DRINK) adds what
realistic posts say without the old rules' words: tampering with someone's food or drink, beating
"until", a dated harm, payback after a grievance, who will be spared; dated plans, passive death
wishes, goodbye letters, head-banging, pins in the skin, walking into water; coordinated
exclusion, rumours, "not invited", mock praise and humiliating shares. They act at classify time
only (no model reads them); counts are in the comments at each rule.

Round eight (appended after round seven's, "round eight (pat8)") adds the kinds holdout7's misses
showed: payback on the one who told, "first one who tries me", a named peer with a mark of real
intent, cryptic stay-away warnings, a weapon packed for a day, gun access, extortion deadlines,
exposure ultimatums, an armed ultimatum; "not die, just not exist", giving things away, dated
wishes, "kms" meant this time, restriction goals, last goodbyes, hidden arms, a friend's danger
reported; and threats and death wishes in Spanish, Portuguese, Haitian Creole, Jamaican Patois and
Nigerian Pidgin. Three mechanisms come with them: a mark of real intent some rules need
(_NEEDS_MARK), a grievance over food that makes a statement hyperbole (_PETTY), and reports of a
friend's danger that their report does not weaken (_CONCERN_RULES).

Round eight's second pass ("round eight, second pass (pat8b)", after round eight's rules) adds the
kinds holdout8's misses showed (read after its one scoring): a death foretold for a day, finding
someone and putting them in the hospital, "gets their fingers broken", an explosive with a school
place, a key to a building and gasoline, "keep looking over his shoulder", tampering with the
substance named first, "we're not coming to talk", "wear ur vests", "getting unalived", who is to
be spared; a countdown or a chosen date, "id take the whole bottle", closer to the platform's edge,
letters "if u find them", giving things away with a farewell, Spanish and Portuguese self-injury;
a friend's goodbye and silence, plan for tonight, or wish to die, reported; a sexual or medical
rumour to pass on. Two reading fixes come with them: in a threat, a negation inside an "if" clause
belongs to the condition (_NEGATED_CONDITION), and "i told myself", "if my ex posts" are no reports.

Round nine ("round nine (pat9)", then "round nine, second pass (pat9b)") adds bullying that names no
insult word of the older rules (a slur aimed at a peer, classmates rated or ranked, praise that mocks
a trait), then the kinds holdout9's misses showed (read after its one scoring): "shoot up" a class
named with a word or two, harm turned from oneself to others, a warning to skip a named event,
knowing someone's address or schedule and coming, a sibling named to a reporter, arson with people
inside, following someone to their car, pills crushed into a drink, a fight with an injury promised;
"wanna be dead", "deciding if tonight's the night", an earnest overdose question, a plan and
"nobody's gonna miss", "dont text me tmrw, or ever", skipping meals until fainting; a friend who
barely eats and fainted, or gives things away after saying they'd disappear; "jump off the bridge",
stereotype jabs, calls to pile on, "no wonder u so dumb", polls and low ratings of a peer, "short
bus", offering a video of someone's bad moment. Each round's rule table is tested once by
tests/classifiers/test_rule_tables.py.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from operator import itemgetter
from typing import Sequence

from classifiers.textscan import REST_OF_POST, SEP, join, literal_trie, word_start

_DOUBLE_RE = re.compile(r"([a-z])\1+")


def _c(source: str) -> re.Pattern:
    """Compile a rule for squeezed text: every doubled letter written in the rule becomes one,
    exactly as the text it runs on ("i wil kil you"), so "kiiill" and "diiie" cannot evade it."""
    return re.compile(_DOUBLE_RE.sub(r"\1", source))


def squeeze(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with runs of a repeated letter cut to one, and each kept character's [start, end)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _DOUBLE_RE.finditer(text):
        a, b = m.span()
        out.append(text[pos:a + 1])
        starts.extend(range(pos, a + 1))
        ends.extend(range(pos + 1, a + 1))
        ends.append(b)
        pos = b
    out.append(text[pos:])
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return "".join(out), starts, ends

# Rules whose words a victim's or witness's request for help repeats without quotation marks ("a guy
# wants $40 by 9 or it goes on my page, do i pay"): on a help-seeking post a match of these does
# not keep the threat label as a plain first-person threat does (classifiers.pipeline). "i know
# where you live" too: a harasser's stock line that victims quote, often in single quotes the
# quotation reader leaves alone (apostrophes): "my ex keeps texting 'i know where u live'".
# Round seven: "ur not making it to graduation", "wear red if u wanna be spared" are such lines too.
VICTIM_REPEATS = frozenset({"extortion", "leakage", "i_know_where_you_live", "wont_make_it_to",
                            "survival_warning",
                            # round eight: the extortion a victim asks about
                            "extortion_deadline", "exposure_ultimatum",
                            # round nine (pat9c): "the whole school gonna see ur nudes if u tell" is what a
                            # victim repeats when asking for help
                            "exposure_if_tell"})
PLAIN_SCORE = 0.97        # an explicit first-person statement: over every shipped threshold
QUOTED_SCORE = 0.35       # reported speech: visible in scores, normally under the thresholds
NEGATED_DAMP = 0.5        # the model score is halved when the only intent phrases are negated/quoted

# first person + modality ("i will", "im gonna", "i want to", "i'm about to", "ima", "i'll")
_I_FORMS = ("i", "i'm", "im", "i am", "ima", "imma", "i'll", "ill", "i'd", "i will", "i wil", "i shall", "i have",
            "i've")
_I = "(?:" + "|".join(_I_FORMS) + ")"
_BI = word_start(_I_FORMS)          # `\b{_I}`, faster (see word_start)
_WILL_FORMS = ("gonna", "going to", "will", "i'll", "ill")
_MOD = (r"(?:(?:am |'m |m )?(?:going to|gonna|gunna|finna|about to|bout to|planning to|plan to|"
        r"want to|wanna|need to|have to|gotta|will|wil|'ll|ll|shall|should|would|'d|could|might|"
        r"am|really want to|just want to|want to just|will just|'m just|am just|am gonna|'m gonna|"
        r"m gonna|am going to|'m going to|m going to|'ll just|ll just|can't wait to|cant wait to|"
        r"wish i could|hope i|wish i)\s+)?")
# an optional negation between subject and verb, so "i would never ..." matches and is then
# recognised as negated instead of slipping past every rule
_NEG = (r"(?:(?:don't|dont|do not|never|won't|wont|will never|would never|wouldn't|wouldnt|would not|"
        r"am not|'m not|m not|not|could never|can't|cant)\s+)?")
_ADV = r"(?:(?:just|finally|really|actually|literally|seriously|totally|probably|definitely|so|gonna|go|to)\s+)*"

_VIOLENT_VERB = (r"(?:kill|murder|stab|shoot|shoot up|gun down|blow up|strangle|choke|hang|"
                 r"beat up|beat the shit out of|beat the crap out of|beat the life out of|jump|punch|hurt|slit|curb stomp|"
                 r"run over|torture|slaughter|execute|knife|cut up)")
# "i will destroy you at chess": competition talk, not violence
_NOT_GAME = (r"(?!\s+(?:at|in|on)\s+(?:\w+\s+){0,2}?(?:game|games|chess|fortnite|minecraft|roblox|"
             r"valorant|cod|2k|fifa|madden|basketball|soccer|football|tennis|math|trivia|practice|"
             r"match|tournament|race)\b)")
_OTHER_TARGET = (r"(?:you|u|ya|him|her|them|y'all|yall|you all|everyone|everybody|all of you|"
                 r"this school|the school|that school|our school|school|class|the class|my class|"
                 r"(?:my|his|her|your|that|the) (?:teacher|teachers|principal|sister|brother|mom|dad|"
                 r"friend|friends|ex|bf|gf|boyfriend|girlfriend|class|classmates?)|"
                 r"@user|[a-z]+(?:'s)? (?:face|head|house|car)|"
                 # school peers and "whoever": the targets of school threats (issue 13)
                 r"(?:that|this|the|some|a) (?:kid|girl|boy|guy|freshman|senior|teacher|sub|coach)|"
                 r"(?:his|her|their) (?:little |big )?(?:sister|brother|mom|dad|friend|girlfriend|boyfriend)|"
                 r"anyone|anybody|whoever|every ?(?:one|body|single one) (?:of (?:them|you|y'all)|who|in|at|that)|"
                 r"all of them|them all|the next (?:person|kid|one|guy|girl)|coach|the principal|the sub|"
                 # round seven: "i'm going to hurt somebody at school tomorrow"
                 r"somebody|someone|some1)")
# round seven (prompted by holdout7, after its one scoring): "shooting up", "this whole school",
# "the locker room"
_SCHOOL_ATTACK = (r"(?:shoot up|shooting up|shoot|bomb|blow up|burn down|attack|shooting at|shoot at|bring a gun to|"
                  r"bring (?:a |my )?(?:gun|knife|bomb) to|show up with a gun at)\s+(?:the |this |our |my |that )?"
                  r"(?:whole |entire )?"
                  r"(?:school|class|cafeteria|gym|campus|bus|assembly|hallway|building|prom|game|locker room|lunchroom)")

_WEAPON = (r"(?:gun|guns|knife|knives|blade|blades|pistol|rifle|shotgun|glock|ar|ar15|ar-15|ak|ak47|strap|"
           r"machete|bomb|pipe bomb|weapon|weapons|revolver|piece)")
_WHEN = (r"(?:tomorrow|tmrw|tmr|tonight|monday|tuesday|wednesday|thursday|friday|next week|this week|"
         r"after school|at lunch|in the morning|just in case)")
# Places at school, the one list the threat rules share; each rule adds what its own reading needs
# (somewhere a weapon is carried, for weapon_to_school; rooms, stages and events, for the bomb and
# arson rules).
_SCHOOL_SPACES = r"school|bus|prom|pep rally|assembly|gym|cafeteria|library|hallway"
# ... and the school events the bomb, arson and "skip the concert" rules name
_SCHOOL_EVENTS = r"concert|game|dance|graduation|opening night"
_SCHOOL_PLACE = (rf"(?:{_SCHOOL_SPACES}|class|campus|practice|the game|the dance|the pep rally|"
                 r"the assembly|the gym|the cafeteria|homeroom|\w+ period|locker|my locker|"
                 r"backpack|my backpack|bag|my bag|the hallway|the library)")
_BODY = r"(?:face|legs?|arms?|neck|skull|head|jaw|teeth|nose|ribs|knees?|fingers?|hands?)"
# lol, lmao, an emoji of laughter (normalization spells emoji out as words): said as a joke.
# Only the hyperbole verbs (kill, murder) are read as jokes with it; a weapon, a place and a time
# are not ("bringing a gun to school lol" stays a threat).
_JOKE = _c(r"\b(?:lol|lool|lmao|lmfao|haha|hahaha|jk|jkjk|rofl|laughing|skull|xd)\b")
_JOKE_RULES = {"i_will_verb_you", "kill_you_imperative",
               # round eight: a named peer with a mark of intent; "kms" said to be meant this time
               "kill_named_marked", "kms_serious"}
_AFFECTION = _c(r"\b(?:love (?:you|u|ya|her|him)|ily|ilysm|bestie|bff|heart|proud of (?:you|u)|jk|just kidding|"
                r"kidding|rematch|hilarious|funny)\b")
_AFFECTION_RULES = {"insult_you",
                    # round nine: a slur between friends who say they love each other is still
                    # shown to the models, not stated plainly
                    "slur_at_peer"}
# Rules whose negation test looks only at the few words just before the match: "i can't keep doing
# this, i want it to be over" is ideation, whatever was negated earlier in the sentence.
_NEAR_NEGATION = {"ideation", "eating_disorder", "self_injury", "exclusion", "insult_you", "goodbye_post",
                  # round eight: "not saying what but its packed ...", "i dont want to die, i just ..."
                  "packed_for_the_day", "not_die_just_not_exist", "giving_away", "dated_not_alive",
                  "never_coming_back", "restriction_goal",
                  "coordinated_exclusion", "dated_plan", "passive_death_wish",
                  # round eight, second pass (pat8b): "dont think ill be at practice monday. or anywhere ..."
                  "stop_waking_up", "giving_away_farewell", "or_anywhere_after", "whole_bottle", "picked_a_date",
                  # round nine, second pass (pat9b): "he didnt get sent here cause hes bad ... short bus energy"
                  "short_bus",
                  # round nine, third pass (pat9c): the match starts at "gave"; "he said he wont be around
                  # ... and gave me his hoodie" holds its sign, not a negation of the giving
                  "friend_gave_away"}
_JOKE_VERBS = _c(r"\b(?:kill|murder|strangle|choke|unalive)\b")

_SELF_VERB = (r"(?:kill|k1ll|end|hurt|cut|harm|hang|shoot|stab|starve|drown|off|unalive|burn|poison)")
_SELF_TARGET = r"(?:myself|my self|my life|it all|my wrists?|me)"

THREAT_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("i_will_verb_you", _c(
        rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}{_VIOLENT_VERB}\s+{_OTHER_TARGET}\b{_NOT_GAME}")),
    ("i_will_attack_school", _c(rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}{_SCHOOL_ATTACK}\b")),
    ("bringing_weapon", _c(
        rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}(?:bring|bringing|brought|have|got|carry|carrying)\s+(?:a |my |my dad's |my dads )?"
        r"(?:gun|knife|pistol|rifle|ar|ar15|bomb|glock|weapon)\s+(?:to|into|at|in)\s+(?:the |this |our |my )?"
        r"(?:school|class|campus|bus)\b")),
    ("you_will_die", _c(
        r"\b(?:you(?:'re| are|re)? (?:gonna|going to|will) (?:die|be dead|get (?:shot|stabbed|hurt|killed))|"
        r"you(?:'re| are|re)? dead (?:tomorrow|tonight|meat|after school)|watch your back|"
        r"(?:everyone|everybody|y'all|yall) (?:is |are )?(?:gonna|going to|will) die)\b")),
    ("i_know_where_you_live", _c(
        r"\bi know where (?:you|u|he|she|they) (?:live|lives|sleep|sleeps)\b|"
        r"\b(?:i'm|im|i am) (?:coming|comin) for (?:you|u|him|her|them|all of you|y'all|yall)\b"
        r"(?!\s+(?:guys|all|at|to|in|with|later|soon|around|after|when|tomorrow|tonight|in a bit))|"
        r"\b(?:you're|youre|you are|ur) (?:next|gonna pay|going to pay)\b|\byou(?:'ll| will) pay for this\b|"
        r"\b(?:you|u) (?:won't|wont|will not) (?:live|survive|make it) (?:to see|through|past|until)\b")),
    # a weapon named with a school place or a time, with or without "i" ("bringing a knife
    # tomorrow just in case", "bringing my dads glock to the pep rally")
    ("weapon_to_school", _c(
        r"\b(?:(?:i|i'm|im|i am|ima|imma|i'll|ill|we|we're|were)\s+)?"
        rf"{_NEG}{_MOD}{_NEG}{_ADV}"
        r"(?:bring|bringing|brought|take|taking|carry|carrying|have|got|keep|keeping|hide|hiding|sneak|sneaking)\s+"
        r"(?:(?:a|my|the|his|her|our|an|some|a real|my own|\w+'s|\w+s)\s+){0,2}"
        rf"{_WEAPON}\b[^.!?\n]{{0,30}}?\b(?:{_SCHOOL_PLACE}|{_WHEN})\b")),
    ("weapon_in_bag", _c(
        rf"\b(?:a|my|the) {_WEAPON} (?:is )?in my (?:backpack|bag|locker|car|pocket|hoodie)\b")),
    # a warning to keep away from school at a given time
    ("school_warning", _c(
        r"(?<!\bi )(?<!\bi'm )(?<!\bim )(?<!\bi am )(?<!\bgonna )(?<!\bgoing to )(?<!\bmight )(?<!\bwe )"
        r"\b(?:stay home|stay away from school|stay out of|don't come|dont come|do not come|don't go|dont go|"
        r"do not go|don't show up|dont show up|skip school|skip)\b"
        r"(?![^.!?\n]*\bif (?:you|u|your|you're|youre)(?: are)? (?:sick|feel|not feeling|ill)\b)"
        rf"[^.!?\n]{{0,25}}?\b(?:{_WHEN}|{_SCHOOL_PLACE})\b")),
    # someone is going to be hurt (passive: "he's getting jumped", "the next person gets stabbed")
    # not a witness's fear for the one picked on ("how do i report it without him getting jumped
    # after"; round seven, holdout7 read after its scoring): "without" before the subject
    ("getting_jumped", _c(
        # (not the poster's own: "one of the videos is my little cousin getting jumped"; round nine)
        r"\b(?<!\bwithout )(?<!\bmy )(?<!\bmy little )(?<!\bmy lil )(?<!\bmy big )(?<!\bmy baby )"
        r"(?!i\b|im\b|i'm\b|me\b|i am\b)\w+(?:'s|'re)?\s+(?:is |are |'s |s |re )?"
        r"(?:getting|gonna get|going to get|about to get|will get|gets|finna get|bout to get)\s+"
        rf"(?:(?:his|her|their|your|ur|the) {_BODY} (?:smashed|bashed|kicked|beat|caved|broken|knocked)|"
        r"jumped|shot|stabbed|hurt|beat up|beaten up|smoked|bodied|killed|murdered|shanked|merked|"
        r"(?:his|her|their|your) ass beat)\b")),
    ("we_jump_them", _c(
        r"\b(?:we|we're|were|we are|we gonna|imma|ima|i'm|im|i'll|ill|gonna|going to)\s+"
        r"(?:gonna |going to |about to |finna |bout to )?(?:(?:jump|jumping|run up on|pull up on)\s+"
        r"(?:him|her|them|that|this|the|\w+ (?:after|at|behind|tomorrow|when))|get (?:him|her|them|\w+) jumped)")),
    # wishing a group or a person bloodshed ("i want every single one of them to bleed")
    ("want_them_dead", _c(
        r"\bi (?:want|wish|hope) (?:you|u|him|her|them|everyone|everybody|all of (?:you|them)|every single one of (?:you|them)|"
        r"every one of (?:you|them)|them all|y'all|yall)(?: all)? (?:to )?(?:bleed|die|be dead|dead|suffer)\b")),
    ("warning", _c(
        r"\b(?:don't|dont|do not) say i (?:didn't|didnt|did not) warn (?:you|u|y'all|yall|anyone)\b|"
        r"\bthis is (?:your|ur) (?:last|final|only) warning\b|\byou(?:'ve| have|ve) been warned\b|"
        r"\b(?:is|are|'s|s|you're|youre|you are|your) dead meat\b|"
        r"\b(?:a |my )?(?:hit ?)?list of names\b|\b(?:you're|youre|you are|your) on my (?:hit ?)?list\b|"
        r"\bsee what happens (?:to (?:you|u)|after school|tomorrow)\b|"
        r"\bwatch (?:yourself|your self|your back) (?:walking|on the way|after school|tomorrow|when)\b")),
    ("break_body", _c(
        r"\b(?:break|breaking|smash|smashing|bash|bashing|snap|snapping|crack|cracking|cave|caving)\s+"
        rf"(?:his|her|their|your|ur|ya|you're) {_BODY}\b")),
    ("make_them_pay", _c(
        r"\bmake (?:them|you|u|him|her|y'all|yall|everyone|everybody|all of (?:you|them)|them all)\s+(?:all\s+)?pay\b|"
        r"\b(?:get|getting|gets) what(?:'s| is|s) coming\b|"
        r"\bput (?:you|u|him|her|them|ya) (?:in|into) (?:the|a) (?:hospital|ground|grave|body bag)\b|"
        r"\bputting (?:you|u|him|her|them) in (?:the|a) (?:hospital|ground|grave)\b|"
        # round seven (prompted by holdout7, after its one scoring): "if i get expelled im taking
        # some of them with me" (leakage); not "taking them with me" alone (siblings, a bag)
        r"\b(?:take|taking|bring|bringing) (?:some|a few|all|as many|most|a couple) of (?:them|yall|y'all|you|u|those \w+) "
        r"(?:down )?with me\b|"
        r"\b(?:take|taking) (?:as many (?:people|of them|ppl) as (?:i|i can)|everyone|everybody|people|ppl|them all|yall|y'all) "
        r"down with me\b")),
    ("school_attack_object", _c(
        r"\b(?:burn|blow|shoot) (?:this|the|our|that) (?:school|place|building) (?:down|up)\b|"
        r"\b(?:bomb) (?:in|at|under|going off in) (?:the|our|this) (?:\w+ )?(?:hall|hallway|school|cafeteria|gym|bathroom|library|building)\b")),
    # extortion and sextortion (round five): a demand whose price is exposure ("send 100 by tonight or
    # your pics go to everyone", "i'll leak your nudes"); a victim's report of it is quoted ("he
    # said ...") or about "my" pictures, which these rules do not read as the poster's own threat
    ("extortion", _c(
        r"\b(?:send|venmo|cashapp|cash app|zelle|paypal|pay|give|\$ ?\d+|\d+ (?:dollars|bucks)|\d+ by|"
        r"\d+ more (?:pics|pictures|nudes|photos|videos|vids|snaps))\b"
        # (the exposure is the poster's doing: "or they post it", "or my mom sees" are reports)
        r"[^.!?\n]{0,50}?\b(?:or|unless|otherwise)\b(?:(?!\b(?:they|he|she|someone|somebody|my|me|i)\b)[^.!?\n]){0,60}?"
        r"\b(?:sees?|see (?:them|it)|gets? (?:them|it|sent|the \w+)|(?:go|goes|going|gonna go) (?:public|out|viral|on|to)|"
        r"(?:get|gets|getting) (?:posted|leaked|exposed|sent)|leak(?:ed|ing)?|expos(?:e|ed|ing)|"
        r"post(?:ing)? (?:them|it|everything)|on (?:my|every|their|the|his|her) stor(?:y|ies))\b|"
        r"\b(?:i'll|ill|i will|i'd|id|i would|i'm gonna|im gonna|imma|ima|i'm going to|im going to|gonna|will)\s+(?:just\s+)?"
        r"(?:leak|post|send|expose|share|drop)\s+(?:your|his|her|their)\s+(?:\w+\s+)?"
        r"(?:pics|pictures|nudes|photos|videos?|vids?|snaps|screenshots|dms|noodz)\b|"
        r"\b(?:your|his|her)\s+(?:\w+\s+)?(?:pics|pictures|nudes|photos|videos?|vids?|snaps|dms|screenshots)\b"
        r"[^.!?\n]{0,50}?\b(?:go|goes|going|get|gets)\s+(?:public|out|viral|posted|leaked|sent)\b"
        r"[^.!?\n]{0,40}?\b(?:unless|if (?:you|he|she) (?:don't|dont|do not|doesn't|doesnt|does not|won't|wont))\b|"
        r"\b(?:go|goes|going|gets|get) (?:public|viral|out)\b[^.!?\n]{0,30}?\bunless (?:you|he|she) (?:pay|pays|send|sends)\b|"
        # round seven: the pictures go on the poster's own story ("$100 or they go on my story"):
        # "my" story is the poster's doing, which the "or ... my" guard above leaves out
        r"(?:\$ ?\d+|\b(?:\d+ (?:dollars|bucks)|send|venmo|cashapp|cash app|zelle|paypal|pay up))\b[^.!?\n]{0,50}?"
        r"\bor (?:they|it|these|those|the (?:pics|pictures|vids?|videos?|screenshots|snaps|nudes)|your \w+)\s+"
        r"(?:go|goes|get|gets|will go|are going|end up|going|gonna go)\s+(?:on|in|to|up on)\s+my\s+"
        r"(?:story|page|snap|gc|account|finsta|feed|insta|tiktok)\b")),
    # leakage (round five): telling of an attack before it happens ("remember i said this when
    # you see our school on tv", "watch the news tomorrow", "im making the news")
    ("leakage", _c(
        r"\bremember (?:i|that i) (?:said|told (?:you|y'all|yall|everyone|all of (?:you|y'all|yall)|everybody)|warned)\b"
        r"[^.!?\n]{0,60}?(?:\b(?:news|tv)\b|\b(?:before|when|after) (?:it|this) (?:happens|happened|goes down)\b)|"
        r"\b(?:watch|check|turn on) the news (?:tomorrow|tonight|tmrw|monday|tuesday|wednesday|thursday|friday|next week|this week)\b"
        r"(?![^.!?\n]*\b(?:channel|team|interview|segment|we're on|were on|i'm on|im on|is on|are on|gonna be on)\b)|"
        r"\b(?:i'm|im|i am|i'll|ill|i will|we're|were|we will|we'll)(?: gonna| going to| about to| finna)? "
        r"(?:make|making) (?:the )?(?:news|headlines)\b|"
        r"\b(?:you'll|youll|you will|y'all will|yall will|yall gonna|y'all gonna|you gonna|everyone will|everybody will)"
        r" (?:all )?(?:see|hear about|read about)(?: (?:it|me|us|this|what happens))? on (?:the news|tv)\b|"
        r"\bwhen (?:you|y'all|yall|everyone|everybody) (?:see|sees|hear|hears) (?:about )?(?:our|this|the|my) school on (?:the news|tv)\b|"
        r"\b(?:be|gonna be|going to be|will be) the (?:story|headline|top story|breaking news) on (?:the )?"
        r"(?:\d+ ?(?:o'?clock|oclock) )?news\b")),
    ("kill_you_imperative", _c(word_start(_WILL_FORMS) + r"\s+(?:fucking\s+)?"
                                       rf"{_VIOLENT_VERB}\s+(?:you|u|ya|him|her|them|everyone)\b{_NOT_GAME}")),
)

SELF_HARM_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("i_will_kill_myself", _c(
        rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}{_SELF_VERB}\s+{_SELF_TARGET}\b")),
    ("i_want_to_die", _c(
        rf"{_BI}\s+{_NEG}(?:(?:really |just |honestly |literally |seriously )*)(?:want to|wanna|wish i could|wish i was|wish i were|"
        r"am going to|'m going to|m going to|m gonna|am gonna|'m gonna|gonna|will|'ll|ll|should|just want to|"
        r"want to just|am ready to|'m ready to|m ready to)\s+(?:just\s+)?(?:die|be dead|not exist|disappear forever|"
        r"not wake up|stop living|not be alive|not be here anymore|end it|end it all|commit suicide|unalive myself)\b")),
    ("i_cut_myself", _c(
        rf"{_BI}\s+(?:(?:just |still |always |sometimes |have been |'ve been |ve been |keep |started |"
        r"again |am |'m |m )*)(?:cut|cutting|cuts|hurt|hurting|burned|burning|starving|harming|hit|hitting)\s+"
        r"(?:myself|my self|my wrists?|my arms?|my legs?|my thighs?)\b")),
    ("suicidal_self", _c(
        r"\b(?:i'm|im|i am|i feel|feeling|i've been|ive been)\s+(?:so |really |very |kinda |pretty )?"
        r"(?:suicidal|going to commit suicide)\b|\bi (?:tried|attempted) (?:to )?(?:kill myself|suicide|overdose|end my life)\b|"
        r"\b(?:my|writing my|wrote my) suicide note\b|\bi don't want to (?:live|be alive|exist) anymore\b|"
        r"\bi dont want to (?:live|be alive|exist) anymore\b|\bno reason (?:for me )?to (?:live|keep going)\b|"
        r"\bi (?:can't|cant) (?:do this|go on|keep going) anymore\b|\bgoodbye (?:everyone|world|forever)\b")),
    ("kms", _c(r"\bkill myself\b")),   # "kms" expands to this in normalization
    # self-injury without the word suicide (issue 13): the act on one's own body, its tools kept
    # hidden, a relapse
    ("self_injury", _c(
        rf"{_BI}\s+(?:(?:just |still |always |sometimes |have been |'ve been |ve been |keep |kept |started |"
        r"again |am |'m |m |often |usually )*)(?:scratch|scratching|scratched|burn|burning|burnt|burned|hit|hitting|"
        r"punch|punching|bite|biting|carve|carving|carved|pick|picking|cut|cutting|hurt|hurting|slice|slicing)\s+"
        r"(?:myself|my self|my (?:wrists?|arms?|legs?|thighs?|stomach|skin|hips?|scars|knuckles|body))\b|"
        r"\b(?:made|make|making) myself (?:bleed|throw up|puke|sick|purge)\b|"
        r"\b(?:hide|hiding|hid|cover|covering|covered) (?:my |the |all my )?(?:cuts|scars|wounds|burns|blades?|razors?)\b|"
        r"\b(?:bought|buy|got|new|hide|hiding|keep|keeping) (?:new |more |my |the )?(?:razor )?(?:blades|razors)\b|"
        r"\b(?:i've|ive|i have|i) (?:been |started |keep |still |am )?cutting (?:again|myself|every)\b|"
        r"\bi (?:still )?cut (?:again|every (?:night|day))\b|\brelapsed? (?:after|again)\b|\b(?:arms|wrists) look like a barcode\b|"
        r"\bmy (?:arms|wrists|legs|thighs|stomach|hips) (?:are|is) (?:covered in|full of) (?:scars|cuts|burns)\b|"
        r"\b(?:so|that) (?:no one|nobody|noone) (?:sees|can see|will see|notices) my (?:arms|wrists|legs|thighs|scars|cuts)\b")),
    # eating-disorder self-harm: starving, purging, counting down calories
    ("eating_disorder", _c(
        r"\b(?:haven't|havent|have not|didn't|didnt|did not|hasn't) (?:eaten|eat|had (?:any)?(?:thing|food))"
        r"(?: anything)? (?:in|for|since) (?:\d+|a|two|three|four|five|six|seven|days?|weeks?|monday|tuesday|"
        r"wednesday|thursday|friday|saturday|sunday|yesterday)\b|"
        r"\b(?:purged?|purging|laxatives?|thinspo|pro ana|ana (?:buddy|buddies|coach)|ugw|0 cal|zero cal)\b|"
        r"\bchew\w* and spit\w*|\bcounting (?:every |all (?:my |the )?)?calories?\b|\bunder \d{3} (?:cal|cals|calories)\b|"
        r"\b\d{2,3} (?:cal|cals|calories) (?:a|per) day\b|\bfasting for (?:a |\d+ |two |three )?(?:week|days|weeks)\b|"
        r"\bstarv(?:e|ing) (?:myself|until|till|til|for)\b|\bno food (?:till|until|til|for)\b|"
        r"\b(?:don't|dont|doesn't|doesnt|do not|does not) deserve (?:food|to eat)\b|"
        r"\bthrow up after (?:i eat|eating|every meal|lunch|dinner|meals)\b|"
        r"\bskip(?:ed|ing|ped|ping)? (?:every meal|all my meals|all meals|breakfast,? lunch,? and dinner)\b")),
    # ideation said without "suicide" or "kill myself"
    ("ideation", _c(
        r"\b(?:tired of|sick of|done with) (?:being alive|living|waking up|life|existing)\b|"
        rf"{_BI}\s+(?:(?:just |really )?(?:am |'m |m )?(?:going to |gonna |about to |will |'ll |ll |want to |wanna )?)"
        r"(?:end|ending) it(?: all)?\b(?! for (?:all of )?(?:them|you|y'all|yall|everyone|him|her))|"
        r"\bthinking about (?:ending it|dying|killing myself|suicide|not being here|death)\b|"
        r"\bthink about (?:dying|death|killing myself|ending it) (?:every|all the|a lot|constantly)\b|"
        r"\b(?:i'm|im|i am|i)\s+(?:pretty sure |probably )?(?:not gonna|not going to|won't|wont|will not)\s+"
        r"(?:be (?:here|alive|around)|make it to) (?:next|by|for|tomorrow|graduation|the end|much longer)\b|"
        r"\b(?:everyone|they|my family|people|my parents|everybody)(?:\s+would|\s+will|'d|d|\s+d)\s+be\s+(?:so )?(?:better off|happier)\s+without me\b|"
        r"\b(?:nobody|no one|noone) would (?:even )?(?:notice|care|miss me) if i\b|"
        r"\b(?:i'm|im|i am|i feel like|feel like) (?:such )?a burden\b|"
        r"\b(?:want|wish) (?:it|this|everything) (?:all )?(?:to be over|to end|would (?:just )?(?:stop|end))\b|"
        r"\bwish it would (?:all )?(?:just )?(?:stop|end)\b|"
        r"\b(?:fall asleep|go to sleep|sleep) (?:and (?:never|not) wake up|forever)\b|"
        r"\b(?:took|take|taking|swallowed|saving|saved|save|stockpiling|have) (?:up )?(?:a bunch of|all (?:my|the|of my)|the|my|a handful of|enough) "
        r"(?:sleeping )?pills\b|\bpills saved\b|"
        r"\b(?:goodbye|suicide) (?:letters?|notes?)\b")),
    # a goodbye post (round five): written to be read after the poster is gone
    ("goodbye_post", _c(
        r"\b(?:by) the time (?:you|anyone|y'all|yall|someone|everyone|anybody) (?:read|reads|see|sees|find|finds) this\b"
        r"[^.!?\n]{0,30}?\b(?:gone|dead|not be here|won't be here|wont be here|not here|in a better place|already)\b|"
        r"\bthis is (?:my )?(?:goodbye|the last (?:post|message|video|snap)|my last (?:post|message|video|snap))\b"
        r"(?! (?:of|for|before|until|till|til|on|from|about|in|at|to (?:my|the|this|that|our))\b)|"
        r"\b(?:sorry|i'm sorry|im sorry) for everything\b[^\n]{0,40}?"
        r"\b(?:goodbye|bye|love (?:you|y'all|yall) all|i love you all)\b|"
        r"\b(?:won't|wont|will not|not gonna|not going to) need (?:it|them|her|him|this|that|my \w+|any of (?:it|this|them)) "
        r"where (?:i'm|im|i am) going\b|"
        r"\b(?:goodbye|bye) (?:everyone|everybody|y'all|yall|all of you)\b[^.!?\n]{0,40}?"
        r"\b(?:i'm sorry|im sorry|love you|it's not your fault|its not your fault|forever|for good)\b")),
    ("i_will_overdose", _c(
        rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}(?:overdose|od|jump off (?:a|the) (?:bridge|overpass|roof|building|cliff)|"
        r"jump in front of|walk into traffic|drive into (?:a|the) (?:tree|wall))\b")),
)

# Telling someone to hurt or kill themselves is the sharpest form of bullying a school sees
# ("kys" is normalized to "kill yourself"); it needs no model to be recognised.
BULLYING_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("harm_yourself_directive", _c(
        r"\b(?:go |just |pls |please |u should |you should |you need to |why don't you |why dont you )?"
        r"(?:kill|hang|cut|shoot|drown|end|unalive|off) (?:yourself|urself|your self|ur self|yourselves)\b|"
        r"\b(?:go|just|pls|please|you should|u should|hope you|i hope you|i hope u) (?:go )?(?:die|drink bleach|jump off a (?:bridge|building))\b|"
        r"\bslit your wrists\b|\bnobody would (?:miss|care if) (?:you|u)\b|\bthe world (?:would be|is) better without (?:you|u)\b|"
        r"\beveryone would be happier if you (?:died|were dead|disappeared)\b")),
    ("insult_you", _c(
        r"\b(?:you're|youre|you are|your|u r|ur|you)\s+(?:so |such a |such an |a |an |the |literally |really |just |always |"
        r"still |nothing but a |nothing but an |honestly )*(?:most |biggest |single )?"
        r"(?:ugly|uglier|ugliest|fat|stupid|dumb|dumbest|worthless|pathetic|disgusting|useless|annoying|gross|"
        r"weirdest|loser|freak|weirdo|creep|failure|disappointment|waste of space|nobody|embarrassment|joke|"
        r"liar and a fake|fake)\b(?! (?:at|in) (?:\w+ )?(?:game|games|chess|fortnite|mario|minecraft|math|"
        r"basketball|soccer|football|practice)\b)")),
    # exclusion and contempt aimed at the reader: the relational bullying of school years, which
    # the adult training sets barely contain
    ("exclusion", _c(
        r"\b(?:nobody|no one|noone|no1)\s+(?:here |at (?:this |our )?school |in (?:this|our|the) (?:school|class|grade) )?"
        r"(?:likes|wants|cares about|will ever like|will ever love|loves|invited|wants to (?:sit|talk|hang out|be) (?:next to|with))\s+(?:you|u)\b|"
        r"\b(?:nobody|no one|noone) (?:will|would|is gonna|is going to) (?:come to|go to) (?:your|ur) (?:party|birthday)\b|"
        r"\b(?:everyone|everybody|the whole (?:school|class|grade))\s+(?:here |at school |in (?:this|our) (?:school|class) )?"
        r"(?:hates|is laughing at|laughs at|thinks (?:you're|youre|you are|your|ur) (?:a )?(?:loser|freak|weird|ugly|gross|disgusting))"
        r"\s*(?:you|u)?\b|"
        r"\b(?:nobody|no one|noone) wants (?:you|u) (?:here|around|at)\b|"
        r"\b(?:you|u) (?:have|got|ve got|'ve got) no friends\b|\b(?:you|u) (?:don't|dont|do not) belong (?:here|at this school|with us)\b|"
        r"\bwhy (?:are|r) (?:you|u) (?:even )?(?:alive|here|breathing)\b|\bwhy do (?:you|u) (?:even )?exist\b|"
        r"\b(?:no one|nobody|noone) would (?:care|notice|miss you) if (?:you|u) (?:disappeared|died|left|were gone|weren't here)\b|"
        r"\b(?:you're|youre|you are|ur|u r) (?:a |such a )?waste of (?:space|oxygen|air|skin)\b")),
)

# --- round seven (pat7): phrasings the shipped models missed on realistic student posts -----------
# Measured with each rule's plain (not negated, not quoted) matches on the 14,650 seed posts
# (classifiers/train/seed_posts.csv, seeds/*.csv; 7,544 of category none) and on the six dev sets
# (realistic, fresh, holdout, holdout4-6): "seed a/b, dev c/d" = fires on positives of the rule's
# category / on category-none rows. No rule below fires plainly on any seed or dev negative. A rule
# with fewer than three positive fires in all was dropped ("u wont walk away": 2). The public data
# the models learnt from has no school food tampering, dated plans or group-chat exclusion.
_FOOD_OR_DRINK = (r"(?:lunch|lunchbox|food|drink|drinks|water|water bottle|bottle|soda|coffee|juice|milk|"
                 r"gatorade|cup|sandwich|smoothie|tea|energy drink|monster|pop|snack|tray|thermos|protein shake)")
_TAMPER_SUBSTANCE = (r"(?:rat poison|poison|bleach|pills|laxatives?|ex ?lax|visine|eye drops|antifreeze|drain cleaner|"
                 r"glass|drugs|xanax|something|somethin|stuff|them|dish soap|cleaner|lighter fluid|pee|piss)")
_SOMEONE_ELSES = r"(?:his|her|their|ur|your|ya|that \w+'s|\w+'s|\w+s)"
# round seven: the rules below join each category's table (one tuple per category)
THREAT_RULES += (
    # tampering with someone else's food or drink ("im gonna put rat poison in her lunch", "putting
    # them in her water bottle at practice"); "my" drink is never the target (a victim's report)
    # seed 9/0, dev 7/0.
    ("tamper_food", _c(
        rf"\b(?:{_I}|we|we're|were|gonna|going to|imma|ima|finna)\s+{_NEG}{_MOD}{_NEG}{_ADV}"
        r"(?:put|putting|slip|slipping|spike|spiking|pour|pouring|mix|mixing|drop|dropping|crush|crushing|lace|lacing)\s+"
        rf"(?:(?:a |some |my |the |a little |a bunch of |a few |all |\w+'s |\w+s )?(?:\w+ )?{_TAMPER_SUBSTANCE})\s+"
        rf"(?:in|into|inside)\s+{_SOMEONE_ELSES}\s+(?:\w+\s+)?{_FOOD_OR_DRINK}\b|"
        rf"\b(?:{_I}|we|we're|were|we are)\s+{_NEG}{_MOD}{_NEG}{_ADV}(?:poison|poisoning|spike|spiking|lace|lacing)\s+"
        rf"(?:him|her|them|{_SOMEONE_ELSES}\s+(?:\w+\s+)?{_FOOD_OR_DRINK})\b")),
    # beating someone past a stated harm ("beat him til he stops moving", "till she cant walk")
    # seed 3/0, dev 6/0 (its "can't walk" is its own negation: _NEGATION_INSIDE).
    ("beat_until", _c(
        r"\b(?:beat|beating|stomp|stomping|punch|punching|hit|hitting|kick|kicking|choke|choking|jump|jumping|"
        r"hurt|hurting|fight|fighting|smack|smacking|pound|pounding|beaten|stomped|punched|kicked|choked|jumped|smacked|"
        r"pounded)\s+(?:\w+\s+){0,3}?"
        r"(?:til|till|until|untill)\s+(?:he|she|they|u|you|ya|his|her|their|ur|your|that \w+)\s+"
        r"(?:stop|stops|can't|cant|cannot|can not|is|are|r|end|ends|need|needs|pass|passes|black|blacks|don't|dont|doesn't|doesnt|no longer)\s*"
        r"(?:out\s+|up\s+)?(?:moving|breathing|breathe|walk|walking|move|stand|talk|unconscious|unrecognizable|"
        r"in (?:the|a) (?:hospital|er|icu|wheelchair|coma)|out cold|bleeding|bleed|dead|get up|wake up|stitches|"
        r"an ambulance|a hospital|surgery)\b")),
    # harm said of a second or third person at a dated event ("ur not making it to graduation",
    # "he won't make it to prom"); first person is ideation (self_harm) and stays there
    # seed 1/0, dev 2/0; kept for its weight (leakage of a dated attack) with 3 seed help posts
    # that quote it scored as quoted (0.35), and in VICTIM_REPEATS.
    ("wont_make_it_to", _c(
        r"\b(?:you|u|ur|your|you're|youre|he|he's|hes|she|she's|shes|they|they're|theyre|that kid|that girl|that boy|"
        # round eight, second pass (pat8b): "somebody on that roster isnt making it to graduation"
        r"(?:somebody|someone|some1|one of (?:them|you|y'all|yall|those \w+|u))(?: (?:on|in|from) (?:that|this|the|my|our|ur) \w+)?)\s+"
        r"(?:is |are |'s |s |re )?(?:not|n't|isnt|isn't|won't|wont|will not|ain't|aint|isn't|isnt|never|not gonna|not going to)\s+"
        r"(?:gonna |going to |ever )?(?:make it|making it|live|living|be alive|be around|be breathing|survive|surviving)\s+"
        r"(?:(?:to|till|til|until|past|through|thru|to see)\s+(?:the end of )?(?:(?:his|her|their|your|ur) )?"
        r"(?:graduation|prom|homecoming|summer|friday|monday|tuesday|wednesday|thursday|the weekend|next week|"
        r"next year|christmas|birthday|senior year|the bell|lunch|the last bell|sixth period|\w+ period|dismissal)|"
        # round seven (prompted by holdout7, after its one scoring): "ur not making it home from co-op"
        r"home from)\b"
        r"(?![^.!?\n]{0,30}\b(?:grades?|gpa|credits?|classes|failing|at this rate|test|tests|homework|if (?:he|she|you|u) keep)\b)")),
    # the grievance vent that turns into a date ("friday is the day they all pay for it", "they'll
    # all regret it", "the ones who did this should enjoy this week")
    # seed 6/0, dev 3/0.
    ("they_will_pay", _c(
        # a bare "pay" only after a pointed subject ("everyone who shared my pics is going to pay"):
        # "my parents said they'll pay" is about money
        r"\b(?:everyone who|everybody who|the ones who|whoever|all of (?:you|u|them|y'all|yall)|they all|y'all|yall)\b"
        r"[^.!?\n]{0,40}?\b(?:will|'ll|ll|gonna|going to|is going to|are going to|should|better)\s+(?:all\s+)?"
        r"pay\b(?! (?:me|us|attention|the|for (?:the|my|a|lunch|dinner|gas|food|tickets?|pizza)|back|up|off|\d|\$))|"
        r"\b(?:they|them|y'all|yall|you all|u all|everyone|everybody|all of (?:you|them|y'all|yall)|the ones who|"
        r"whoever)\b[^.!?\n]{0,30}?\b(?:will|'ll|ll|gonna|going to|are gonna|are going to|is gonna|is going to|"
        r"should|better)\s+(?:all\s+)?(?:pay for (?:it|this|what|that|everything)|"
        r"regret (?:it|this|everything|what)|enjoy (?:this|their|the|your|ur) (?:last )?(?:week|weekend|day|days|friday|monday)|"
        r"find out what (?:happens|it feels)|be sorry)\b|"
        r"\b(?:the day|that's when|thats when|is when) (?:they|them|y'all|yall|you all|u all|everyone|everybody) (?:all )?"
        r"(?:pay|regret it|find out)\b")),
)
THREAT_RULES += (
    # a warning that tells who will be spared ("wear red if u wanna be spared", "sit in the back if
    # you want to live", "when it happens u know it was planned")
    # seed 3/0, dev 3/0; in VICTIM_REPEATS (a witness repeats it).
    ("survival_warning", _c(
        r"\bif (?:u|you|ya|y'all|yall|you all) (?:wanna|want to|wana|want) (?:live|be spared|survive|stay alive|make it out)\b|"
        r"\bwhen it happens[^.!?\n]{0,12}?\b(?:u|you|y'all|yall|everyone|everybody|the news|people)\b[^.!?\n]{0,20}?"
        r"\b(?:know|knew|will know|gonna know|gonna tell|will say|will call|gonna say)\b")),
)
SELF_HARM_RULES += (
    # a date set for not being here ("i wont be here for my birthday", "i'll probably be dead by
    # summer", "i dont think ill be around for christmas")
    # seed 2/0, dev 7/0 ("i'll be dead by 9:01" at curfew matched a bare number: numbers left out).
    ("dated_plan", _c(
        r"\b(?:i'll|ill|i will|i'm gonna|im gonna|i am gonna|i'm going to|im going to|i'd|id)\s+(?:probably |prob |likely |"
        r"definitely |already |finally |just )?(?:be (?:dead|gone)|not be (?:here|alive|around)|never see)\s+"
        r"(?:by|before|for|after|on|at|until|till|this|next|in)\s+(?:my |the |next |this )?"
        r"(?:summer|birthday|bday|christmas|thanksgiving|graduation|prom|friday|monday|tuesday|wednesday|thursday|saturday|sunday|"
        r"weekend|week|month|year|tomorrow|tonight|then|spring|winter|fall|new year|new years|the end)\b|"
        r"\bi (?:don't|dont|do not) think (?:i'll|ill|i will|i'm gonna|im gonna) (?:be (?:here|alive|around)|make it|see)\s+"
        r"(?:for|by|to|at|on|until|till|next|this)\s+(?:my |the |next |this )?"
        r"(?:summer|birthday|bday|christmas|thanksgiving|graduation|prom|friday|monday|weekend|week|month|year|new year|tomorrow)\b|"
        r"\b(?:i|i'm|im|i am)\s+(?:not gonna|not going to|won't|wont|will not)\s+(?:be (?:here|alive|around)|make it)\s+"
        r"(?:for|to|by|on) (?:my |the |this )?(?:birthday|bday|christmas|summer|prom|graduation|new year|new years|thanksgiving)\b")),
    # wishing an accident had finished it ("i wish the car had hit me harder", "wouldnt mind if a
    # semi took me out"), wanting to stop existing
    # seed 7/0, dev 4/0 (in the first draft the 8 "stop existing" posts were negated by their own
    # "stop" or by an earlier "i dont want to die exactly": hence _NEGATION_INSIDE, _NEAR_NEGATION).
    ("passive_death_wish", _c(
        r"\b(?:wish|hope|hoping|wouldn't mind if|wouldnt mind if|pray|praying)\s+(?:that\s+)?(?:a|the|that|some)\s+"
        r"(?:car|truck|bus|semi|train|driver)\s+(?:would\s+|had\s+|will\s+)?(?:hit|hits|take|takes|took|run|runs|ran)\s+me\b|"
        r"\b(?:want|wanna|wish i could|just want to)\s+(?:just\s+)?stop existing\b")),
    # goodbye letters left for the family ("wrote letters for my mom and my little brother")
    # seed 4/0, dev 5/0 ("a thank you letter to my grandma" is singular and not matched).
    ("goodbye_letters", _c(
        r"\b(?:wrote|written|writing|write|left|leaving|leave|finished)\s+(?:a few |some |all |the |my )?"
        r"(?:letters|notes)\s+(?:for|to)\s+(?:my (?:mom|dad|mum|family|parents|sister|brother|little|friends|grandma)|everyone|each of|all of)\b|"
        r"\b(?:wrote|written|writing|left|leaving)\s+(?:a |one )?(?:letter|note)\s+(?:for|to)\s+(?:each|everyone|every one|all)\b")),
)
SELF_HARM_RULES += (
    # self-injury the round-two rule did not name: head-banging with a stated end, pins and
    # compasses in one's own skin
    # head_banging seed 9/0, dev 4/0 (a stated end is required: "hitting my head against the wall
    # over this essay" is a seed hyperbole row); sharp_in_skin seed 2/0, dev 1/0.
    ("head_banging", _c(
        r"\b(?:slam|slammed|slamming|bang|banged|banging|hit|hitting|smack|smacked|smacking|punch|punched|punching)\s+my head\s+"
        r"(?:against|on|into|off)\s+(?:the|a|my)\s+(?:wall|desk|floor|locker|mirror|door|headboard)\s+"
        r"(?:until|till|til|when|whenever|so hard|again|every|to)\b")),
    ("sharp_in_skin", _c(
        r"\b(?:pins?|needles?|a safety pin|safety pins|the compass|my compass|a compass|the pointy end)\s+(?:in|into)\s+my\s+"
        r"(?:legs?|arms?|thighs?|skin|hands?|wrists?|stomach|fingers?)\b|"
        r"\b(?:jab|jabbed|jabbing|poke|poked|poking|stab|stabbed|stabbing|dig|digging|dug|scratch|scratching)\s+"
        r"(?:myself|at my (?:old )?(?:scars|skin|arms|wrists|legs)|into my (?:skin|arms?|legs?|thighs?))\s+"
        r"(?:with|w) (?:a |the |my )?(?:safety pin|pin|needle|compass|paperclip|paper clip|pencil|pen|nails)\b")),
    # walking or driving into water, named as a plan ("gonna walk into the lake tonight"); the sea
    # and the ocean are left out: "i'm walking into the sea" is teen hyperbole (seed hyperbole rows)
    # seed 5/0, dev 3/0 (one seed hyperbole row, "makes me want to drive into the lake", is
    # left out by the look-behind).
    ("into_the_water", _c(
        r"(?<!makes me want to )(?<!made me want to )(?<!make me want to )"
        r"\b(?:walk|walking|walked|swim|swimming|drive|driving|drove|jump|jumping)\s+(?:(?:my|the) (?:car|truck) )?"
        r"(?:into|in to|off into)\s+(?:the|a)\s+(?:lake|river|pond|quarry|reservoir|creek|canal)\b"
        r"(?! (?:to cool off|for fun|with|at the party|party|day)\b)")),
)
BULLYING_RULES += (
    # telling the group to shut a named or pointed-at peer out ("no one sits with brianna tmrw",
    # "if u talk to her ur out", "dont invite him", "lets all leave when marco sits down")
    # seed 19/0, dev 14/0 (first draft: 3 seed negatives, "dont sit by the windows", "nobody sit in
    # aaliyah seat ... we decorating it": prepositions and articles are no target).
    ("coordinated_exclusion", _c(
        r"\b(?:no one|nobody|noone|no1|don't|dont|do not|nobody is|no one is)\s+(?:sit|sits|sitting|invite|invites|inviting|talk to|talks to|"
        r"let|lets)\s+(?:with |next to |by )?(?!(?:me|us|you|u|yourself|anyone|strangers?|people|the|a|an|in|on|at|by|near|"
        r"there|here|this|that|down|up|out|it|go|your|ur|my|our|his|their|any|alone|inside|outside|around|back|together|"
        r"over|somewhere|anywhere|everywhere|with|next|to)\b)(?:her|him|them|that \w+|\w+)"
        r"(?:\s+(?:in|into) (?:the )?(?:gc|group chat|group|chat|squad))?"
        r"[^.!?\n]{0,25}?\b(?:tmrw|tomorrow|monday|at lunch|anymore|ever again|again|at (?:the |our )?table|in the gc|"
        r"she'?s|he'?s|shes|hes|if (?:u|you)|or (?:ur|you're|youre|u r)|we|lol|lmao|fr|shes annoying|nobody)\b|"
        r"\bif (?:u|you|anyone|anybody|someone|ya)\s+(?:talk|talks|sit|sits|hang|hangs|hang out|hangs out|text|texts|invite|invites)\s+"
        r"(?:to |with |out with )?(?!me\b|us\b)(?:her|him|them|\w+)(?:\s+(?:again|ever|tmrw|tomorrow|at lunch))?,?\s+"
        r"(?:ur|your|you're|youre|u r|you are|u're)\s+(?:out|next|done|dead to (?:us|me)|blocked|cut off|cut|kicked)\b|"
        r"\bwhoever\s+(?:still\s+)?(?:sits|talks|hangs out|hangs|texts|invites)\s+(?:with |to )?(?!me\b|us\b)\w+[^.!?\n]{0,25}?"
        r"\b(?:is|gets|will get|is getting|is gonna get)\s+(?:dropped|cut off|cut|kicked|blocked|removed|out)\b|"
        r"\b(?:lets|let's|let us|everyone|everybody|yall|y'all)\s+(?:all\s+)?(?:get up and leave|leave|ignore|block|unfollow|report|mass report)\s+"
        r"(?:when\s+)?(?!me\b|us\b)(?:her|him|them|\w+)(?:'s)?\s*(?:(?:account|acct|page|sits|comes|walks)\b|"
        r"(?:tmrw|tomorrow|monday|at lunch|lol|lmao|until|till|til)\b)|"
        r"\b(?:kick|kicking|remove|removing|drop|dropping)\s+(?!me\b|us\b)(?:her|him|them|\w+)\s+(?:out of|from)\s+(?:the\s+)?(?:gc|group chat|groupchat|chat|group|squad)\b"
        r"(?![^.!?\n]{0,20}\b(?:by accident|accidentally|on accident)\b)|"
        r"\b(?:made|making|make) (?:a|another|a new) (?:gc|group chat|groupchat|chat) without (?!me\b|us\b)(?:her|him|them|you|u|\w+)\b")),
    # starting or spreading a rumour ("lets tell everyone she ...", "spread it: dani cheated ...",
    # "did u hear emma stuffs her bra", "i'm definitely spreading it")
    # seed 2/0, dev 2/0; "someone is spreading a rumour that i'm ..." (2 help posts) is the victim.
    ("spread_rumor", _c(
        r"\b(?:lets|let's|let us|we should|we gotta|gonna|imma|ima)\s+(?:all\s+)?(?:tell|telling)\s+(?:everyone|everybody|the whole (?:school|class|grade|team)|people)\s+"
        r"(?:that\s+)?(?:she|he|\w+)\s+(?!is\s+(?:nice|cool|sweet|great|amazing)|(?:said|says)\b)\w+|"
        r"\b(?:lets|let's|let us|we should|we gotta|gonna|imma|ima|i'm gonna|im gonna|i'll|ill|i will|we'll|we will)\s+"
        r"(?:start|spread)\s+(?:a|the|this)\s+rumou?r\s+(?:that|about|bout)\s+(?!(?:me|us|i|i'm|im|my)\b)\w+|"
        r"\bspread (?:it|this|the word)\s*[:,-]\s*(?!the |our |bake |tickets |\w+ (?:is|are) (?:on|at|this|next))\w+|"
        r"\b(?:i'm|im|i am|we're|were|we are) (?:definitely |totally |def |so )?spreading (?:it|this|that)\b|"
        r"\b(?:did|have) (?:u|you|yall|y'all) (?:hear|heard) (?:that\s+)?(?!me\b|us\b)\w+(?:'s)?\s+"
        r"(?:stuffs|stuff|pissed|peed|sharted|shit|cheated|hooked up|has (?:lice|an std|std|crabs)|got (?:lice|an std|herpes|crabs|pregnant)|"
        r"sleeps with|slept with|smells|wets)\b")),
    # not invited, said to or about the one left out ("ur not invited dont even ask", "beth was not
    # invited"); "i'm not invited" is the poster's own hurt, and stays out
    # seed 11/0, dev 6/0.
    ("not_invited", _c(
        r"\b(?:ur|your|you're|youre|u r|you are|u|you|he's|hes|she's|shes|he|she|(?!i\b)\w+ (?:is|was|isn't|isnt|wasn't|wasnt))\s+"
        r"(?:not|never|the only one not|the only one who wasn't|the only one who wasnt|def not|definitely not|obviously not)\s+"
        r"(?:invited|coming|welcome)\b(?! (?:to (?:the|my) (?:meeting|call))\b)|"
        r"\b(?:u|you) (?:really |actually )?thought (?:u|you) (?:were|was) (?:invited|welcome|coming)\b")),
    # praise that is the insult ("said no one ever", "so brave of u to wear that", "cute outfit!
    # for a 5 year old", "pretty for a dark skin girl")
    # seed 2/0, dev 7/0 (a seed slang row, "so brave for wearing the all-green fit ... she ATE",
    # fired until the rule asked for "that/this": genuine praise names the outfit).
    ("mock_praise", _c(
        r"\bsaid no (?:one|body|1) ever\b|"
        r"\bso brave (?:of (?:you|u) )?(?:for|to) (?:(?:wear|wearing|post|posting|show|showing) (?:that|this|those|these|it)|"
        r"go out (?:like|looking)|leave the house|come to school (?:like|looking|in that))\b|"
        r"\b(?:cute|nice|great|good|love|pretty|cool|fire|amazing|beautiful)\b[^.?\n]{0,40}?"
        r"\bfor an? (?:\d+|five|six|seven|eight|three|four) (?:year|yr) old\b(?![^.!?\n]{0,25}\b(?:party|birthday|bday)\b)|"
        r"\b(?:pretty|cute|smart|hot|attractive|good looking) for a (?:dark skin(?:ned)?|fat|black|asian|chubby|short|ugly|poor|gay|trans|"
        r"ghetto|sped|special ed|mexican|indian) (?:girl|boy|guy|kid|person)\b|"
        r"\b(?:you'd|youd|u'd|ud|you would|u would) (?:be|look) (?:so |really )?(?:pretty|cute|hot|attractive) if (?:you|u) (?:lost|were|weren't|didn't|had|got)\b")),
    # sharing someone's screenshots, photos, videos to humiliate them ("sent them to the whole
    # volleyball team", "posting her texts", "the video of liam crying is in my story")
    # seed 25/0, dev 10/0 (2 seed help posts about a fake account "of my mom" / "to be a boy" fired
    # in the first draft). Report words ("texts", "posted") are its subject: _SHARE_RULES.
    ("humiliating_share", _c(
        r"\b(?:sent|sending|send|posted|posting|post|leaked|leaking|dropped|dropping|airdropped|airdropping|forwarded|forwarding|"
        r"showed|showing|screenshotted|screenshotting|shared|sharing|put|putting)\s+(?:all\s+)?(?!my\b|our\b)"
        rf"(?:{_SOMEONE_ELSES}|them|it|the|this|that)\s+(?:\w+\s+){{0,3}}?"
        r"(?:texts|dms|messages|snaps|screenshots|ss|pics|pictures|photos|video|vid|videos|vids|convo|nudes|diary|journal|notes)?\s*"
        r"(?:to|in|on|with)\s+(?:the whole|the entire|everyone|everybody|every|all of|the (?:team|class|grade|school|gc|group chat|boys|girls)|"
        r"(?:my|our) (?:story|stories|gc|group chat|page|finsta|spam))\b"
        # (laughter; normalization spells 😂 🤣 😭 💀 as words and drops most other emoji)
        r"[^\n]{0,80}?(?:laughing|skull|lol|lmao|lmfao|haha|enjoy|have fun|good luck|ur welcome|your welcome|"
        r"if (?:u|you) need a laugh|crying|cried|tripping|fell|fail|failed|embarrass|humiliat|funny|hilarious|exposed)|"
        r"\b(?:the |that |this )?(?:video|vid|clip|pic|pics|photo|photos|screenshots?) (?:of|from) (?!me\b|us\b|my\b)\w+ "
        r"(?:crying|tripping|falling|puking|throwing up|peeing|changing|naked|singing|dancing)\b[^.!?\n]{0,40}?"
        r"\b(?:is|are|in|on|up on|going on) (?:my|our|the|every) (?:story|stories|gc|group chat|page|snap|insta|tiktok)\b|"
        r"\bwho wants (?:the|that|this) (?:vid|video|clip|pic|pics|photo) (?:of|from) (?!me\b|us\b|my\b)\w+\b|"
        r"\b(?:made|making|make|started|created|set up)\s+(?:a|another|this)\s+(?:fake|parody|spam|hate)\s+"
        r"(?:acct|account|page|insta|tiktok|finsta|profile|ig|snap)\s+(?:of|for|about|pretending to be|as|to (?:mock|roast|make fun of))\s+"
        r"(?!(?:me|us|myself|my|our|a|an|the|some|someone|somebody)\b)(?:her|him|them|you|u|\w+)\b|"
        r"\bfake (?:acct|account|page|insta|profile|finsta) @\w+ is (?:up|live|out)\b")),
)

# --- round eight (pat8): kinds of posts the shipped models and rules missed on holdout7 ----------
# Prompted by holdout7's misses (read after its one scoring) and written for the kind, not the
# string: each rule is tested on paraphrases and harmless twins (tests/classifiers/
# test_round_eight_patterns.py). Measured as in round seven, "seed a/b, dev c/d" (plain fires on
# positives of the rule's category / on negatives); no rule below fires plainly on any seed or
# dev-set negative. Three mechanisms are new (see _rule_hits):
# - _NEEDS_MARK: a rule counts only when the post also holds a mark of real intent (a weapon, a
#   time at school, "dead serious", "dont tell nobody"); the bare phrase is the hyperbole teens use;
# - _PETTY: a grievance over food or drink ("ate my leftovers") makes the statement hyperbole;
# - _CONCERN_RULES: a report of a friend's danger ("she said she took a bunch of pills") is what
#   the rule reads, so a reporting verb or quotation does not weaken it (the taxonomy labels a
#   worried friend's post self_harm: realistic.report).
_GUN = (r"(?:gun|guns|pistol|rifle|shotgun|glock|revolver|strap|piece|12 gauge|twelve gauge|20 gauge|gauge|9mm|9|22|"
        r"ar|ar15|ak|ak47|knife|blade|machete|taser|switchblade)")
_SCHOOL_TIME = (r"(?:tmrw|tomorrow|tmr|tonight|monday|tuesday|wednesday|thursday|friday|next week|this week|"
                r"that day|the day|after school|at lunch|\w+ period)")
THREAT_RULES += (
    # the one who wronged the poster, named by the wrong, and the harm coming to them ("whoever told
    # mrs p about my vape is getting their face smashed", "all the kids who said i smell will get
    # whats coming"). The old rules matched the harm but read "told"/"said" as a report: here the
    # match starts at "whoever", so the relative clause is the target, not a report.
    ("grievance_payback", _c(
        r"\b(?:whoever|whoeva|(?:(?:the|those|all the|all those|every|any) (?:one|ones|kid|kids|person|people|guy|guys|girl|"
        r"girls|snitch|snitches|rat|rats|boy|boys)|every(?:one|body)|any(?:one|body)|all of (?:them|yall|y'all|you))\s+"
        r"(?:who|that|dat))\s+(?:\w+\s+)?(?:told|snitched|ratted|said|called|laughed|posted|reported|shared|spread|recorded|"
        r"filmed|screenshotted|jumped|touched|messed|talked|lied|started)\b[^.!?\n]{0,50}?"
        r"\b(?:(?:is|are|'s|s)\s+)?(?:(?:gonna|going to|will|finna|bout to|about to)\s+)?(?:be\s+|all\s+)?"
        r"(?:getting|get|gets|catching|catch)\s+"
        rf"(?:(?:their|his|her|they|ur|your) {_BODY} (?:smashed|bashed|kicked in|kicked|caved in|broken|knocked out|split|busted)|"
        r"jumped|stabbed|shot|beat up|beaten|beat|smoked|bodied|hurt|what(?:'s| is|s) coming|"
        r"it in the (?:neck|face|head|throat|chest|gut|ribs))\b")),
    # "first one who tries me gets it in the neck": a standing promise of armed retaliation
    ("first_one_who", _c(
        r"\b(?:(?:the )?(?:first|next)|any|whoever|anybody|anyone)\s+(?:(?:one|person|kid|guy|girl|dude|boy|mf)\s+)?"
        r"(?:(?:who|that|to|dat)\s+)?(?:try|trys|tries|touch|touches|test|tests|step to|steps to|step up to|come at|comes at|"
        r"mess with|messes with|put hands on|puts hands on|lay a hand on|lays a hand on|swing on|swings on|swing at|"
        r"swings at|jump|jumps|run up on|runs up on)\s+(?:me|my (?:\w+ )?(?:brother|sister|cousin|friend|mom))\b"
        r"[^.!?\n]{0,30}?\b(?:is |'s |s )?(?:getting|gets|gonna get|going to get|will get|finna get|bout to get|catching|"
        r"catches|gonna catch|get)\s+(?:it in the (?:neck|face|head|throat|chest|gut|ribs|stomach)|stabbed|shot|poked|"
        r"sliced|cut|tased|shanked|blasted|popped|smoked|bodied|merked|the (?:knife|blade|strap|taser)|a bullet)\b")),
    # killing a named peer, said with a mark of real intent in the post (_NEEDS_MARK: a weapon on
    # hand, "dont tell nobody", "deadass"): "imma unalive jordan fr, got my dads thing in my bag"
    ("kill_named_marked", _c(
        rf"(?:{_BI}\s+|\b(?=(?:gonna|finna|bout to|about to|going to)\s)){_NEG}{_MOD}{_NEG}{_ADV}"
        r"(?:unalive|kill|murder|stab|shoot|merk|smoke)\s+"
        r"(?!(?:myself|my self|me|it|this|that|these|those|the|a|an|my|time|yourself|urself|herself|himself|ourselves|"
        r"everything|everyone|everybody|someone|somebody|anyone|people|for|off|in|at|on|with|some|all|every|tomorrow|"
        r"tmrw|tonight|today|fr|ong|deadass|whoever|whoevers|who|whatever|what|how|this|ur|your|his|her|their|them|him|you)\b)"
        rf"[a-z]{{3,}}\b{_NOT_GAME}")),
    # a warning to keep away from a place at a time, with the wink that says why not ("dont sit at
    # table 4 tmrw. just trust me", "dont ask what, just dont be there"); a stated reason ("its
    # broken") is ordinary advice
    ("cryptic_warning", _c(
        r"(?<!\bi )(?<!\bwe )(?<!\bu )(?<!\byou )"
        r"\b(?:don't|dont|do not)\s+(?:sit|be|go|come|stand|hang out|show up|stay)\s+(?:at|in|near|by|to|around|inside)\b"
        rf"[^.!?\n]{{0,30}}?\b{_SCHOOL_TIME}\b"
        r"(?![^\n]*\b(?:because|cause|cuz|since|unless|bring|broken|wet|sticky|gross|dirty|smells?|smelly|food|mopped|waxed|painted|spiders?|wasps?|"
        r"bees|surprise|party|decorat\w*|reserved|saved|sick|flu|covid|lice)\b)"
        r"[^\n]{0,40}?(?:\b(?:just )?trust me\b|\bthat'?s all (?:i'?m|im) (?:saying|sayin|gonna say)\b|"
        r"\b(?:you'?ll|youll|you will) see\b|\b(?:don't|dont|do not) ask (?:why|what|questions)\b)|"
        r"\b(?:don't|dont|do not) ask (?:why|what|questions)\s*[,.;-]?\s*(?:just\s+)?(?:don't|dont|do not) "
        r"(?:be there|come|show up|be in|be at)\b")),
    # a weapon (a word or the emoji normalization spells) packed for a day ("its packed in my
    # trombone case for tmrw 🎺🔫"); toys and props are not
    ("packed_for_the_day", _c(
        r"\b(?:packed|loaded|hidden|hid|stashed|tucked|ready)\b"
        r"(?![^\n]*\b(?:nerf|water gun|water guns|toy|toys|paintball|airsoft|prop|props|costume|glue gun|squirt|bubble|foam|"
        r"laser tag|hunting|range)\b)"
        r"\s+(?:up\s+)?(?:in|inside|under)\s+(?:my|the|his|her)\s+"
        r"(?:\w+\s+){0,2}?(?:case|bag|backpack|locker|trunk|car|hoodie|jacket|duffel|duffle|purse|binder|mattress|desk)\b"
        rf"[^.!?\n]{{0,30}}?\b(?:for\s+)?{_SCHOOL_TIME}\b(?=[^\n]{{0,40}}?\b(?:gun|guns|knife|knives|bomb|blade|pistol|glock)\b)")),
    # access to a household gun, stated ("i know where grandpa keeps his rifle", "i know the code
    # to my dads gun safe"): a plan's first step
    ("weapon_access", _c(
        r"\bi (?:know|found|figured out) where (?:my |our )?(?:\w+\s+){0,2}?(?:keeps|hides|stores|puts|locks up|keep|hide)\s+"
        r"(?:his|her|their|the|our|my)\s+(?:\w+\s+)?(?:gun|guns|rifle|rifles|pistol|shotgun|glock|revolver|ammo|bullets|"
        r"gun safe key|key to the gun safe)\b(?! (?:for|when) (?:hunting|deer season))|"
        r"\bi (?:know|found|figured out|got) the (?:code|combination|combo|key) (?:to|for) (?:my |our |the )?(?:\w+\s+)?"
        r"(?:gun safe|gun cabinet|gun case|gun locker)\b")),
    # a deadline for more pictures, or they go up on a fake account ("u got til 9 to send more or
    # they go up on the fake acct"); the older extortion rule leaves "or they ..." to reports
    ("extortion_deadline", _c(
        r"\b(?:you|u)\s+(?:got|have|get)\s+(?:til|till|until|untill|before|by)\s+(?:\S+\s+){1,2}?(?:to\s+)?"
        r"(?:send|pay|venmo|cashapp|give)\b[^.!?\n]{0,40}?\bor\s+(?:they|it|these|those|everything|em|the \w+|"
        r"(?:your|ur) \w+)\s+(?:go|goes|get|gets|going|gonna go|will go|end up)\s+(?:up\s+)?"
        r"(?:(?:on|to|in)\s+(?:the|a|my|your|ur|every|his|her)\s+(?:\w+\s+)?(?:acct|account|page|story|stories|finsta|insta|ig|"
        r"tiktok|snap|gc|group chat|feed)|public|viral|posted|leaked|(?:out|around) to (?:everyone|everybody|the whole))\b|"
        r"\b(?:send|pay|venmo|cashapp|zelle)\b[^.!?\n]{0,50}?\bor\s+(?:they|it|these|those|everything|em|the \w+)\s+"
        r"(?:go|goes|get|gets|going|will go|gonna go)\s+(?:up\s+)?(?:on|to)\s+(?:the|a|my|that)\s+"
        r"(?:fake|spam|burner|finsta|hate|exposed?|expose|tea)\s+(?:acct|account|page|insta|ig|tiktok|snap)\b")),
    # pictures held over someone: a condition on "you", and a group will see them ("u dont come
    # back to me and the whole ffa chapter sees them")
    ("exposure_ultimatum", _c(
        r"\b(?:pics|pictures|nudes|photos|videos|vids|screenshots|snaps|texts|dms)\b[^\n]{0,120}?"
        r"\b(?:you|u)\s+(?:don't|dont|do not|won't|wont|will not|better not|ever|stop|leave|break up|block|tell|ignore)\b"
        r"[^.!?\n]{0,50}?\b(?:and|or|then)\s+(?:the whole|ur whole|your whole|everyone|everybody|all of|ur|your)\s+"
        r"(?:\w+\s+){0,3}?(?:sees|see|gets|will see|gonna see|is gonna see|are gonna see|finds out about)\s+"
        r"(?:them|it|those|these|em|everything)\b|"
        r"\b(?:you|u)\s+(?:don't|dont|do not|won't|wont|will not|better not|ever|stop|leave|break up|block|tell|ignore)\b"
        r"[^.!?\n]{0,50}?\b(?:and|or|then)\s+(?:the whole|ur whole|your whole|everyone|everybody|all of|ur|your)\s+"
        r"(?:\w+\s+){0,3}?(?:sees|see|gets|will see|gonna see|is gonna see|are gonna see|finds out about)\s+"
        r"(?:(?:your|ur|the|those|these|all (?:your|ur|the)) (?:\w+\s+)?(?:pics|pictures|nudes|photos|videos|vids|"
        r"screenshots|snaps|texts|dms))\b")),
    # a gun where the poster can reach it, and an ultimatum ("my uncles 12 gauge is behind the seat
    # ... if tanner says one more word im done talkin")
    ("armed_ultimatum", _c(
        rf"\b(?:(?:my|his|her|the|a|our|\w+s|\w+'s)\s+(?:\w+\s+)?{_GUN}\s+(?:is\s+|'s\s+|s\s+|sits\s+|stays\s+|been\s+)?"
        rf"|(?:got|have|keep|put)\s+(?:a|the|my|his|our)\s+(?:\w+\s+)?{_GUN}\s+)"
        r"(?:behind|under|in|inside|on)\s+(?:the|my|his|our)\s+(?:\w+\s+)?(?:seat|truck|car|glovebox|glove box|closet|"
        r"bag|backpack|locker|drawer|trunk|dash|console|waistband|room)\b[^\n]{0,80}?"
        r"\b(?:if|when|one more|next time|the next time)\b[^\n]{0,60}?"
        r"\b(?:i'?m done (?:talking|talkin|talkn|playing|being nice|warning)|(?:it'?s|its) over|imma handle it|"
        r"(?:i'?ll|ill) handle it|no more talking|no more warnings)\b")),
)
# Spanish, Portuguese, Haitian Creole, Jamaican Patois, Nigerian Pidgin: the plain forms of "I'll
# kill you" and "I want to die" that district students write (holdout7: "cuando lo vea lo mato",
# "mi a go buss yuh head", "i go show am"). The models read too little of these languages to help.
# The threats need a mark of real intent in the post (_NEEDS_MARK: a time or place at school, a
# weapon, "no es broma", "m pa jwe", "mi nah romp", "dead serious"): "te voy a matar" about a
# borrowed hoodie is the everyday hyperbole, and with no such mark it is not matched at all.
# Laughter ("jaja", "kkkk", "rsrs", "lol", 😂) or a grievance over food makes any of these a joke
# (a weak, quoted score), as laughter does for the English "kill" rules; a negator just before
# ("no", "nunca", "nao", "pa", "nah") negates (_INTL_NEGATION). Choice written down: laughter
# outranks the intent mark, as for English ("im gonna kill u tomorrow lol" is a joke there too);
# a counselor still sees the weak score.
THREAT_RULES += (
    ("es_kill_you", _c(
        r"\b(?:(?:te|lo|la|los|las|le) (?:voy|vamos) a (?:matar|apunalar|disparar|quebrar|reventar|partir la (?:cara|madre)|"
        r"romper la cara|meter un (?:tiro|balazo|plomazo))|(?:te|lo|la|los|las) mato|(?:te|le) (?:meto|voy a meter) "
        r"(?:un tiro|un balazo|una bala|una punalada|plomo)|(?:te|lo|la) (?:quiebro|reviento|apunalo))\b")),
    ("pt_kill_you", _c(
        r"\b(?:(?:eu )?(?:vou|vo|vamos) te (?:matar|esfaquear|furar|quebrar|arrebentar|dar um tiro|meter bala)|"
        r"(?:eu )?(?:vou|vo) (?:matar|esfaquear|furar|meter bala n[oa]|dar um tiro n[oa]) (?:ele|ela|voce|vc|vcs|voces|eles|elas|"
        r"esse (?:menino|cara|moleque|garoto|maluco)|essa (?:menina|garota|mina))|(?:eu )?te mato|"
        r"(?:eu )?(?:mato|esfaqueio) (?:ele|ela|voce|vc|esse \w+|essa \w+)|"
        # round eight, second pass (pat8b): "vou quebrar a cara do gabriel no onibus amanha"
        r"(?:eu )?(?:vou|vo|vamos) (?:quebrar|arrebentar|amassar|socar) (?:a cara|a boca|os dentes|o nariz) (?:d[oae]|dele|dela)\b)\b")),
    ("ht_kill_you", _c(
        r"\b(?:m|mwen|n|nou)\s+(?:ap|pral|pra|prale|va|ava|gen pou)\s+(?:touye|tiye|frape|koupe|tire sou)\s+"
        r"(?:w|ou|li|l|yo|nou|msye|manzel)\b")),
    ("jm_kill_you", _c(
        r"\b(?:mi|me|ah)\s+(?:a go|ago|a guh|aguh|gwine|gwaan|wi|a|ah go|ah guh|haffi)\s+(?:kill|murda|murder|buss|box|lick|"
        r"juk|jook|stab|shot|shoot|chop|beat|mash up|bruk)\s+(?:yuh|yu|you|him|har|dem|unu|her|im)\b")),
    ("ng_kill_you", _c(
        r"\bi\s+(?:go|gon|don go|dey go)\s+(?:kill|stab|wound|finish|beat|deal with|show|jam|slap|cut)\s+"
        r"(?:you|u|am|una|dem|him|her)\b(?! (?:the|my|how|where|what|around|some|di|d|your|ur|this|that|am)\b)")),
)
SELF_HARM_RULES += (
    # "i don't want to die, i just want to not exist": the first clause's negation belongs to "die";
    # the wish the post states is the second (i_want_to_die read both as negated)
    ("not_die_just_not_exist", _c(
        r"\b(?:i (?:don't|dont|do not) (?:want to|wanna) (?:die|kill myself)|not that i (?:want to|wanna) (?:die|kill myself))"
        r"(?: (?:exactly|per se|technically|or anything))?\s*[,.]?\s*(?:but\s+)?(?:i\s+)?(?:just\s+|really\s+)*"
        r"(?:(?:want to|wanna|wish i could)\s+(?:just\s+)?(?:not (?:exist|be here|be alive|wake up|be around)|stop existing|"
        r"disappear|vanish|sleep forever)|(?:don't|dont|do not) (?:want to|wanna) (?:exist|be here|be alive|wake up|live))\b")),
    # giving possessions away with the word that they will not be needed ("giving away my sneakers
    # ... i won't be needing them after this week"); a stated reason (they don't fit, moving) is not
    ("giving_away", _c(
        # (the reason test follows the first word: at the start of the pattern it ran at every position)
        r"\b(?:giving|give|gave|gifting|handing)\b"
        r"(?![^\n]*\b(?:because|cause|cuz|since|fit|outgrew|too small|too big|moving|move|graduat\w*|new ones|upgrad\w*|"
        r"got new|donat\w*|yard sale|garage sale|selling|sell|spring cleaning|decluttering|quit|quitting)\b)"
        r"\s+(?:away\s+)?(?:all\s+)?(?:of\s+)?my\b[^\n]{0,90}?"
        r"\b(?:won't|wont|will not|not gonna|not going to)\s+(?:be\s+)?need(?:ing)?\s+(?:it|them|em|this|that|any of (?:it|this|them)|"
        r"my \w+)\s+(?:after|anymore|much longer|for much longer|soon|where|by|past)\b")),
    # not wanting to be alive for a birthday or a date ("ion wanna be alive for my 16th bday");
    # "ion" is "i don't"
    ("dated_not_alive", _c(
        r"\b(?:ion|i don't|i dont|i do not|i really don't|i really dont)\s+(?:wanna|want to|wana)\s+"
        r"(?:(?:be alive|live|live to see|make it to|still be alive|still be here)\s+(?:for|to|until|till|by|on|at|past)?\s*"
        r"(?:(?:my|the|next|this)\s+)?(?:\d+\w*\s+|sweet \w+\s+)?(?:birthday|bday|graduation|christmas|summer|new year|"
        r"new years|thanksgiving|senior year|prom)|"
        r"see\s+(?:(?:my|the)\s+)?(?:\d+\w*|sweet \w+|sixteen|seventeen|eighteen)\s+(?:birthday|bday)|"
        r"see (?:next|another) (?:christmas|summer|year|birthday|bday))\b")),
    # "kms" with the words that it is meant this time ("kms fr this time not the joke version"):
    # not the bare "kms" a kind gate outranks (pipeline.GATE_OUTRANKS_RULES); laughter still reads
    # it as a joke (_JOKE_RULES)
    ("kms_serious", _c(
        r"\bkill myself\b[^!?\n]{0,20}?\b(?:(?:fr|for real|deadass|actually|seriously) this time|this time (?:fr|for real|"
        r"i mean it|its real|it's real|no joke)|not (?:the|a) joke(?: version| this time)?|not joking (?:anymore|this time)|"
        r"i mean it this time|no joke this time)\b")),
    # restricting food, with a goal of nothing ("ate half an apple today ... trying for nothing tmrw")
    ("restriction_goal", _c(
        r"\b(?:ate|eaten|eat|had)\b[^\n]{0,80}?\b(?:trying|aiming|going|gonna go|goal is|planning|gonna try|tryna|"
        r"hoping)\s+(?:for|to (?:eat|have|do|go))\s+(?:nothing|zero|0|no food|only water|just water)\b(?! but)|"
        r"\b(?:goal|plan|aim)(?: is|:)? (?:to eat )?(?:nothing|zero|0 cal\w*|no food) (?:tmrw|tomorrow|all week|this week|"
        r"until|till|til)\b")),
    # a last look and a farewell ("last sunset from the wharf. see u on the other side 🖤"); "the
    # last day of school ... see u on the other side of summer" is not ("of", "of" after)
    ("last_goodbye", _c(
        r"\b(?:my )?(?:last|final) (?:sunset|sunrise|look|night|walk|breath|time (?:seeing|watching))\b"
        r"(?! (?:of|before|for|until|till|at school|in class)\b)[^\n]{0,80}?"
        r"\bsee (?:you|y'all|yall|everyone|everybody) (?:all )?(?:on the other side|in the next life|in another life|in heaven)\b"
        r"(?! (?:of|after)\b)")),
    # clothes worn to hide the arms ("wore a hoodie in gym again bc of my arms"); sunburn, cold
    # and rashes are reasons, not secrets
    ("covering_arms", _c(
        r"\b(?:wore|wear|wearing|wears|have to wear|had to wear|stuck wearing)\s+(?:a |my |long |the )?"
        r"(?:hoodie|hoodies|long sleeves?|sleeves|sweatshirt|sweater|jacket|bracelets|wristbands|arm warmers|band ?aids)\b"
        r"[^.!?\n]{0,40}?\b(?:because of|so (?:no one|nobody|noone) (?:sees|can see|notices)|to hide|to cover)\s+"
        r"(?:my|the)\s+(?:arms|wrists|thighs|scars|cuts|marks|burns)\b"
        r"(?![^.!?\n]{0,30}\b(?:being|getting|are|were|cold|sunburn\w*|burnt|mosquito|bites|rash|eczema|tattoo\w*|hairy|"
        r"hair|freckles|bruised from|cast|muscles)\b)")),
    ("es_want_to_die", _c(
        r"\b(?:me quiero morir|quiero morirme|quiero morir|me quiero matar|me voy a matar|me voy a suicidar|"
        r"me gustaria morir(?:me)?|quisiera morir(?:me)?|(?:ya|you) no quiero (?:vivir|estar aqui|existir|seguir)|"
        r"no quiero (?:vivir|seguir viviendo|existir) mas|no quiero seguir viviendo|"
        r"ojala (?:me muera|no despertar))\b")),
    ("pt_want_to_die", _c(
        r"\b(?:quero morrer|queria morrer|vou me matar|quero me matar|(?:nao|n) quero mais viver|"
        r"quero (?:sumir|desaparecer) (?:para|pra) sempre|(?:vou|quero) acabar com (?:a )?minha vida)\b")),
    ("ht_want_to_die", _c(
        r"\b(?:m|mwen)\s+(?:vle|ta vle|anvi)\s+(?:mouri|touye tet (?:mwen|m))\b|"
        r"\b(?:m|mwen)\s+(?:pral|ap|va)\s+touye tet (?:mwen|m)\b|\b(?:m|mwen) pa vle viv (?:anko|ank)\b")),
    ("jm_want_to_die", _c(
        r"\b(?:mi|me)\s+(?:just\s+)?(?:waan|wah|want)\s+(?:fi\s+|to\s+)?(?:dead|ded)\b(?! (?:wid|with|fi|from) (?:laugh|shame))|"
        r"\b(?:mi|me)\s+(?:a go|ago|gwine|wi)\s+kill\s+(?:miself|mi self|myself)\b|"
        r"\b(?:mi|me) (?:nuh|nah|don't|dont) (?:waan|wah|want) (?:fi |to )?(?:live|liv) (?:again|no more|nuh more)\b")),
    ("ng_want_to_die", _c(
        r"\bi\s+(?:just\s+)?wan\s+(?:just\s+)?die\b|\bmake i (?:just )?die\b|"
        r"\b(?:e go better|e go beta|e better|better) if i no (?:dey|de) (?:again|anymore|for this world)\b|"
        r"\bi (?:don |done )?tire for (?:this )?(?:life|world)\b|\bi no wan (?:dey|de|live) (?:again|anymore)\b")),
    # a friend's danger, reported: pills taken or stored up, an intent and then silence, a goodbye
    # to school "or ever" (holdout7 concern posts). _CONCERN_RULES: the report is what they read.
    ("friend_took_pills", _c(
        r"\b(?:she|he|they|she's|shes|he's|hes|they're|my friend|my bestie|my best friend|my sister|my brother|my cousin|"
        r"my gf|my bf|my girlfriend|my boyfriend)\s+(?:just\s+|already\s+)?(?:took|swallowed|downed|has taken|took like)\s+"
        r"(?:a bunch of|a lot of|all (?:of )?(?:her|his|their|the)|a handful of|a bottle of|the whole bottle of|\d+|like \d+|"
        r"so many|too many|a ton of|enough)\s+(?:(?:her|his|their|the|of (?:her|his|their))\s+)?(?:\w+\s+)?"
        r"(?:pills|meds|tylenol|advil|sleeping pills)\b|"
        r"\b(?:she|he|they|my friend)(?:'s|s|'ve|ve)?\s+(?:(?:has|have|got|is|been)\s+){0,2}"
        r"(?:(?:saving|stockpiling|hoarding|collecting|hiding)\s+(?:up\s+)?(?:her|his|their|the|some)?\s*(?:\w+\s+)?"
        r"(?:pills|meds)|(?:(?:a bunch of|a lot of|some|her|his|the)\s+)?(?:\w+\s+)?(?:pills|meds)\s+"
        r"(?:saved|stashed|hidden|saved up|stockpiled|hoarded))\b")),
    ("friend_silent_after", _c(
        r"\b(?:she|he|they|my friend|friend)(?:'s| is| are|s)?\s+(?:gonna|going to|about to|finna|wants to|will)\s+"
        r"(?:kill (?:myself|herself|himself|themselves)|end it|end (?:her|his|their) life|unalive (?:herself|himself))\b"
        r"[^\n]{0,60}?\b(?:not answering|isn't answering|isnt answering|won't answer|wont answer|stopped answering|"
        r"not picking up|not responding|stopped responding|won't respond|wont respond|phone (?:is )?off|location (?:is )?off|"
        r"went offline|blocked (?:everyone|everybody|me)|deleted (?:her|his|their) (?:account|acc|insta|snap))\b")),
    ("never_coming_back", _c(
        r"\b(?:i|i'm|im|i am|i'll|ill)\s+(?:not gonna|not going to|won't|wont|will not|ain't|aint|not)\s+(?:be|come)\s+"
        r"(?:back\s+)?(?:(?:at|to|in)\s+)?(?:school|class|practice|here|there|around)?\s*"
        r"(?:tomorrow|tmrw|monday|tuesday|wednesday|thursday|friday|next week)?\s*[,.]?\s*or\s+ever(?: again)?\b")),
)
# --- round eight, second pass (pat8b): kinds holdout8's misses showed (read after its one scoring) ---
# Each rule is written for the kind and tested on our own paraphrases and harmless twins
# (tests/classifiers/test_round_eight_holdout_patterns.py); none fires plainly on a seed or dev-set
# negative (measured with the seed posts and every dev set before commit).
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
BULLYING_RULES += (
    # a sexual or medical rumour about someone and the call to pass it on ("gabi got an abortion last
    # summer, her cousin told me. spread it"); news of the poster's own family is not ("my", "our")
    ("stigma_rumor_spread", _c(
        r"(?<!\bmy )(?<!\bour )(?<!\bthe )(?<!\blittle )(?<!\bbaby )(?<!\bbig )"
        r"\b(?!(?:my|our|i|me|we|school|class|team|dog|cat|brother|sister|mom|dad|cousin|grandma|grandpa|aunt|uncle|"
        r"family|everyone|everybody|people|kids|someone|somebody)\b)[a-z]+(?:'s)?\s+(?:got|had|has|have|caught|gave \w+)\s+"
        r"(?:an abortion|abortion|an std|std|stds|herpes|lice|crabs|chlamydia|gonorrhea|hiv|syphilis|scabies|worms)\b"
        r"[^\n]{0,80}?\b(?:spread it|spread this|pass it on|pass it around|tell everyone|tell everybody|share this|"
        r"spread the word|repost this|make it go around)\b(?!\s+(?:to|that|about|if|how|so))")),
)
_BUILDING = (rf"(?:{_SCHOOL_SPACES}|building|band room|music room|music building|choir room|locker room|auditorium|"
             r"theater|theatre|classroom|\w+ room|\w+ building|\w+ wing|field house|fieldhouse|stadium|bleachers|"
             rf"stage|{_SCHOOL_EVENTS})")
THREAT_RULES += (
    # "u dead monday", "ur dead after practice": a death foretold for a day (the older rule knew
    # only tomorrow, tonight, after school); a condition or laughter after it is the everyday
    # hyperbole ("ur dead friday if u forget my charger")
    ("dead_on_day", _c(
        r"\b(?:you|u|ur|your|you're|youre|you are|ya)\s+(?:r\s+|is\s+|so\s+)?dead\s+(?:on\s+|this\s+|next\s+|come\s+)?"
        rf"(?:{_WEEKDAY}|tmrw|tmr|2moro|after practice|after the game|after class|at lunch|in the (?:parking )?lot|"
        r"at the game|at practice|this weekend|next period)\b"
        r"(?![^.!?\n]{0,40}\b(?:if|unless|when|lol|lmao|haha|jk|for (?:real|forgetting|eating|taking)|cuz|bc|because|coach|"
        r"test|quiz|exam|homework|mom|dad)\b)")),
    # finding someone at a place and the harm done there ("i'll find him at the game and put him in
    # the hospital"): the older rule needed "put" right after the subject
    ("find_and_harm", _c(
        rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}(?:find|catch|see|get|meet|wait for|track down)\s+(?:him|her|them|you|u|ya|\w+)\b"
        r"[^.!?\n]{0,50}?\b(?:and|then|n|&)\s+(?:(?:just|gonna|i'll|ill|imma)\s+)?"
        r"(?:put|send)\s+(?:him|her|them|you|u|ya|\w+)\s+(?:in|into|to|in the back of)\s+(?:the|a)\s+"
        r"(?:hospital|er|icu|ground|grave|body bag|wheelchair|coma|morgue|ambulance)\b")),
    # the next one who does X "gets their fingers broken" (first_one_who knew stabbing and shooting)
    ("next_one_broken", _c(
        r"\b(?:the )?(?:next|first|any|whoever|anybody|anyone)\s+(?:(?:one|person|kid|guy|girl|dude|boy|mf)\s+)?"
        r"(?:(?:who|that|to|dat)\s+)?[^.!?\n]{0,50}?\b(?:gets|getting|is getting|will get|gonna get|going to get|finna get)\s+"
        rf"(?:their|his|her|they|ur|your|both)\s+{_BODY}\s+(?:broken|broke|smashed|snapped|bashed|caved in|kicked in|cracked|"
        r"busted|cut off|stomped)\b")),
    # an explosive and a school place ("something that goes boom ... the band room during zero
    # hour", "💣 auditorium 💣 opening night"); "bombed the test", "bath bomb", "the bomb" are not
    ("explosive_place", _c(
        r"\b(?:something|somethin|smth|sumn|a thing|stuff)\s+(?:that\s+|which\s+|to\s+)?(?:goes|go|will go|gonna go|makes?)\s+"
        r"(?:boom|kaboom|bang)\b[^\n]{0,80}?\b" + _BUILDING + r"\b|"
        # ("\b(?:bomb)": _c would squeeze the "bb" of a bare "\bbomb")
        r"(?<!\b(?:bath) )(?<!\bphoto)(?<!\bthe )(?<!\bda )(?<!\bf )(?<!\bf-)\b(?:bomb)\s+(?:the\s+)?"
        r"(?:auditorium|gym|cafeteria|band room|music room|library|school|stadium|field house|fieldhouse|locker room|"
        r"\w+ building)\s+bomb\b")),
    # a way in and something to burn ("i still have a key to the music building and a lot of
    # gasoline"), either order
    ("arson_means", _c(
        r"\b(?:key|keys|code|way in)\s+(?:to|for)\s+(?:the\s+)?" + _BUILDING + r"\b[^\n]{0,80}?"
        r"\b(?:gasoline|gas can|gas cans|jerry can|lighter fluid|kerosene|accelerant|a lighter and|matches and)\b|"
        r"\b(?:gasoline|gas can|gas cans|jerry can|lighter fluid|kerosene|accelerant)\b[^\n]{0,80}?\b(?:key|keys|code)\s+"
        r"(?:to|for)\s+(?:the\s+)?" + _BUILDING + r"\b")),
    # "keep auditioning and see what happens to your face": a condition on the reader's own doing and
    # harm to the body; skin care is not ("keep using that cream and see what happens to your face")
    ("see_what_happens_body", _c(
        r"\b(?:keep|try|go ahead and|do (?:it|that) again|one more (?:time|word))\b(?:\s+(?:(?!(?:using|lifting|training|working|eating|washing|running|practicing|"
        r"stretching|studying|drinking|sleeping|applying|wearing)\b)\w+ing|it|that|me)(?:\s+again)?)?\s*[,.]?\s*(?:and|then|n)\s+"
        r"see what happens to (?:your|ur|ya) (?:face|teeth|legs?|arms?|knees?|kneecaps|fingers?|hands?|nose|jaw|car|locker)\b"
        r"(?![^\n]*\b(?:cream|serum|retinol|moistur\w*|skincare|skin care|acne|product|products|mask|sunscreen|lotion|"
        r"washing|wash|scrub|toner|braces|floss\w*|dentist|stretch\w*|workout|lifting|squats?|gym)\b)")),
    # "tell lucas to keep looking over his shoulder": the imperative or the future, not a
    # description ("she keeps looking over her shoulder") or the poster's own fear ("my")
    ("over_the_shoulder", _c(
        r"\b(?:(?:tell|told)\s+\w+\s+(?:to\s+)?(?:keep|start)\s+|(?:he|she|they|you|u|ya)(?:'d|d| had)?\s+better\s+"
        r"(?:start\s+|keep\s+)?|(?:he|she|they|you|u)(?:'ll|ll| will| gonna| is gonna| are gonna)\s+(?:be\s+|have to\s+)?"
        r"(?:keep\s+)?|^\s*(?:keep|start)\s+|[.!?,]\s*(?:keep|start)\s+)"
        r"(?:looking|watching|look|watch|checking|check)\s+over\s+(?:his|her|their|your|ur|ya)\s+shoulders?\b")),
    # tampering said another way: the substance first ("snuck bleach into the thermos she leaves on
    # the piano"), or "she deserves what i put in it" with food named in the post
    ("tamper_snuck", _c(
        r"\b(?:snuck|sneak|sneaking|slipped|slip|put|added|dumped|poured|mixed|spit)\s+(?:some\s+|a little\s+|a bit of\s+)?"
        r"(?:bleach|rat poison|poison|laxatives?|ex ?lax|visine|eye drops|antifreeze|drain cleaner|dish soap|cleaner|"
        r"lighter fluid|crushed glass)\s+(?:in|into|inside)\s+(?:the|that|his|her|their|\w+'s|\w+s)\s+(?:\w+\s+)?"
        r"(?:thermos|water bottle|bottle|drink|coffee|lunch|lunchbox|food|soda|juice|tea|gatorade|cup|smoothie|shake|rice|"
        r"sandwich|milk|snack)\b|"
        r"\b(?:she|he|they)\s+(?:deserves?|deserve|gets?|is getting)\s+what(?:ever)?\s+i\s+(?:put|slipped|mixed|added|did)\s+"
        r"(?:in|into)\s+(?:it|them|that|her \w+|his \w+)\b"
        r"(?![^\n]*\b(?:love|seasoning|spice|sugar|salt|hot sauce|extra cheese)\b)")),
    # "we'll be outside ... and we're not coming to talk"
    ("not_coming_to_talk", _c(
        r"\b(?:outside|waiting|pull up|pulling up|show up|showing up|be there|out front|in the lot|at the door)\b"
        r"[^\n]{0,60}?\b(?:we're|were|we are|i'm|im|i am|they're|theyre|we|i)\s+(?:not|aint|ain't)\s+"
        r"(?:coming|showing up|pulling up|there|here|gonna be there)\s+(?:there\s+|here\s+)?to\s+(?:talk|chat|argue|debate)\b")),
    # "showing up with something else. wear ur vests"
    ("wear_vests", _c(
        r"\bwear\s+(?:ur|your|ya|a|yall'?s?)\s+(?:bullet ?proof|bulletproof|kevlar)\s+vests?\b|"
        r"\b(?:showing up|show up|coming|pulling up|bringing)\b[^\n]{0,40}?\b(?:something|smth|sumn|somethin)\s+"
        r"(?:else|special|extra|different)\b[^\n]{0,40}?\bwear\s+(?:ur|your|ya|yall'?s?)\s+vests?\b")),
    # "i'll have something in my backpack that wins every argument 🔫" (the gun emoji or word after)
    ("something_in_bag_gun", _c(
        r"\b(?:i'?ll|ill|i will|i'm|im|i am|imma|ima|gonna)\s+(?:have|bring|bringing|be bringing|carrying|be carrying|carry|packing|be packing|pack)\s+"
        r"(?:something|somethin|smth|sumn|a little something|a surprise)\s+(?:in|inside)\s+my\s+"
        r"(?:backpack|bag|locker|hoodie|pocket|jacket|car|trunk|waistband)\b[^\n]{0,60}?\b(?:gun|guns|pistol|glock|knife)\b")),
    # "getting unalived": the softened word for killing, said of someone with a condition or mark
    ("getting_unalived", _c(
        r"\b(?!i\b|im\b|i'm\b|me\b)\w+(?:'s)?\s+(?:is |'s |s )?(?:getting|gonna get|going to get|about to get|will get|gets|"
        r"finna get|bout to get)\s+unalived\b")),
    # "if you were ever nice to me, stay home that night": who is to be spared, the leakage of a plan
    ("spare_the_kind", _c(
        r"\b(?:stay home|stay away|don't come|dont come|do not come|don't sit|dont sit|don't be|dont be|don't go|dont go|skip)\b"
        r"[^.!?\n]{0,60}?\bif (?:you|u|ya) (?:were |was |have been |ever )*(?:ever |actually |really )?"
        r"(?:nice to me|liked me|like me|cared about me|care about me|were nice)\b|"
        r"\bif (?:you|u|ya) (?:were |was |have been |ever )*(?:ever |actually |really )?(?:nice to me|liked me|like me|"
        r"cared about me|care about me)\b[^.!?\n]{0,20}?\b(?:stay home|stay away|don't come|dont come|"
        r"do not come|don't sit|dont sit|don't be there|dont be there|don't go|dont go|skip)\b")),
)
# a friend's danger already taken to an adult: the post is the help asked for next (the seed posts
# label "... i called her mom. is there anything else i should do" help, not concern)
_ALREADY_TOLD = (r"(?![^\n]*\b(?:i|we) (?:already |just )?(?:called|told|texted|contacted|messaged|woke up|got) "
                 r"(?:her|his|their|my|our|the|a) (?:mom|mum|dad|parents?|counselou?r|teacher|principal|coach|police|cops|"
                 r"school resource officer|sro)\b|\b(?:i|we) (?:already |just )?called (?:911|988|the police|the cops)\b)")
SELF_HARM_RULES += (
    # a dated plan stated as a countdown or a chosen date ("counting down to graduation so i can
    # finally do it", "i picked a date. it's after the spring show")
    ("picked_a_date", _c(
        r"\bcounting (?:down )?(?:the days )?(?:to|till|til|until)\s+(?:my\s+|the\s+)?\w+(?:\s+\w+)?\s+so (?:i|that i) can "
        r"(?:finally |just )?(?:do it|end it|go|be gone|be free|disappear|kms|die|stop)\b(?!\s+(?:to|with|on|for|home|get|see|"
        r"the|a|my)\b)|"
        r"\bi (?:picked|chose|set|have|got|already picked|finally picked) (?:a|the|my) date\b(?! (?:for|with|to)\b)"
        r"(?=[^\n]*\b(?:unalive|kms|kill myself|die|dying|end it|gone|ruin it for|do it|goodbye|sorry|suicide|after the|"
        r"so (?:nobody|no one|noone) (?:blames|thinks it|feels))\b)")),
    # a condition met and an overdose promised ("if we lost id take the whole bottle. we lost");
    # a drink named after "bottle" is not ("the whole bottle of ranch")
    ("whole_bottle", _c(
        r"\b(?:(?:i'd|id|i'll|ill|i would|i will|i'm gonna|im gonna|i am gonna|imma|ima|i'm going to|im going to|"
        r"i'm just gonna)\s+(?:just\s+)?(?:take|swallow|down)|i'm taking|im taking|i am taking|i took|i swallowed)\s+"
        r"(?:the whole|a whole|the entire|all (?:of )?(?:the|my|her|his)|every(?: one of (?:the|my))?)\s+"
        r"(?:(?:mom|moms|mom's|dad|dads|dad's|grandma's|grandmas|grandpas|grandpa's|sister's|sisters|brothers|brother's)\s+)?"
        r"(?:bottle|pills|meds|tylenol|advil|sleeping pills|pill bottle|prescription|thing of pills)\b"
        r"(?!\s+of\s+(?:water|gatorade|soda|ranch|ketchup|hot sauce|juice|coke|pepsi|sprite|milk|wine|shampoo|lotion|"
        r"sriracha|syrup|vitamins|gummies))(?![^.!?\n]{0,20}\b(?:vitamins?|gummies|allergy|antibiotics?)\b)")),
    # a little closer to the edge where the train comes ("standing a little closer to the edge every
    # morning")
    ("closer_to_edge", _c(
        r"\b(?:standing|stand|stood|step|stepping|stepped|leaning|lean|getting|get|inching|walking)\s+"
        r"(?:a (?:little|bit|lil|lot) |a little bit |even |just )?closer (?:and closer )?to (?:the )?(?:edge|tracks|ledge|rail|"
        r"yellow line)\b(?=[^\n]*\b(?:train|rail|tracks|platform|bridge|roof|rooftop|subway|commuter|overpass|metro|t stop|"
        r"every (?:morning|day|night)|each (?:morning|day))\b)(?![^\n]*\b(?:stage|pool|cliff jump|photo|pic|selfie|canyon view)\b)")),
    # letters left "if u find them, sorry", or notes with a farewell to all
    ("letters_if_found", _c(
        r"\b(?:wrote|written|writing|left|leaving|finished)\s+(?:a few |some |all |the |my )?(?:letters|notes|a letter|a note)\s+"
        r"(?:for|to)\s+(?:my|the|everyone|each)\b[^\n]{0,100}?"
        r"\b(?:if (?:you|u|anyone|someone|somebody|they|ya) finds? (?:them|it|these|those|em)|thanks for everything|"
        r"thank (?:you|u) for everything|love (?:you|u|yall|y'all) all|goodbye (?:everyone|all|guys)|bye (?:everyone|guys))\b")),
    # giving things away with a farewell ("gave my letterman jacket to my little brother ... thanks
    # for everything guys. love u all"), or "won't be needing them" at the end of a sentence
    ("giving_away_farewell", _c(
        r"\b(?:giving|give|gave|gifted|handed)\b"
        r"(?![^\n]*\b(?:because|cause|cuz|since|fit|outgrew|too small|too big|moving|move|graduat\w*|new ones|upgrad\w*|"
        r"got new|donat\w*|yard sale|garage sale|selling|sell|spring cleaning|decluttering|quit|quitting|birthday|bday|"
        r"christmas|gift)\b)"
        r"\s+(?:away\s+)?(?:all\s+)?(?:of\s+)?my\b[^\n]{0,100}?"
        r"(?:\b(?:(?:thanks|thank (?:you|u)) for everything (?:guys|yall|y'all|everyone|all|fam)|love (?:u|you|yall|y'all) all|"
        r"goodbye everyone|bye everyone|"
        # round nine, second pass (pat9b): "yall were the realest. dont be mad at me"
        r"(?:don't|dont|do not) be mad at me|(?:yall|y'all|you guys|u guys|you all) (?:were|was) the (?:realest|best)|"
        r"remember me)\b|\b(?:won't|wont|will not|not gonna|not going to)\s+(?:be\s+)?need(?:ing)?\s+(?:it|them|em|this|that)"
        r"\s*(?:[.!,\n]|$))")),
    # self-injury in Spanish and Portuguese ("me corté otra vez"); a haircut or a finger is not
    ("es_pt_self_injury", _c(
        r"\b(?:me volvi a cortar|volvi a cortarme|me lastime a proposito|me cortei de novo|me cortei outra vez|"
        r"me (?:corte|estoy cortando|sigo cortando|cortei)\s+(?:otra vez|de nuevo|again|de novo|outra vez|los brazos|"
        r"las munecas|las piernas|os bracos|os pulsos))\b(?!\s+(?:el|mi|o|a|meu|minha)\s+(?:pelo|cabello|fleco|flequillo|dedo|cabelo|franja|unas))")),
    # "i'm making it stop soon, for good"
    ("stop_for_good", _c(
        r"\b(?:i'm|im|i am|i'll|ill|imma|ima|gonna|going to|i will)\s+(?:gonna\s+|going to\s+|just\s+)?(?:make|making)\s+"
        r"(?:it|this|everything|all of it|the pain|it all)\s+(?:all\s+)?stop\s*(?:soon\s*)?[,.]?\s*(?:for good|forever|permanently)\b")),
    # "won't be at practice monday. or anywhere after this weekend"
    ("or_anywhere_after", _c(
        r"\b(?:won't|wont|will not|not gonna|not going to|don't think i'?ll|dont think ill|do not think i will)\s+be\s+"
        r"(?:at|in)\s+\w+(?:\s+\w+){0,2}?\s*[.,]?\s*(?:or|and not)\s+anywhere\s+(?:after|past|else after|ever again|beyond)\b")),
    # "i dont want to die exactly i just want to stop waking up" (not_die_just_not_exist knew
    # "not wake up", "stop existing")
    ("stop_waking_up", _c(
        r"\bi (?:don't|dont|do not) (?:want to|wanna) (?:die|kill myself)(?: (?:exactly|per se|technically|or anything))?"
        r"\s*[,.]?\s*(?:but\s+)?(?:i\s+)?(?:just\s+|really\s+)*(?:want to|wanna|wish i could)\s+(?:just\s+)?"
        r"(?:stop (?:waking up|being alive|living|being here)|go to sleep and (?:not|never) wake up)\b")),
    # a friend's danger, reported (_CONCERN_RULES): a goodbye posted and then silence, a plan for
    # tonight, "keeps saying 'i wish i could just not wake up'", a brother who "wants to die"
    ("friend_goodbye_silent", _c(
        r"\b(?:posted|wrote|texted|sent|said|put)\s+['\"]?\s*(?:goodbye|bye|goodbye to|love you) (?:everyone|everybody|all|guys|"
        r"yall|y'all|world|all of (?:you|u)|forever)\b[^\n]{0,80}?\b(?:not answering|isn't answering|isnt answering|won't answer|"
        r"wont answer|stopped answering|not picking up|not responding|isnt responding|isn't responding|stopped responding|"
        r"phone (?:is )?off|location (?:is )?off|went offline|left (?:every|all the) (?:gc|group)|logged off|logged out|"
        r"deleted (?:her|his|their) (?:account|acc|acct))\b" + _ALREADY_TOLD +
        r"(?![^\n]*\b(?:plane|flight|trip|vacation|camp|lol|lmao|haha|asleep|sleeping|phone died|battery)\b)")),
    ("friend_plan_tonight", _c(
        r"\b(?:he|she|they|my friend|someone|somebody)\s+(?:(?:in|on|from) (?:our|my|the) (?:\w+\s+){0,2}?)?(?:just\s+)?"
        r"(?:said|says|told us|told me|posted|texted)\s+"
        r"(?:that\s+)?(?:they|he|she)\s+(?:have|has|had|got)\s+a plan\b[^.!?\n]{0,30}?\b(?:and\s+)?"
        r"(?:tonight(?:'s|s| is) the night|it'?s tonight|(?:to|for) (?:tonight|end it|kill (?:themselves|himself|herself)))\b"
        + _ALREADY_TOLD)),
    ("friend_wants_to_die", _c(
        r"\b(?:he|she|they|my (?:lil |little |big |younger |older |best |close )?(?:bro|brother|sis|sister|friend|bff|bestie|cousin)"
        r"(?:\s*\(\d+\))?)\s+(?:\w+\s+)?(?:said|says|told me|keeps saying|keep saying|kept saying|has been saying|been saying|"
        r"keeps texting|texted me)\s+['\"]?(?:that\s+)?(?:(?:he|she|they)\s+(?:wants|want|wanna) to (?:die|kill (?:himself|"
        r"herself|themselves)|not be alive|not be here)|i (?:wish i could|want to|wanna) (?:just )?(?:not wake up|die|"
        r"disappear forever|not exist|kill myself))\b"
        r"(?!\s+(?:of|on that hill|laughing|from|lol|lmao|if|when|after)\b)" + _ALREADY_TOLD +
        # (a post that asks only how to help is labelled help in holdout: "... and idk how to help her")
        r"(?![^\n]*\b(?:idk|i don'?t know|i dont know|dunno) how to help (?:her|him|them)\b)"
        # (a song, a show: "she told me i want to die is her favorite song")
        r"(?![^\n]*\b(?:song|songs|lyrics?|movie|show|book|quote|line|meme|tiktok sound|sound|album)\b)")),
)
# --- round nine (pat9): bullying that names no insult word of the older rules -------------------
# Written for kinds of post the shipped models ranked just under the bullying threshold on the dev
# sets (holdout8's misses, read after its scoring), before holdout9 was scored; each is tested on
# paraphrases of our own and harmless twins (tests/classifiers/test_round_nine_patterns.py) and
# fires plainly on no seed or dev-set negative.
# Slurs for gay, trans and disabled students, in the forms teens mask them with ("f*g"); racial
# slurs are left to the models: their reclaimed, friendly use is the dialect check's concern.
_SLUR = (r"(?:fag|faggot|fags|faggots|f\*g|f\*ggot|f\*\*|fgt|tranny|trannies|retard|retards|retarded|tard|"
         r"dyke|maricon|marica|joto|viado|bicha|masisi)")
# who the slur is aimed at: the reader, a "he" or "she", a named peer only with "is a" ("jake is a
# f*g"; "this homework is retarded" is not aimed at a person)
_PERSON_IS = (r"(?:you're|youre|you are|ur|u r|u|you|your|he's|hes|he is|she's|shes|she is|"
              r"bro is|bro's|bros|this kid is|that kid is|this kid|that kid)")
BULLYING_RULES += (
    # a slur aimed at someone ("stop being a f*g victor", "bro is such a retard", "say it with me:
    # maricon. tag him"); the poster about themself ("im such a f*g for this song") and a victim
    # ("they called me a f*g") are not
    ("slur_at_peer", _c(
        # (not a report of it: "keeps calling you retarded", "call him a f*g")
        rf"(?<!\bcalling )(?<!\bcalled )(?<!\bcall )(?<!\bcalls )\b{_PERSON_IS}\s+(?:(?:such|so|a|an|the|lowkey|literally|actually|fr|a total|a whole|the biggest|being|"
        rf"acting like|lookin like|looking like|looks like|look like)\s+){{0,3}}{_SLUR}(?![\w*])|"
        rf"\b[a-z]+ is (?:(?:such|so|literally|lowkey|actually|a total|the biggest)\s+)*an? {_SLUR}(?![\w*])|"
        rf"\bstop (?:being|acting like) (?:such )?an? {_SLUR}(?![\w*])|"
        rf"\b(?:say it (?:with|w|wit) me|(?:everyone|everybody|yall|y'all|let'?s all|we should all) call (?:him|her|them)(?: an?)?)"
        rf"\s*[:,]?\s*{_SLUR}(?![\w*])|"
        rf"\b{_SLUR}\s*[.!,]*\s*(?:tag|@) (?:him|her|them)\b")),
    # classmates rated, ranked or tier-listed ("rate the new freshman's art 1-10 in the replies",
    # "we ranked the ensemble by who'd be missed"); rating songs, food, a fit of one's own is not
    ("rate_peer", _c(
        r"\brate (?:her|him|them|(?:this|that|the new) (?:girl|boy|kid|guy|dude|freshman|transfer)(?:'s)?|[a-z]+'s)"
        r"(?:\s+(?:\W*\w+\W*\s+){0,2}?)?\s*(?:1 ?- ?10|1 to 10|one to ten|out of 10|out of ten|on a scale)\b"
        r"[^\n]{0,60}?\b(?:in the (?:replies|comments|gc|chat)|i'?ll start|ill go first|go)\b|"
        r"\b(?:we |i |just |me and \w+ )?(?:ranked|rank|ranking|rated|rating|tier ?listed|made a tier ?list of)\s+"
        r"(?:the|our|every|all the|everyone in|everybody in)\s+(?:\w+\s+)?(?:girls|boys|class|grade|team|ensemble|cast|band|"
        r"squad|freshmen|sophomores|juniors|seniors|section|choir|gc)"
        r"(?:\s+(?:in|from|on|of) (?:our|the|my) (?:grade|class|team|school|cast|band|gc|section))?\s+(?:by|from|on)\s+"
        r"(?:their\s+)?(?:looks|face|faces|body|bodies|weight|hotness|attractiveness|ugliness|"
        r"how (?:ugly|fat|annoying|weird|dumb|cringe|bad|poor|much (?:they'?d|they would|we'?d|we would) (?:be missed|miss them))|"
        r"who'?d be missed|who would be missed|ugliest|dumbest|fattest|weirdest|most annoying)\b")),
    # praise that mocks a trait ("so brave with ur body type", "so brave of you to audition with that
    # voice"); mock_praise knew only bravery for wearing or posting something
    ("brave_with_trait", _c(
        r"\bso brave\b[^.!?\n]{0,50}?\b(?:with|knowing|given|having|considering)\s+(?:how\s+)?(?:that|ur|your|those|ya|u)\s+"
        r"(?:body|body type|voice|face|weight|skin|acne|teeth|nose|hair|legs|size|forehead|laugh|accent|stutter)\b"
        r"(?!\s+(?:journey|glow ?up|progress|transformation))")),
)
_INTL_RULES = frozenset({"es_kill_you", "pt_kill_you", "ht_kill_you", "jm_kill_you", "ng_kill_you",
                         "es_want_to_die", "pt_want_to_die", "ht_want_to_die", "jm_want_to_die", "ng_want_to_die"})
_CONCERN_RULES = frozenset({"friend_took_pills", "friend_silent_after", "never_coming_back",
                            # round eight, second pass (pat8b)
                            "friend_goodbye_silent", "friend_plan_tonight", "friend_wants_to_die",
                            # round nine, second pass (pat9b)
                            "friend_not_eating_fainted", "friend_gave_away",
                            # round nine, third pass (pat9c)
                            "friend_says_better_off", "friend_wants_to_die_es"})
# the marks of real intent some rules need somewhere in the post (squeezed text, like the rules)
_INTENT_MARK = (r"dead serious|(?:i have|i got|got) the stuff to do it|deadass|dead ass|not playing|i'?m not playing|im not playing|no cap|on god|fr fr|"
                r"(?:don't|dont|do not) tell (?:nobody|anyone|no one|noone|anybody)|"
                r"(?:got|have|brought|bringing|packed|carry|carrying)\s+(?:my |a |the |his |her |our )?(?:\w+s\s+|\w+'s\s+)?"
                r"(?:thing|piece|strap|gun|knife|blade|heat|burner|blicky|pole|glock|pistol|rifle|taser|machete|"
                r"something for (?:him|her|them|you|u))")
_NEEDS_MARK = {
    # round eight, second pass (pat8b): food or drink named somewhere in the post ("tell nayeli not to eat
    # my rice ... she deserves what i put in it")
    "tamper_snuck": _c(r"\b(?:rice|food|lunch|lunchbox|drink|plate|potluck|bottle|water bottle|thermos|cup|coffee|cake|cookies|"
                       r"brownies|dish|soup|snack|soda|juice|tea|gatorade|smoothie|shake|sandwich|milk)\b"),
    # round eight, second pass (pat8b): "is getting unalived" with a condition or a mark ("if he keeps
    # texting my gf ... i have the stuff to do it"); a character in a show is not
    "getting_unalived": _c(r"\b(?:" + _INTENT_MARK + r"|if (?:he|she|they|u|you|ya) (?:keeps?|does|says|touches|texts|talks|"
                           r"ever|don't|dont|doesn't|doesnt|comes?|shows? up|looks?)|not joking|(?:i have|i got|got) the stuff|"
                           r"i'?m serious|im serious|dead serious)\b"),
    "kill_named_marked": _c(r"\b(?:" + _INTENT_MARK + r")\b"),
    "es_kill_you": _c(r"\b(?:" + _INTENT_MARK + r"|manana|a la salida|"
                      # round nine (pat9b): lying in wait ("lo voy a esperar afuera ... cuando salga")
                      r"(?:lo|la|te|los|las) (?:voy|vamos) a esperar|cuando salga|afuera del?|despues de (?:clase|la escuela|escuela)|"
                      r"en la (?:escuela|prepa|secundaria)|en el (?:recreo|salon)|no es broma|en serio|hablo en serio|"
                      r"no estoy jugando|no juego|(?:tengo|traigo|llevo|ya tengo) (?:una |un |la |el |mi )?"
                      r"(?:pistola|cuchillo|navaja|arma|fierro|cuete|pipa))\b"),
    "pt_kill_you": _c(r"\b(?:" + _INTENT_MARK + r"|amanha|na saida|depois da aula|na escola|no colegio|no intervalo|"
                      r"e serio|(?:to|tou|estou) falando serio|nao (?:to|tou|estou) brincando|nao e brincadeira|"
                      r"(?:tenho|trouxe|levo|vou levar) (?:uma |um |a |o |minha |meu )?(?:arma|faca|pistola|revolver|canivete|oitao))\b"),
    "ht_kill_you": _c(r"\b(?:" + _INTENT_MARK + r"|demen|aswe a|lekol|apre lekol|(?:m|mwen) pa jwe|se pa jwe|se serye|"
                      r"(?:m|mwen) gen (?:yon )?(?:zam|kouto|revolve|pistole|fizi))\b"),
    "jm_kill_you": _c(r"\b(?:" + _INTENT_MARK + r"|after school|afta school|tomorrow|tumaro|tumara|tomoro|2moro|"
                      r"(?:wid|with) (?:a|mi|di) (?:brick|knife|ratchet|gun|machete|stone|bat|ting)|mi nah romp|"
                      r"(?:a )?nuh joke|mi serious)\b"),
    "ng_kill_you": _c(r"\b(?:" + _INTENT_MARK + r"|(?:i don get|i get|i carry|i don buy|i go carry) (?:one |my )?"
                      r"(?:knife|cutlass|gun|blade|jack knife|dagger|weapon)|after school|tomorrow|tomoro|for school|"
                      r"no be (?:joke|play)|i no dey play|make (?:e|am|dem) wait)\b"),
}

# --- round nine, second pass (pat9b): kinds holdout9's misses showed (read after its one scoring) ---
# Each rule is written for the kind and tested on paraphrases of our own and harmless twins
# (tests/classifiers/test_round_nine_holdout_patterns.py); none fires plainly on a seed or dev-set
# negative (measured with the seed posts and every dev set before commit). Rules that need a second
# sign somewhere in the post name it in _NEEDS_MARK below.
_EVENT = (rf"(?:{_SCHOOL_EVENTS}|winter concert|spring concert|awards night|awards|senior night|pep rally|assembly|"
          r"prom|show|banquet|ceremony|rally|recital|play|musical|meet|tournament|field trip|formal)")
THREAT_RULES += (
    # "i would shoot up that whole ap stats class": a school place named with a word or two before it
    # (_SCHOOL_ATTACK knew "the whole class"); "shoot up" only, as "bomb the history class test" is a test
    ("shoot_up_named_place", _c(
        rf"{_BI}\s+{_NEG}{_MOD}{_NEG}{_ADV}(?:shoot up|shooting up|shoot this|shoot that)\s+(?:the |this |our |my |that )?"
        r"(?:whole |entire )?(?:\w+\s+){1,2}?(?:school|class|classroom|cafeteria|gym|assembly|building|lunchroom|library)\b")),
    # the harm turned away from the poster ("im not going to do anything to myself. im going to do it to them")
    ("to_them_not_me", _c(
        r"\b(?:not|never|aint|ain't|wont|won't)\s+(?:going to|gonna|finna)?\s*(?:do|hurt)\s+(?:anything|nothing|it|shit)\s+"
        r"to myself\b[^\n]{0,40}?\b(?:do it|going to do it|gonna do it|doing it|hurt|make)\s+(?:to\s+)?"
        r"(?:them|him|her|those \w+|yall|y'all|you all|everyone|everybody|the \w+ who)\b")),
    # skip a named school event, with a sign that it is a warning (_NEEDS_MARK: "surprise",
    # "seriously", "not gonna explain"); a reason ("it's cancelled", "it's freezing") is not
    ("skip_event_warning", _c(
        r"(?<!\bi )(?<!\bim )(?<!\bi'm )(?<!\bwe )(?<!\bgonna )(?<!\bmight )"
        r"\b(?:skip|don't come to|dont come to|do not come to|stay away from|don't go to|dont go to|do not go to|stay home from|"
        r"don't show up to|dont show up to|sit out)\s+(?:the\s+)?(?:\w+\s+){0,2}?" + _EVENT + r"\b"
        r"(?![^\n]*\b(?:cancel\w*|postponed|boring|freezing|cold|rain\w*|snow\w*|sold out|lame|mid|crowded|expensive|"
        r"traffic|sick|covid|flu|lines?|tickets?|long|too late|early|parking|quiz|test|exam|homework|jk|just kidding|"
        # (a student reporting the warning: "i saw a post telling everyone to skip ... should i report it")
        r"report|reported|should i|who do i tell|is it real|probably nothing|saw a post|tell a teacher|told the)\b)")),
    # "tell ur mom to start saving for ur funeral"
    ("funeral_savings", _c(
        r"\b(?:start|better start|begin|go)\s+(?:saving|savin|saving up|pricing|picking out|shopping for|planning)\s+"
        r"(?:up\s+)?(?:for\s+)?(?:ur|your|his|her|their|yo|ya)\s+(?!own\b)(?:funeral|casket|coffin|grave|headstone)\b")),
    # "i'll put ur head through the trophy case glass", "im making her bleed"
    ("head_through", _c(
        r"\b(?:i'?ll|ill|imma|ima|i'?m gonna|im gonna|i will|i'?m finna|im finna|gonna|i'?m going to|im going to)\s+"
        r"(?:put|shove|smash|throw|slam|bash|send)\s+(?:ur|your|his|her|their|yo|ya)\s+(?:head|face|skull)\s+"
        r"(?:(?:through|thru|into)\s+(?:the|a|that|ur|your|his|her)\s+\w+|in\s+(?:the|a)\s+(?:wall|glass|window|locker|lockers|"
        r"table|ground|floor|dirt|concrete|toilet|mirror|door|pavement|curb))")),
    ("make_bleed", _c(
        r"\b(?:i'?m|im|imma|ima|i'?ll|ill|i will|gonna|going to|finna)\s+(?:\w+\s+)?(?:make|making)\s+"
        r"(?:him|her|them|u|you|ya|that \w+)\s+bleed\b")),
    # knowing where someone will be and coming for them (_NEEDS_MARK: catching, following, "not to
    # talk", "walks home alone"); "i know ur schedule is busy" is not
    ("knows_whereabouts", _c(
        r"\bi\s+(?:already\s+)?(?:know|got|have)\s+(?:ur|your|his|her|their|yo)\s+(?:ip|address|addy|schedule|schedules|"
        r"route|appointment|appointment time|shift|shifts|work schedule|class schedule|bus stop)\b|"
        r"\bi\s+know\s+(?:their names,?\s+)?(?:their|his|her)\s+schedules?\b|"
        r"\bi\s+know\s+which\s+(?:ones?|of them)\s+walks?\s+home\s+alone\b")),
    # a younger sibling named to a reporter ("u got a little brother at the middle school right? just saying")
    ("sibling_leverage", _c(
        r"\b(?:u|you|ya|yall|y'all)\s+(?:got|have|still got)\s+a\s+(?:little|lil|baby|younger|small)\s+"
        r"(?:brother|sister|bro|sis|cousin|siblings?)\b[^\n]{0,50}?\bright\s*\??[^\n]{0,20}?"
        r"\b(?:just saying|just sayin|just sayn|be a shame|would be a shame|hope nothing happens|think about (?:it|that)|"
        r"keep that in mind)\b")),
    # burning a home or building down with people inside
    ("arson_with_people", _c(
        r"\b(?:burn|burning|torch|torching|set fire to|setting fire to|light up|lighting up)\s+(?:that|the|this|his|her|their|ur|your)\s+"
        r"(?:\w+\s+){0,2}?(?:house|home|group home|school|building|dorm|shelter|apartment|place|trailer|church|office)\s+"
        r"(?:down\s+)?(?:with|w|w/)\s+(?:\w+\s+){0,3}?(?:inside|in it|in there|still in)\b")),
    # following a person to their car or home, and what they will see
    ("follow_to_car", _c(
        r"\b(?:following|follow|gonna follow|imma follow|ima follow|i'?ll follow|ill follow)\s+(?:him|her|them|u|you|ya)\s+"
        r"(?:home|to (?:her|his|their|ur|your) (?:car|house|truck|job|apartment|door))\b[^\n]{0,40}?"
        r"\b(?:(?:she|he|they|u|you)(?:\s+(?:gonna|going to|will)|'ll|ll|\s+ll)\s+see|see what happens|find out|learn|regret)\b")),
    # pills crushed into someone's drink or food (_NEEDS_MARK: the drink or food named)
    ("pills_crushed_in", _c(
        r"\b(?:pills?|meds|xanax|adderall|laxatives?|sleeping pills|benadryl|ambien|oxy|percs?)\s+"
        r"(?:crushed|mixed|dropped|slipped|dissolved|ground up|ground)\s+(?:up\s+)?(?:in|into)\s+(?:there|it|her|his|their|that)\b")),
    # a fight invitation with an injury promised ("meet me behind the gym ... broken nose")
    ("meet_me_injury", _c(
        r"\bmeet me\s+(?:behind|at|after|outside|by|in|near)\b[^\n]{0,60}?"
        # (not the poster's own: "meet me at the nurse, i have a bloody nose")
        r"(?<!\bmy )(?<!\bi have a )(?<!\bi got a )(?<!\bive got a )(?<!\bi had a )(?<!\bgot a )"
        r"\b(?:broken|bloody|busted|split|fat|cracked|shattered)\s+"
        r"(?:nose|lip|jaw|face|teeth|skull|ribs)\b")),
)
SELF_HARM_RULES += (
    # "wanna be dead": the wish with no "i" (i_want_to_die needs one); "dead last", "dead serious" are not
    ("bare_want_dead", _c(
        r"(?:^|[.!?\n]\s*)\W*(?:(?:lowkey|honestly|ngl|fr|tbh|just|rly|really|kinda|i)\s+)*(?:wanna|want to|wish i was|wish i were)\s+"
        r"(?:be\s+)?dead\b(?!\s+(?:last|center|serious|tired|set|ass|on|weight|end|giveaway|quiet|silent))")),
    # "deciding if tonights the night"
    ("tonight_the_night", _c(
        r"\b(?:deciding|decide|deciding whether|wondering|thinking about|figuring out)\s+(?:if|whether)\s+"
        r"(?:tonight|today)(?:'s|s| is)\s+the\s+(?:night|day)\b"
        # ("tonight is the night i finally beat this boss", "today is the day they post grades")
        r"(?!\s+(?:i|we|they|he|she|for|to|of|that|when|the|my|our|u|you)\b)")),
    # "not the meme kms. the real one"
    ("kms_real_one", _c(
        r"\bnot (?:the|a) (?:meme|joke|funny|ironic|fake|tiktok) (?:kms|kill myself|kys|one|version)\b[.,!\s]*"
        r"(?:(?:the|a) )?real (?:one|kms|thing|version)\b")),
    # asking in earnest whether a pill can be overdosed on (_NEEDS_MARK: "for real", "not a joke")
    ("overdose_question", _c(
        r"\b(?:can|could|how many|how much|does it take)\s+(?:\w+\s+){0,3}?(?:od|overdose|o\.d|die|kill (?:u|you|someone|a person))\s+"
        r"(?:on|from|with|off)\s+(?:\w+\s+){0,2}?(?:melatonin|tylenol|advil|ibuprofen|benadryl|pills|sleeping pills|nyquil|"
        r"meds|acetaminophen|aspirin|zzzquil|allergy pills|xanax|adderall)\b|"
        r"\bhow many\s+(?:\w+\s+){0,2}?(?:does it take|would it take|do i need|to take)\s+to\s+(?:od|overdose|die|not wake up)\b")),
    # a plan, and nobody to miss the poster ("made a plan for after the winter concert. nobody's gonna miss ...")
    ("plan_nobody_miss", _c(
        r"\b(?:made|have|got|making|picked|set)\s+(?:a|my|the)\s+(?:plan|date)\b[^\n]{0,80}?"
        r"\bnobody(?:'s|s| is)?\s+(?:gonna|going to|will|would|is gonna)\s+(?:even\s+|really\s+)?miss\s+"
        r"(?:me\b|(?:a|the|one|some|another)\s+(?:\w+\s+)?(?:kid|girl|guy|boy|one|loser|nobody|freak|player|violin|viola|"
        r"goalie|sub|benchwarmer|backup|extra|member|student|sister|brother|daughter|son))")),
    # "dont text me tmrw. or ever i guess"
    ("dont_text_or_ever", _c(
        r"\b(?:don't|dont|do not|no need to|u don't have to|you don't have to|u dont have to|you dont have to)\s+"
        r"(?:text|call|message|snap|dm|check on|wait for|"
        r"look for)\s+me\s+(?:tmrw|tomorrow|tonight|anymore|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
        r"this weekend)\W+(?:or|and)\s+(?:ever|ever again|after that|again)\b"
        r"(?![^.!?\n]{0,40}\b(?:if|unless|until|lol|lmao|haha|jk)\b)")),
    # "ill be the first one in the family to not exist"
    ("to_not_exist", _c(
        r"\b(?:i'?ll|ill|i will|i'?m gonna|im gonna|i guess i'?ll|i guess ill|i'?ll just|ill just)\b[^.!?\n]{0,50}?"
        r"\bto not (?:exist|be alive|be here anymore|wake up)\b")),
    # skipping meals and running or working out until near fainting
    ("skip_meals_faint", _c(
        r"\b(?:skipped|skip|skipping|didn't eat|didnt eat|haven't eaten|havent eaten)\s+(?:breakfast|lunch|dinner|meals|"
        r"every meal|all my meals|food|all day|anything|since \w+|in \w+ days)\b[^\n]{0,80}?\b(?:til|till|until|to the point)\s+i\s+(?:almost\s+|nearly\s+)?"
        r"(?:passed out|pass out|blacked out|black out|fainted|faint|collapsed|threw up)\b")),
)
# a friend's danger reported (_CONCERN_RULES)
SELF_HARM_RULES += (
    # a friend who barely eats and fainted
    ("friend_not_eating_fainted", _c(
        r"\b(?:she|he|they|my (?:\w+\s+)?(?:friend|bff|bestie|cousin|sister|sis|brother|bro|girlfriend|gf|boyfriend|bf))\s+"
        r"(?:\w+\s+){0,2}?(?:only eats|barely eats|barely ate|stopped eating|doesn't eat|doesnt eat|hasn't eaten|hasnt eaten|"
        r"won't eat|wont eat|skips? (?:every )?meals?|lives on)\b[^\n]{0,100}?\b(?:fainted|passed out|blacked out|collapsed)\b")),
    # a friend giving things away (_NEEDS_MARK: a statement of going, "disappear", "much longer")
    ("friend_gave_away", _c(
        # (whoever the subject is: "devin gave away all his shoes"; the owner "his", "her", "their"
        # makes it about someone else, and _NEEDS_MARK asks for a sign of leaving)
        r"\b(?:giving away|gave away|giving|gave|handed)\s+(?:me\s+|us\s+|away\s+)?"
        r"(?:all\s+)?(?:of\s+)?(?:his|her|their)\s+(?:\w+\s+)?(?:stuff|things|hoodie|jacket|games|switch|console|clothes|"
        r"jersey|shoes|books|art|sketchbook|plants|cat|dog|phone|headphones|ring|necklace|guitar|bike|dirt bike|truck|"
        r"skateboard|board|xbox|ps5|playstation|collection|cards|rifle|bow)\b")),
)
BULLYING_RULES += (
    # "do everybody a favor and jump off the mill bridge"
    ("jump_off_directive", _c(
        r"\b(?:do (?:everyone|everybody|us all|us|the world|the school|yourself) a favou?r and|go|just|pls|please|u should|you should)\s+"
        r"(?:go\s+)?(?:jump|dive)\s+off\s+(?:the|a|that)\s+(?:\w+\s+){0,2}?(?:bridge|building|roof|cliff|overpass|parking garage)\b")),
    # "for an asian u sure are bad at math"
    ("stereotype_jab", _c(
        r"\bfor an? (?:asian|black|mexican|indian|white|latina|latino|chinese|korean|puerto rican|dominican|haitian|brazilian|"
        r"jewish|muslim|arab|immigrant|gay|trans|girl|boy)\s+(?:u|you|ur|you're|youre|he|she|hes|shes|he's|she's)\s+"
        r"(?:sure |really |rly |kinda |so |are |r |is |sure are |really are )*(?:bad|dumb|stupid|slow|ugly|weird|loud|poor|"
        r"trash|terrible|awful)\b")),
    # a call to pile on or to pretend someone is not there
    ("pile_on_call", _c(
        r"\b(?:everyone|everybody|yall|y'all|guys)\s+(?:in the (?:comments|replies|gc|chat|call|vc|server)\s+)?"
        r"(?:say something about how|comment (?:on )?how|tell (?:her|him|them) how)\s+(?:\w+\s+){0,2}?"
        r"(?:ugly|crusty|fat|weird|gross|dirty|nasty|broke|dumb|stupid|musty|smelly|cringe|ashy)\b|"
        r"\b(?:everyone|everybody|yall|y'all|guys)\s+(?:\w+\s+)?pretend\s+[a-z]+\s+(?:isn't|isnt|is not|aint|ain't)\s+"
        r"(?:in|on|here|there)\b")),
    # "no wonder u so dumb" after a taunt
    ("no_wonder_you", _c(
        r"\bno wonder\s+(?:u|you|ur|your|you're|youre|he|she|hes|shes|he's|she's|they|theyre)\s+(?:are |r |is |so |always |such an? |this )*"
        r"(?:dumb|stupid|ugly|weird|slow|broke|fat|annoying|a loser|loser|lonely|alone|a freak|freak|crazy|retarded|messed up|a mess|"
        r"trash|single|friendless)\b")),
    # "voted ugliest in the whole program"
    ("voted_worst", _c(
        # (the voters speaking, or a call to vote; a victim's "people vote on the worst dressed" is not)
        r"\b(?:we|i|yall|y'all|everyone|everybody|the (?:gc|group ?chat|team|class|squad))\s+(?:all\s+|just\s+|literally\s+)?"
        r"(?:voted|vote|polled|nominated)\s+(?:\w+\s+){0,3}?(?:ugliest|dumbest|fattest|weirdest|smelliest|"
        r"most annoying|worst dressed|most likely to die alone|biggest loser|least likely to)\b|"
        r"(?:^|[.!?\n]\s*)(?:vote|voting|poll)\s*:?\s+(?:for\s+)?(?:who'?s|whos|who is|whose)\s+(?:the\s+)?(?:ugliest|dumbest|"
        r"fattest|weirdest|smelliest|most annoying|worst dressed)\b")),
    # a low rating of a peer ("rating elena's outfit 2/10")
    ("low_rating_peer", _c(
        r"\b(?:rating|i rate|rated|giving)\s+(?:[a-z]+'s|[a-z]+s|her|his|your|ur)\s+(?:outfit|fit|face|hair|body|look|looks|shoes|art|voice|"
        r"drawing|singing|teeth|glow up|makeup)\s+(?:a\s+)?(?:[0-3](?:\.\d)?|negative \d+|-\d+)\s*/\s*10\b")),
    # "cute for somebody who clearly shops at the dollar store"
    ("praise_for_someone_who", _c(
        r"\b(?:cute|pretty|hot|smart|good|nice|fine|decent|ok|okay|not bad)\s+for\s+(?:somebody|someone|a (?:girl|guy|kid|person))\s+"
        r"(?:who|that)\s+(?:clearly |obviously |literally |prob |probably )?(?:shops|lives|eats|looks|dresses|smells|"
        r"can't afford|cant afford|failed|flunked|got held back|still)\b")),
    # "short bus energy"
    ("short_bus", _c(
        r"\bshort bus\s+(?:energy|kid|rider|vibes|ass|behavior|looking|type)\b|"
        r"\b(?:belongs?|should (?:be )?(?:ride|riding|on)|needs? to (?:ride|be on)|go back to|get back on)\s+(?:on\s+)?"
        r"the short bus\b")),
    # offering a video of a classmate's bad moment (_NEEDS_MARK: throwing up, crying, falling ...)
    ("offer_the_video", _c(
        r"\b(?:i|i've|ive)\s+(?:have|got|got the)\s+(?:the\s+)?(?:video|vid|clip|pics?|recording)\b[^\n]{0,20}?"
        r"\b(?:lmk|dm me|hmu|if (?:u|you|anyone|yall) wants?)\b")),
)
_NEEDS_MARK.update({
    "skip_event_warning": _c(r"\b(?:surprise|seriously|not gonna explain|im not gonna explain|trust me|you'?ve been warned|"
                             r"ur warned|just saying|dont ask|don't ask|not (?:in|on) the program|remember (?:i|this)|"
                             r"you'?ll see|u'?ll see|for ur own good|for your own good|"
                             # round nine (pat9c): "if ur actually my friend ... just dont. ill explain after"
                             r"just (?:don'?t|dont)|i'?ll explain|ill explain|explain (?:later|after)|"
                             r"if (?:ur|you'?re|youre|u r) (?:actually |really |truly )?my (?:friend|homie|bro)|"
                             + _INTENT_MARK + r")\b"),
    "knows_whereabouts": _c(r"\b(?:catching|catch|coming to|pull up|pulling up|wait for|waiting for|following|follow|"
                            r"(?:not|isnt|isn't|aint) (?:to|for) (?:talk|chat)|walks? home|alone|see what happens|"
                            r"gonna be me|gonna see|soon|remember this)\b"),
    # ("\b(?:boba)": _c would squeeze the "bb" of a bare "\bboba")
    "pills_crushed_in": _c(r"\b(?:her|his|their|\w+'s|\w+s)\s+(?:\w+\s+)?" + _FOOD_OR_DRINK + r"\b|\b(?:boba|thermos)\b"),
    "overdose_question": _c(r"\b(?:for real|fr|not as a joke|not a joke|not joking|srs|seriously|asking for (?:real|me|myself)|"
                            r"no joke|how many would it take)\b"),
    "friend_gave_away": _c(r"\b(?:disappear|much longer|not gonna be (?:a problem|around|here)|"
                           r"(?:won'?t|wont) need (?:it|them|this|that|these|those|em)|"
                           r"gone by|goodbye|said bye|not be around|won'?t be around|wasn'?t laughing|wasnt laughing|"
                           r"last time|for good|want to die|wants to die|wanna die|"
                           # round nine (pat9c)
                           r"other side|whats the point|what's the point|no point|better off without|for free)\b"),
    "offer_the_video": _c(r"\b(?:throw up|threw up|throwing up|puke|puked|puking|vomit\w*|cry|cried|crying|fall|fell|falling|"
                          r"trip|tripped|pee|peed|faint|fainted|naked|changing|slapped|getting slapped|jumped|getting jumped|"
                          r"beat up|pantsed|sharted|shit)\b"),
})

# --- round nine, third pass (pat9c): kinds holdout10's misses showed (read after its one scoring) ---
# Classic warning signs a threat assessment names, in the phrasings holdout10's writers used: a bus
# or a day to avoid, "everyone learns my name", a weapon to school in Portuguese or Spanish, "make
# sure he never plays again", matches after a wish to burn, a target alone and a way in, extortion
# on the condition of telling; a goodbye "for real this time" and forgiveness asked for everything,
# "not coming back" with someone to look after. Tested like the passes before
# (tests/classifiers/test_round_nine_third_pass_patterns.py).
THREAT_RULES += (
    ("dont_ride_warning", _c(
        r"(?<!\bi )(?<!\bim )(?<!\bi'm )(?<!\bwe )"
        r"\b(?:don't|dont|do not|better not|shouldn'?t|shouldnt)\s+(?:ride|take|get on|be on|sit on)\s+(?:the\s+)?"
        r"(?:late\s+|early\s+)?bus\s*(?:#\s*)?\d*\s+(?:tomorrow|tmrw|tmr|monday|tuesday|wednesday|thursday|friday|this week|"
        r"next week|on \w+day)\b"
        r"(?![^\n]*\b(?:cancel\w*|late|broken|broke down|field trip|detour|snow|strike|no school|half day|sub driver|"
        r"construction|moved|new route|lol|jk)\b)")),
    ("learns_my_name", _c(
        r"\b(?:everyone|everybody|the whole school|this whole school|yall|y'all|the world|they all|all of (?:them|yall|you))\s+"
        r"(?:\w+\s+){0,3}?(?:(?:will|gonna|going to|is gonna|are gonna|'ll)\s+(?:\w+\s+)?(?:know|learn|remember)|"
        r"(?:finally\s+)?learns?|knows?)\s+my name\b"
        r"(?![^\n]*\b(?:famous|music|mixtape|album|song|art|rap|game|film|movie|book|channel|youtube|tiktok|followers|drafted|"
        r"nba|nfl|star|signed|record|business|brand|streams?|valedictorian|graduat\w*|college)\b)")),
    ("weapon_to_school_intl", _c(
        r"\b(?:to|tou|estou|vou|eu vou)\s+(?:levando|levar|trazendo|trazer)\s+(?:a |o |uma |um |minha |meu )?(?:\w+\s+){0,3}?"
        r"(?:arma|faca|canivete|revolver|pistola|oitao|facao)\b[^.!?\n]{0,40}?\b(?:pra|para|na|no) (?:escola|colegio)\b|"
        r"\b(?:llevo|traigo|voy a llevar|voy a traer|llevare|traere)\s+(?:la |el |una |un |mi )?(?:\w+\s+){0,3}?"
        r"(?:pistola|cuchillo|navaja|arma|machete|fierro)\b[^.!?\n]{0,40}?\b(?:a la escuela|al colegio|a clase|a la prepa|a la secundaria)\b|"
        r"\b(?:traigo|llevo|voy a traer|voy a llevar|trazendo|levando|to levando|vou levar|bringing|bring|im bringing)\s+"
        r"(?:algo|something|smth|uma coisa|una cosa)\s+(?:que|that|to)\s+(?:\w+\s+){0,3}?(?:callar|calar|shut (?:them|him|her|yall|you all|u) up)\s+"
        r"(?:para siempre|pra sempre|for good|forever|permanently)\b")),
    ("make_sure_harm", _c(
        r"\b(?:make sure|making sure|gonna make sure|imma make sure|i'?ll make sure)\s+(?:he|she|they|\w+)\s+"
        r"(?:never|can'?t|cant|won'?t|wont)\s+(?:plays?|walks?|dances?|runs?|wrestles?|skates?|throws?|pitch(?:es)?|sings?|"
        r"talks?)\s+(?:again|another)\b|"
        r"\b(?:gonna|going to|imma|ima|i'?ll|ill)\s+make sure\s+(?:she|he|they|the (?:bus|car|van))\s+(?:wrecks?|crash(?:es)?|flips?)\b")),
    ("matches_after_burn", _c(
        # (a building or people to burn: "bonfire", "candles" are not)
        r"(?:\b(?:barn|house|school|gym|building|band room|room|car|trailer|church|locker room|auditorium|office|home|place|dorm)\s+"
        r"(?:\w+\s+){0,4}?(?:burns?|burn down|burns down|go up in flames|goes up in flames|on fire)\b|"
        r"\b(?:burns?|burn down|burns down|go up in flames|goes up in flames|on fire)\s+with\s+(?:yall|y'all|them|him|her|everyone|"
        r"all of (?:them|yall|you))\s+(?:\w+\s+)?in\s+(?:it|there)\b|"
        r"\b(?:burns?|go up in flames|goes up in flames)\b[^\n]{0,20}?\bwith\s+(?:yall|y'all|them|him|her|everyone|all of (?:them|yall|you))"
        r"\s+in\s+(?:it|there)\b)"
        r"[^\n]{0,60}?\b(?:guess who (?:has|got)|i (?:have|got)|i still (?:have|got)|got)\s+(?:the|a|my)\s+(?:matches|lighter|gas|gas can)\b")),
    ("alone_and_access", _c(
        r"(?<!\bmy mom )(?<!\bmy dad )(?<!\bmy mother )(?<!\bmy father )(?<!\bmy sister )(?<!\bmy brother )(?<!\bmy grandma )"
        r"(?<!\bmy aunt )(?<!\bmy uncle )(?<!\bmy parents )(?<!\bhe lives )(?<!\bshe lives )"
        r"\b(?:closes|works|locks up|opens|is|stays|walks home)\s+alone\b[^\n]{0,80}?"
        r"\bi\s+(?:still\s+)?(?:know|have|got)\s+(?:the|a)\s+(?:\w+\s+){0,2}?(?:code|key|keys|combo)\b"
        r"(?!\s+(?:to get in|to feed|to let|to water|to check|for emergencies|in case))")),
    ("which_day_warning", _c(
        r"\bwhich day (?:not to|to not|to stay home from|to skip|to stay away from)\s+(?:come to |go to |be at |come |go )?"
        r"(?:school|class|campus)\b(?!\s*\?)(?![^\n]*\b(?:snow|holiday|break|vacation|workday|half day|early release|"
        r"schedule)\b)")),
    ("exposure_if_tell", _c(
        r"\b(?:whole school|everyone|everybody|the school|yall|y'all|ur mom|your mom|ur parents|your parents|ur dad|your dad)\s+"
        r"(?:\w+\s+)?(?:gonna|going to|will|'ll|is gonna|are gonna)\s+see\s+(?:ur|your)\s+(?:nudes|pics|pictures|videos?|vids?)\s+"
        r"if\s+(?:u|you)\s+(?:tell|report|snitch|say)\b")),
)
SELF_HARM_RULES += (
    ("goodbye_for_real", _c(
        r"\b(?:adios|bye|goodbye|tchau|orevwa)\s+(?:a todos|everyone|to everyone|everybody|a tudo mundo|tout moun|world)\W+"
        r"(?:de verdad|for real|fr|this time|esta vez|dessa vez|pou tout bon|no me busquen|dont look for me|don'?t look for me|"
        r"dont come looking)\b"
        r"(?![^\n]*\b(?:sleep|bed|goodnight|gn|nap|lol|lmao|see (?:you|u|yall|y'all) (?:tomorrow|tmrw|later|monday)|"
        r"logging off|off to)\b)|"
        r"\b(?:perdoname|perdoa-?me|perdoa me|forgive me)\s+(?:por todo|for everything|por tudo)\b"
        r"(?![^\n]*\b(?:lol|lmao|i was tired|said in|last night)\b)")),
    ("not_coming_back_care", _c(
        r"\b(?:not|never|aint|ain't)\s+(?:coming|comin)\s+back\b"
        r"(?!\s+(?:til|till|until|for|from|to|after|before|in|tonight|tomorrow|home|lol|here|there|again until))"
        r"[^\n]{0,60}?\b(?:take care of|look after|feed)\s+(?!my\s+(?:plants|fish)\b)\w+")),
)
THREAT_RULES += (
    # "remember i told yall i was gonna do somethin big before christmas break. i wasnt lying"
    ("something_big_leak", _c(
        r"\b(?:i'?m|im|i was|i|imma|ima|we|we're|were)\s+(?:gonna|going to|gon|finna|about to)\s+do\s+"
        r"(?:something|somethin|smth|sumn)\s+big\b"
        r"(?![^\n]*\b(?:surprise|promposal|proposal|party|announcement|reveal|gift|birthday|bday|concert|show|performance)\b)"
        r"(?!\s+(?:for|with)\s+(?:her|his|my|our|the|their)\s+(?:birthday|bday|party|project|anniversary|proposal|promposal))"
        r"[^\n]{0,60}?\b(?:before|at|on|after|this|next)\s+(?:christmas|break|school|monday|tuesday|wednesday|thursday|friday|"
        r"the \w+|winter|spring|graduation|prom|finals)\b")),
    # "im smashin his face in with a fence post"
    ("smash_face_in", _c(
        r"\b(?:i'?m|im|imma|ima|i'?ll|ill|gonna|finna|i will|i'?m gonna|im gonna|i'?m finna|im finna)\s+(?:\w+\s+)?"
        r"(?:smash|smashin|smashing|bash|bashin|bashing|cave|cavin|caving|kick|kickin|kicking|knock|knockin|knocking)\s+"
        r"(?:his|her|their|ur|your|yo|that \w+'s)\s+(?:face|head|skull|teeth)\s+in\b")),
)
SELF_HARM_RULES += (
    # "deleted all my pics off snap. wont need em where im goin"
    ("where_im_going", _c(
        r"\b(?:won'?t|wont|will not|not gonna|don'?t|dont)\s+need\s+(?:it|them|em|this|that|these|those|any of (?:it|this|them))\s+"
        r"where\s+(?:i'?m|im|i am)\s+(?:going|goin|headed)\b")),
    # eating little, guilt, then exercise or skipping as punishment
    ("food_guilt_punish", _c(
        r"\b(?:ate|had)\s+(?:only\s+|just\s+)?(?:1|one|a single|half (?:a|an)|two|2|a few)\s+(?:crackers?|apples?|bites?|grapes?|"
        r"almonds?|carrots?|rice cakes?|slices? of \w+|pieces? of \w+)\b[^\n]{0,60}?\b(?:guilty|disgusting|gross|fat)\b"
        r"[^\n]{0,60}?\b(?:situps|sit ups|crunches|laps|miles|burpees|jumping jacks|purged|threw up|puked|workout|worked out)\b|"
        r"\b(?:skipped|skip|skipping)\s+(?:lunch|dinner|breakfast|meals)\b[^\n]{0,80}?\b(?:punishment|punish(?:ing)? myself)"
        r"(?:\s+for\s+(?:(?:the|eating|that|all the|those)\s+(?:\w+\s+)?(?:pizza|food|cake|burger|fries|snacks?|cookies?|candy|chips|"
        r"ice cream|dessert|donuts?|brownies?|cupcakes?)|what i ate|everything i ate)\b|\s*(?:[.!,\n]|$))")),
    # "tao muon chet" (Vietnamese), "n ka kre vive" / "n kre mori" (Cabo Verdean Kriolu)
    ("vi_kea_want_to_die", _c(
        r"\b(?:tao|toi|em|minh|con)\s+(?:muon|mun)\s+chet\b|\b(?:n|nha|mi)\s+ka\s+(?:kre|kere)\s+(?:vive|vivi)\b|"
        r"\b(?:n|mi)\s+(?:kre|kere)\s+mori\b")),
)
SELF_HARM_RULES += (
    # a friend's danger reported (_CONCERN_RULES): "my bf keeps saying 'ud be better off without me'";
    # "mi hermanito ... dice que se quiere matar"
    ("friend_says_better_off", _c(
        r"\b(?:he|she|they|my (?:\w+\s+)?(?:friend|bf|gf|boyfriend|girlfriend|bestie|brother|sister|cousin|bro|sis))\s+"
        r"(?:\w+\s+)?(?:keeps saying|keep saying|said|says|told me|been saying|keeps sayin|keep sayin)\b[^\n]{0,30}?"
        r"\b(?:(?:ud|you'?d|u'?d|everyone'?d|everyone would|you would|u would|yall would|y'all would) be better off without "
        r"(?:me|him|her)|(?:i|he|she) (?:wont|won'?t) be (?:around|here) (?:for|by|much longer|anymore)|"
        r"(?:whats|what's|wats) the point(?:\s+of\s+(?:anything|life|living|it all|trying|being here|going on|waking up|me))?"
        r"(?!\s+of\b))\b" + _ALREADY_TOLD +
        # (a move, a trip or an exchange is the reason, not a danger)
        r"(?![^\n]*\b(?:moving|move|moved|transfer\w*|vacation|trip|exchange|abroad|camp|deployed|military|college)\b)" +
        # (as friend_wants_to_die: a post that asks only how to talk to them is labelled help in holdout)
        r"(?![^\n]*\bhow (?:do|can|should) i (?:talk to|help) (?:him|her|them)\b)")),
    ("friend_wants_to_die_es", _c(
        r"\b(?:mi|my)\s+(?:hermanito|hermanita|hermano|hermana|amigo|amiga|primo|prima|bro|brother|sister|novio|novia)\b"
        r"[^\n]{0,40}?\b(?:dice|dijo|says|said|me dijo)\s+que\s+se\s+(?:quiere|va a)\s+(?:matar|morir|suicidar)\b")),
)
_NEEDS_MARK.update({
    "learns_my_name": _c(r"\b(?:monday|tuesday|wednesday|thursday|friday|tomorrow|tmrw|the day|got my hands on|something|"
                         r"at this school|this school|not joking|remember this|" + _INTENT_MARK + r")\b"),
    "goodbye_for_real": _c(r"\b(?:de verdad|de verdade|dessa vez|for real|this time|esta vez|no me busquen|look for me|deleting|tonight|te quiero|"
                           r"love you all|love yall|sorry|bye)\b"),
    "make_sure_harm": _c(r"\b(?:knees?|legs?|arms?|hands?|ankles?|break|broken|snap|shatter|bus|car|van|wreck\w*|crash\w*)\b"),
    "something_big_leak": _c(r"\b(?:wasn'?t lying|wasnt lying|not lying|not joking|wasnt joking|wasn'?t joking|remember|"
                             r"i told (?:yall|y'all|you|u|everyone))\b"),
})
# a grievance over food or drink: the statement after it is hyperbole ("my sister ate my
# leftover chinese food. she not making it to christmas"); searched in the whole post
_PETTY = _c(r"\b(?:ate|eat|eats|eating|finished|took|stole|drank|drink|drinks|touched|touches|used)\s+(?:all\s+(?:of\s+)?)?"
            r"(?:my|our|the last of my|the last)\s+(?:\w+\s+){0,2}?(?:food|leftovers?|fries|pizza|snacks?|chips|candy|cereal|"
            r"ice cream|cookies?|dessert|boba|soda|coffee|drink|sandwich|noodles|ramen|nuggets|cake|chocolate|takeout|"
            r"lunch|dinner|slice|wings|burrito|tacos?|donuts?|popcorn|juice|pop tarts?)\b|"
            r"\b(?:se comio|se tomo|se acabo|comeu|bebeu|manje|manjé)\s+(?:mi|mis|meu|minha|meus|minhas|o meu|a minha|todo|tudo|tout)\b")
_PETTY_RULES = frozenset({"wont_make_it_to"}) | _INTL_RULES
# laughter, in the unsqueezed text: "kkkk" (Portuguese) squeezes to one letter
_JOKE_INTL = re.compile(r"\b(?:ja(?:ja)+\w*|je(?:je)+\w*|rs(?:rs)+\w*|kk+|ha(?:ha)+\w*|lol|lmao|lmfao|jk|xd|laughing|skull|mdr)\b")
# ... and game talk, for their threats ("n ap touye yo nan match la", "te mato en el fifa")
_GAME_INTL = _c(r"\b(?:fifa|ludo|dominoes|domino|match|game|games|football|futbol|futebol|foutbol|2k|cod|fortnite|chess|"
                r"ajedrez|xadrez|partido|partida|jwet|minecraft|roblox|valorant)\b")
# a negator as one of the last two words before the statement ("no te voy a matar", "m pa vle")
_INTL_NEGATION = _c(r"\b(?:no|nunca|jamas|ni|nao|nem|pa|p|nah|nuh|naa|neva|never|nor|not|don't|dont|won't|wont)\s+(?:\w+\s+)?$")
# ... minus the ones that say the opposite ("no es broma", "m pa jwe", "mi nah romp")
_INTL_NOT_A_NEGATION = _c(r"\b(?:no es broma|no estoy jugando|no juego|nao (?:to|tou|estou) brincando|nao e brincadeira|"
                          r"(?:m|mwen|se) pa jwe|nah romp|(?:a )?nuh joke|no be (?:joke|play)|i no dey play|not playing|not joking)\b")
_REPORT_INTL = _c(r"\b(?:dijo|dice|dijeron|escribio|publico|disse|falou|escreveu|postou|li di|yo di|li te di|im seh|him seh|"
                  r"she seh|dem seh|talk say|e talk say|e say|dem say|the song|la cancion|a musica|lyrics)\b")

_NEGATION = _c(
    r"\b(?:never|not|no|don't|dont|do not|won't|wont|will not|wouldn't|wouldnt|would not|can't|cant|"
    r"cannot|didn't|didnt|isn't|ain't|aint|stop|stopped|quit|nobody)\b")
# "I don't want to live anymore" is negated grammatically but is ideation: these rules carry the
# negation inside their own pattern, so only a negation before the match counts.
_NEGATION_INSIDE = {"suicidal_self", "harm_yourself_directive", "exclusion", "ideation", "eating_disorder",
                     "extortion", "goodbye_post",
                     "self_injury", "school_warning", "warning",
                     # round seven: rules that spell out their own "not", "no one", "don't"
                     "coordinated_exclusion", "wont_make_it_to", "dated_plan", "mock_praise",
                     "beat_until", "passive_death_wish", "not_invited",
                     # round eight: rules whose own words hold a "dont", "no", "not", "won't"
                     "cryptic_warning", "exposure_ultimatum", "armed_ultimatum", "not_die_just_not_exist",
                     "giving_away", "dated_not_alive", "kms_serious", "restriction_goal", "covering_arms",
                     "friend_silent_after", "never_coming_back",
                     # round eight, second pass (pat8b)
                     "not_coming_to_talk", "spare_the_kind", "giving_away_farewell", "or_anywhere_after",
                     "stop_waking_up", "friend_goodbye_silent", "next_one_broken", "picked_a_date", "whole_bottle",
                     "stop_for_good", "friend_wants_to_die",
                     # round nine (pat9): "stop being a ..." is the insult, not a negation
                     "slur_at_peer",
                     # round nine, second pass (pat9b): rules whose own words hold a "not", "dont", "nobody"
                     "to_not_exist", "plan_nobody_miss", "dont_text_or_ever", "kms_real_one", "skip_event_warning",
                     "to_them_not_me", "no_wonder_you", "friend_not_eating_fainted",
                     "skip_meals_faint", "praise_for_someone_who",
                     # round nine, third pass (pat9c)
                     "dont_ride_warning", "make_sure_harm", "which_day_warning", "not_coming_back_care", "where_im_going",
                     "friend_says_better_off"}
# "not joking", "no cap": intensifiers, not negations
_NOT_A_NEGATION = _c(r"\b(?:not|i'm not|im not|i am not) (?:joking|kidding|playing|lying|even joking)\b|\bno (?:cap|lie|joke)\b|"
                     # round nine (pat9c): "dont make me bring the machete ... to school" states the threat
                     r"\b(?:don't|dont|do not) make me\b|"
                     # round seven: "cant stop thinking about ending it" states the thought, it does
                     # not deny it (holdout4, holdout6: 2 self-harm posts negated away)
                     r"\b(?:can't|cant|cannot|can not|couldn't|couldnt) stop (?:thinking|wanting|imagining|picturing)\b|"
                     # (a rule whose match starts at "thinking": its scope ends at "cant stop")
                     r"\b(?:can't|cant|cannot|can not|couldn't|couldnt) stop\s*$|"
                     # "not a threat, a promise", "if not, ...": the statement stands
                     r"\bnot a threat\b|\bif not\b")
# round eight, second pass (pat8b): "if i dont make varsity ... somebody isnt making it to graduation":
# in a threat, a negation inside the condition belongs to the condition, not to the harm after it.
# Threats only: "if i dont get some sleep im gonna die in chem" is hyperbole the negation kept out.
_NEGATED_CONDITION = _c(r"\bif (?:i|u|you|he|she|they|we) (?:don't|dont|do not|didn't|didnt|can't|cant|doesn't|doesnt) "
                        r"(?:make|get|win|pass|go|come|stop|answer|pay|give|delete|take)\b")
_REPORT = _c(
    r"\b(?:said|says|say(?! (?:that|it|something|anything|sum|one more|another)\b)|saying|told(?! myself\b)|tells(?! myself\b)|wrote|writes|"
    r"posted|posts|texted|texts|quote|quoted|sent me|"
    r"lyrics?|song|sings?|sang|character|movie|book|talking about|talked about|heard|rumou?rs?)\b")
_CLAUSE_BREAK = _c(r"[.;!?\n]|\b(?:but|and then|although|though)\b|"
                   # round seven: "he better not show up or im putting him in the hospital": the
                   # "not" belongs to the condition, the clause after "or" + a subject is the threat
                   r"\bor (?:else )?(?=(?:i|i'm|im|i'll|ill|imma|ima|we|we're|we'll|she's|shes|he's|hes|"
                   r"you're|youre|your|ur|u)\b)|\bbetter not\b[^.;!?\n]*\bor (?:else )?$")


@dataclass(frozen=True)
class PatternHit:
    category: str        # threat | self_harm
    rule: str
    start: int           # offsets into the normalized text
    end: int
    score: float
    negated: bool = False
    quoted: bool = False


def _clause_prefix(text: str, start: int) -> str:
    """The text from the start of the clause holding `start` up to it (negation and quotes there)."""
    prefix = text[max(0, start - 80):start]
    cut = None
    for cut in _CLAUSE_BREAK.finditer(prefix):
        pass
    return prefix[cut.end():] if cut else prefix


def _quoted(text: str, start: int, rule: str = "") -> bool:
    """Inside quotation marks, or after a reporting verb in the same clause. A verb of the writer's
    own ("i wrote my goodbye letters") or a condition ("if she says one more word") is no report.
    Round eight: a friend's danger reported (_CONCERN_RULES) is never weakened by its report; the
    five languages' rules also know their own reporting verbs ("dijo", "disse", "li di", "im seh")."""
    if rule in _CONCERN_RULES:
        return False
    before = text[:start]
    # an odd number of double quote marks before the match: we are inside a quotation. Single
    # quotes are not counted (apostrophes: "i'm"); a reporting verb in the clause covers them.
    if (before.count('"') + before.count("“") + before.count("”")) % 2 == 1:
        return True
    prefix = _clause_prefix(text, start)
    report = _REPORT_SPEECH if rule in _SHARE_RULES else _REPORT
    if rule in _INTL_RULES and _REPORT_INTL.search(prefix):
        return True
    return any(not _OWN_OR_IF.search(prefix[:m.start()]) for m in report.finditer(prefix))


# Round seven: the rules about passing on someone's texts, posts and rumours hold the report words
# ("texts", "posted", "heard") as their subject matter; for them only spoken reports count.
_SHARE_RULES = frozenset({"humiliating_share", "spread_rumor", "stigma_rumor_spread"})
_REPORT_SPEECH = _c(r"\b(?:said|says|say|saying|told me|tells me|quote|quoted|lyrics?|song|sings?|sang|character|"
                    r"movie|book|talking about|talked about)\b")


_OWN_OR_IF = _c(r"(?:\bi|\bi've|\bive|\bi have|\bif \w+|\bwhen \w+|\bi just|\bi already|"
                # round eight, second pass (pat8b): "if my ex posts one more thing about me i'll ..."
                r"\b(?:if|when) (?:my|his|her|the|that|this|ur|your) \w+(?: \w+)?|"
                # round seven: "if she keeps talking about me im ..." is a condition, not a report
                r"\b(?:if|when) \w+ (?:keeps|keep|starts|start|ever|even)|"
                # round nine (pat9c): "spread one more rumor bout me ... and i'm caving ur face in"
                r"\b(?:one more|another|any more|1 more))\s+$")


# Every rule needs one of these words; most posts have none, and one search rules them out.
# Kept as data, squeezed like the rules ("kill" -> "kil"): the per-post trigger and the batch one
# are both built from them.
TRIGGER_WORDS = tuple(_DOUBLE_RE.sub(r"\1", w) for w in (
    "kill|murder|stab|shoot|shot|gun|strangl|choke|hang|beat|jump|punch|hurt|slit|stomp|run over|tortur|"
    "slaughter|execut|knife|cut|bomb|blow|burn|attack|weapon|pistol|rifle|ar15|glock|die|dead|"
    "watch your back|end|harm|starv|drown|off|unalive|poison|suicid|exist|disappear|wake up|living|"
    "alive|live|go on|keep going|goodbye|overdose|myself|yourself|urself|your self|ur self|"
    "bleach|jump of|wrists|miss|care if|better without|happier|know where|coming for|comin for|next|pay|"
    "survive|make it|likes|wants|cares|hates|laugh|friends|belong|why|notice|waste|thinks|loves|nobody|no one|noone|no1|"
    # round two (issue 13): at least one word of each new rule's first keyword group
    "blade|strap|machete|revolver|shotgun|knive|piece|ar|ak|in my|stay home|stay away|stay out|don't|dont|do not|skip|"
    "getting|gets|gonna get|going to get|about to get|will get|finna get|bout to get|run up|pull up|break|smash|"
    "bash|snap|crack|cave|make|coming|put|scratch|hit|bit|carv|pick|slic|made|hid|cover|bought|buy|got|new|keep|"
    "relaps|barcode|haven|didn|did not|hasn|purg|laxativ|thinspo|ana|ugw|cal|chew|under|fasting|food|throw up|"
    "tired of|sick of|done with|thinking about|think about|without me|would|burden|over|stop|pills|goodbye|"
    "overdos|od|walk into|drive into|not|won't|wont|asleep|sleep|scars|counting|arms|wrists|legs|thighs|stomach|"
    "so no|that no|want|wish|hope|hit|list|see what|watch|you|your|ur|u r|invited|"
    # round five: extortion, leakage, goodbye posts
    "send|venmo|cashapp|cash app|zelle|paypal|give|leak|expos|his|her|remember|news|headline|by the time|this is|thank|"
    "sorry|need|bye|0|1|2|3|4|5|6|7|8|9|"
    # round seven (pat7): the first keyword group of each new rule
    "slip|spike|pour|mix|drop|crush|lac|til|until|regret|enjoy|find out|gone|be here|be around|never see|"
    "car|truck|bus|semi|train|driver|letter|note|if|whoever|let|everyone|everybody|yal|kick|remov|gc|group|chat|squad|"
    "tel|rumor|rumour|spread|hear|ever|brave|old|for a|sent|post|airdrop|forward|show|screenshot|shar|video|vid|clip|"
    "pic|photo|who wants|start|creat|set up|fake|when it happens|my head|pin|needle|compass|pointy|lake|river|pond|quary|reservoir|creek|canal|invited|coming|welcome|"
    # round eight (pat8): the first keyword group of each new rule (words that most posts lack)
    "get|catch|knives|ammo|bullets|screenshots|gauge|9|22|taser|done|apunal|disparar|quebr|revent|partir|romper|"
    "meter|meto|matar|mato|esfaque|furar|arebentar|tiro|bala|touye|tiye|frape|koupe|tire|murda|box|lick|juk|jok|"
    "chop|mash|bruk|wound|finish|deal|jam|slap|exist|be alive|vanish|birthday|bday|graduation|christmas|summer|"
    "new year|thanksgiving|senior year|prom|year|nothing|zero|water|other side|next life|another life|heaven|marks|"
    "morir|suicidar|vivir|estar aqui|existir|seguir|muera|despertar|morer|viver|sumir|desaparecer|vida|mouri|viv|"
    "ded|dey|de |meds|tylenol|advil|answer|picking up|respond|phone|location|offline|blocked|deleted|or ever|merk|smoke|"
    "nudes|texts|dms|no food|liv|"
    # round eight, second pass (pat8b)
    "broke|smash|snap|bash|cave|kicked|crack|bust|boom|kaboom|bang|"
    "gasoline|gas can|jerry can|lighter fluid|kerosene|accelerant|shoulder|bleach|laxativ|ex lax|visine|eye drop|antifreeze|"
    "drain|dish soap|cleaner|crushed glass|what i put|what i slip|what i mix|what i add|whatever i|aint coming|ain't coming|"
    "vest|nice to me|were nice|liked me|you like me|ly like me|ever like me|cared about me|care about me|a date|counting|bottle|prescription|closer|"
    "the date|my date|left every|left al the|love u all|love you all|love yal all|goodbye|me corte|me volvi|me estoy cortando|me sigo|volvi a cortarme|me lastime|"
    "anywhere|a plan|see what happens|abortion|std|herpes|lice|crabs|chlamydia|gonorrhea|hiv|syphilis|"
    "scabies|worms|"
    # round nine (pat9)
    "fag|f*g|f**|fgt|trany|trannies|retard|tard|sped|dyke|maricon|marica|joto|viado|bicha|masisi|rate|rank|rating|tier|"
    # round nine, second pass (pat9b)
    "shoot|myself|skip|come to|stay away|go to|stay home|show up|sit out|funeral|casket|coffin|grave|headstone|head|face|skull|bleed|know|brother|sister|bro|sis|cousin|sibling|burn|torch|fire|light|follow|pil|meds|xanax|aderal|laxativ|benadryl|ambien|oxy|perc|meet me|dead|the night|the day|real|od|overdose|o.d|die|kil|nobody|ever|again|after that|to not|didn't eat|didnt eat|haven't eaten|havent eaten|faint|pased out|blacked out|colapsed|giving|gave|handed|jump off|dive off|for a|everyone|everybody|yal|y'al|guys|no wonder|vot|pol|nominated|giving|for somebody|for someone|short bus|video|vid|clip|pic|recording|mad at me|realest|the best|ip|address|addy|schedule|route|appointment|shift|bus stop|walk|bus|my name|escola|colegio|escuela|clase|prepa|secundaria|para siempre|pra sempre|for good|forever|permanently|make sure|making sure|matches|lighter|gas|alone|which day|nudes|pics|pictures|adios|bye|goodbye|tchau|orevwa|perdoname|perdoa|forgive me|coming back|comin back|big|where|guilty|disgusting|gros|punish|chet|vive|vivi|mori|better off|wont be|won't be|point|matar|morir|suicidar|loged|teeth|fat"
).split("|"))
# (escaped: "f*g" is a trigger word since round nine)
_TRIGGER = _c(r"\b(?:" + "|".join(map(re.escape, TRIGGER_WORDS)) + ")")


def _keys(*groups: str) -> tuple[tuple[str, ...], ...]:
    """Keyword groups, written plainly and squeezed like the rules: a rule can only match text
    holding at least one keyword of every group (checked with `in`, in C, before the regex)."""
    return tuple(tuple(_DOUBLE_RE.sub(r"\1", k) for k in g.split("|")) for g in groups)


_VIOLENT_KEYS = ("kill|murder|stab|shoot|gun|strangle|choke|hang|beat|jump|punch|hurt|slit|curb|stomp|"
                 "run over|torture|slaughter|execute|knife|cut")
# Necessary conditions, one entry per rule (tests/classifiers/test_patterns.py checks that every
# rule match in its tables passes its keys). They only skip regexes that cannot match.
# (At most two groups per rule: find_intent checks keys[0] and keys[1].)
RULE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "i_will_verb_you": _keys(_VIOLENT_KEYS),
    "kill_you_imperative": _keys(_VIOLENT_KEYS),
    "i_will_attack_school": _keys("school|class|cafeteria|gym|campus|bus|assembly|hallway|building|prom|game|"
                                  "locker room|lunchroom"),
    "bringing_weapon": _keys("school|class|campus|bus"),
    "you_will_die": _keys("die|dead|shot|stab|hurt|kill|watch your back"),
    "i_know_where_you_live": _keys("know where|coming for|comin for|next|pay|live|survive|make it"),
    "i_will_kill_myself": _keys("kill|k1ll|end|hurt|cut|harm|hang|shoot|stab|starve|drown|off|unalive|burn|poison",
                                "myself|my self|my life|it all|my wrist|me"),
    "i_want_to_die": _keys("die|be dead|exist|disappear|wake up|living|alive|be here|end it|suicide|unalive"),
    "i_cut_myself": _keys("myself|my self|my wrist|my arm|my leg|my thigh"),
    "suicidal_self": _keys("suicid|tried|attempted|live|alive|exist|reason|anymore|goodbye"),
    "kms": _keys("kill myself"),
    "weapon_to_school": _keys("gun|knife|knives|blade|pistol|rifle|shotgun|glock|ar|ak|strap|machete|bomb|weapon|revolver|piece"),
    "weapon_in_bag": _keys("in my"),
    "school_warning": _keys("stay home|stay away|stay out|don't|dont|do not|skip"),
    "getting_jumped": _keys("getting|gonna get|going to get|about to get|will get|gets|finna get|bout to get"),
    "we_jump_them": _keys("jump|run up|pull up"),
    "break_body": _keys("break|smash|bash|snap|crack|cave"),
    "make_them_pay": _keys("make|coming|put|with me"),
    "school_attack_object": _keys("burn|blow|shoot|bomb"),
    "self_injury": _keys("scratch|burn|hit|punch|bit|carv|pick|cut|hurt|slic|made|make|hid|cover|bought|buy|got|new|keep|relaps|barcode|"
                         "scars|so no|that no"),
    "eating_disorder": _keys("haven|havent|have not|didn|didnt|did not|hasn|purg|laxativ|thinspo|ana|ugw|cal|chew|counting|"
                             "under|fasting|starv|food|throw up|skip"),
    "ideation": _keys("tired of|sick of|done with|end|thinking about|think about|without me|nobody would|"
                      "no one would|noone would|burden|over|stop|pills|goodbye|suicide|not|won't|wont|asleep|sleep"),
    "want_them_dead": _keys("want|wish|hope"),
    "warning": _keys("warn|dead meat|list|see what|watch"),
    "insult_you": _keys("you|your|ur|u r"),
    "i_will_overdose": _keys("overdos|od|jump|walk into|drive into"),
    "harm_yourself_directive": _keys("yoursel|ursel|your sel|ur sel|die|bleach|jump|slit|nobody would|"
                                     "better without|happier"),
    "extortion": _keys("or|unless|otherwise|leak|post|send|expose|share|drop|go|get"),
    "leakage": _keys("remember|news|headline|tv"),
    "goodbye_post": _keys("by the time|this is|for everything|where i'm going|where im going|bye"),
    "exclusion": _keys("nobody|no one|noone|no1|everyone|everybody|the whole|friends|belong|why|waste"),
    # round seven (pat7)
    "tamper_food": _keys("put|slip|spike|pour|mix|drop|crush|lac|poison",
                         "lunch|food|drink|water|bottle|soda|coffee|juice|milk|gatorade|cup|sandwich|smoothie|tea|"
                         "monster|pop|snack|tray|thermos|shake|him|her|them"),
    "beat_until": _keys("til|until", "beat|stomp|punch|hit|kick|choke|jump|hurt|fight|smack|pound"),
    "wont_make_it_to": _keys("make it|making it|live|living|alive|around|breathing|surviv"),
    "they_will_pay": _keys("pay|regret|enjoy|find out|sorry"),
    "dated_plan": _keys("dead|gone|be here|be alive|be around|never see|make it|see"),
    "passive_death_wish": _keys("car|truck|bus|semi|train|driver|stop existing"),
    "goodbye_letters": _keys("letter|note"),
    "survival_warning": _keys("live|spared|surviv|alive|make it out|when it happens"),
    "head_banging": _keys("my head"),
    "sharp_in_skin": _keys("pin|needle|compass|pointy", "my"),
    "into_the_water": _keys("lake|river|pond|quary|reservoir|creek|canal"),
    "not_invited": _keys("invited|coming|welcome"),
    "coordinated_exclusion": _keys("no one|nobody|noone|no1|don't|dont|do not|if|whoever|let|everyone|everybody|yall|"
                                   "y'all|kick|remov|drop|gc|group|chat|squad|made|making|make"),
    "spread_rumor": _keys("tell|rumor|rumour|spread|hear"),
    "mock_praise": _keys("ever|brave|old|for a|if"),
    # round eight (pat8); the first group holds the rare words (the batch trigger needs one of them);
    # no one- or two-letter keys ("i", "m", "te"): the keyword scan would find them in every post
    "grievance_payback": _keys("get|catch", "who|that|dat"),
    "first_one_who": _keys("get|catch", "first|next|any|whoever"),
    "kill_named_marked": _keys("unalive|kill|murder|stab|shoot|merk|smoke"),
    "cryptic_warning": _keys("don't|dont|do not", "trust|saying|sayin|say|see|ask"),
    "packed_for_the_day": _keys("gun|knife|knives|bomb|blade|pistol|glock",
                                "packed|loaded|hidden|hid|stashed|tucked|ready"),
    "weapon_access": _keys("gun|rifle|pistol|shotgun|glock|revolver|ammo|bullets", "know|found|figured|got"),
    "extortion_deadline": _keys("send|pay|venmo|cashapp|zelle|give", " or "),
    "exposure_ultimatum": _keys("pics|pictures|nudes|photos|videos|vids|screenshots|snaps|texts|dms", "see|get|find"),
    "armed_ultimatum": _keys("gun|pistol|rifle|shotgun|glock|revolver|strap|piece|gauge|9|22|ar|ak|knife|blade|machete|taser",
                             "done|over|handle|no more"),
    "es_kill_you": _keys("matar|mato|apunal|disparar|quebr|revent|partir|romper|meter|meto"),
    "pt_kill_you": _keys("matar|mato|esfaque|furar|quebrar|arebentar|tiro|bala"),
    "ht_kill_you": _keys("touye|tiye|frape|koupe|tire"),
    "jm_kill_you": _keys("kill|murda|murder|bus|box|lick|juk|jok|stab|shot|chop|beat|mash|bruk"),
    "ng_kill_you": _keys("kill|stab|wound|finish|beat|deal|show|jam|slap|cut"),
    "not_die_just_not_exist": _keys("exist|be here|be alive|wake up|be around|disappear|vanish|sleep|live",
                                    "die|kill myself"),
    "giving_away": _keys("need", "giving|give|gave|gifting|handing"),
    "dated_not_alive": _keys("birthday|bday|graduation|christmas|summer|new year|thanksgiving|senior year|prom|year"),
    "kms_serious": _keys("kill myself", "time|joke|joking|mean it"),
    "restriction_goal": _keys("nothing|zero|0|no food|water", "ate|eaten|eat|had|goal|plan|aim"),
    "last_goodbye": _keys("other side|next life|another life|heaven", "last|final"),
    "covering_arms": _keys("arms|wrists|thighs|scars|cuts|marks|burns", "wore|wear|stuck wearing"),
    "es_want_to_die": _keys("morir|matar|suicidar|vivir|estar aqui|existir|seguir|muera|despertar"),
    "pt_want_to_die": _keys("morer|matar|viver|sumir|desaparecer|vida"),
    "ht_want_to_die": _keys("mouri|touye tet|viv"),
    "jm_want_to_die": _keys("dead|ded|kill|live|liv"),
    "ng_want_to_die": _keys("die|dey|de |tire|live"),
    "friend_took_pills": _keys("pills|meds|tylenol|advil"),
    "friend_silent_after": _keys("answer|picking up|respond|phone|location|offline|blocked|deleted"),
    "never_coming_back": _keys("or ever"),
    # round eight, second pass (pat8b)
    "stigma_rumor_spread": _keys("abortion|std|herpes|lice|crabs|chlamydia|gonorrhea|hiv|syphilis|scabies|worms",
                                 "spread|pass it|tell every|share this|repost|go around"),
    "dead_on_day": _keys("dead"),
    "find_and_harm": _keys("put|send", "hospital|icu|ground|grave|body bag|wheelchair|coma|morgue|ambulance"),
    "next_one_broken": _keys("broken|broke|smashed|snapped|bashed|caved|kicked in|cracked|busted|cut off|stomped",
                             "next|first|any|whoever"),
    "explosive_place": _keys("boom|kaboom|bang|bomb"),
    "arson_means": _keys("gasoline|gas can|jerry can|lighter fluid|kerosene|accelerant", "key|code|way in"),
    "over_the_shoulder": _keys("shoulder"),
    "see_what_happens_body": _keys("see what happens"),
    "tamper_snuck": _keys("bleach|poison|laxativ|ex lax|visine|eye drop|antifreeze|drain|dish soap|cleaner|lighter fluid|"
                          "crushed glass|what i put|what i slip|what i mix|what i add|whatever i"),
    "not_coming_to_talk": _keys("not coming|not showing|not pulling|not there|not here|not gonna be there|aint coming|"
                                "ain't coming", "to talk|to chat|to argue|to debate"),
    "wear_vests": _keys("vest"),
    "something_in_bag_gun": _keys("gun|pistol|glock|knife", "something|somethin|smth|sumn|surprise"),
    "getting_unalived": _keys("unalived"),
    "spare_the_kind": _keys("nice to me|were nice|liked me|you like me|ly like me|ever like me|cared about me|care about me",
                            "stay|don't|dont|do not|skip"),
    "picked_a_date": _keys("a date|the date|my date|counting"),
    "whole_bottle": _keys("bottle|pills|meds|tylenol|advil|prescription", "take|taking|swallow|down|took"),
    "closer_to_edge": _keys("closer"),
    "letters_if_found": _keys("letter|note"),
    "giving_away_farewell": _keys("thank|love u all|love you all|love yall all|goodbye|bye everyone|need|mad at me|realest|"
                                  "the best|remember me",
                                  "giving|give|gave|gifted|handed"),
    "es_pt_self_injury": _keys("me corte|me volvi|me estoy cortando|me sigo|volvi a cortarme|me lastime"),
    "stop_for_good": _keys("stop", "for good|forever|permanently"),
    "or_anywhere_after": _keys("anywhere"),
    "stop_waking_up": _keys("die|kill myself", "waking up|being alive|living|being here|wake up"),
    "friend_goodbye_silent": _keys("answer|picking up|respond|phone|location|offline|left every|left all the|loged|deleted",
                                   "goodbye|bye|love you"),
    "friend_plan_tonight": _keys("a plan"),
    "friend_wants_to_die": _keys("die|kill|not be alive|not be here|not wake up|disappear|not exist"),
    # round nine, third pass (pat9c)
    "dont_ride_warning": _keys("bus"),
    "learns_my_name": _keys("my name"),
    "weapon_to_school_intl": _keys("escola|colegio|escuela|clase|prepa|secundaria|para siempre|pra sempre|for good|forever|permanently"),
    "make_sure_harm": _keys("make sure|making sure"),
    "matches_after_burn": _keys("matches|lighter|gas"),
    "alone_and_access": _keys("alone", "code|key|combo"),
    "which_day_warning": _keys("which day"),
    "exposure_if_tell": _keys("nudes|pics|pictures|video|vid", "if u|if you"),
    "goodbye_for_real": _keys("adios|bye|goodbye|tchau|orevwa|perdoname|perdoa|forgive me"),
    "not_coming_back_care": _keys("coming back|comin back"),
    "something_big_leak": _keys("big"),
    "smash_face_in": _keys("face|head|skull|teth", " in"),
    "where_im_going": _keys("where"),
    "food_guilt_punish": _keys("guilty|disgusting|gros|fat|punish"),
    "vi_kea_want_to_die": _keys("chet|vive|vivi|mori"),
    "friend_says_better_off": _keys("better off|wont be|won't be|point"),
    "friend_wants_to_die_es": _keys("matar|morir|suicidar"),
    # round nine, second pass (pat9b)
    "shoot_up_named_place": _keys("shoot"),
    "to_them_not_me": _keys("myself", "them|him|her|those|yall|you all|everyone|everybody|the"),
    "skip_event_warning": _keys("skip|come to|stay away|go to|stay home|show up|sit out"),
    "funeral_savings": _keys("funeral|casket|coffin|grave|headstone"),
    "head_through": _keys("head|face|skull", "through|thru|into| in "),
    "make_bleed": _keys("bleed"),
    "knows_whereabouts": _keys("ip|address|addy|schedule|route|appointment|shift|bus stop|walk", "know|got|have"),
    "sibling_leverage": _keys("brother|sister|bro|sis|cousin|sibling", "right"),
    "arson_with_people": _keys("burn|torch|fire|light"),
    "follow_to_car": _keys("follow"),
    "pills_crushed_in": _keys("pil|meds|xanax|aderal|laxativ|benadryl|ambien|oxy|perc"),
    "meet_me_injury": _keys("meet me"),
    "bare_want_dead": _keys("dead"),
    "tonight_the_night": _keys("the night|the day"),
    "kms_real_one": _keys("real"),
    "overdose_question": _keys("od|overdose|o.d|die|kil"),
    "plan_nobody_miss": _keys("nobody"),
    "dont_text_or_ever": _keys("ever|again|after that"),
    "to_not_exist": _keys("to not"),
    "skip_meals_faint": _keys("skip|didn't eat|didnt eat|haven't eaten|havent eaten"),
    "friend_not_eating_fainted": _keys("faint|pased out|blacked out|colapsed"),
    "friend_gave_away": _keys("giving|gave|handed"),
    "jump_off_directive": _keys("jump off|dive off"),
    "stereotype_jab": _keys("for a"),
    "pile_on_call": _keys("everyone|everybody|yal|y'al|guys"),
    "no_wonder_you": _keys("no wonder"),
    "voted_worst": _keys("vot|pol|nominated", "ugliest|dumbest|fatest|weirdest|smeliest|most|worst|biggest|least"),
    "low_rating_peer": _keys("rating|rate|giving", "/"),
    "praise_for_someone_who": _keys("for somebody|for someone|for a"),
    "short_bus": _keys("short bus"),
    "offer_the_video": _keys("video|vid|clip|pic|recording"),
    # round nine (pat9)
    "slur_at_peer": _keys("fag|f*g|f**|fgt|trany|trannies|retard|tard|sped|dyke|maricon|marica|joto|viado|bicha|masisi"),
    "rate_peer": _keys("rate|rank|rating|tier"),
    "brave_with_trait": _keys("brave"),
    "humiliating_share": _keys("sent|send|post|leak|drop|airdrop|forward|show|screenshot|shar|put|video|vid|clip|pic|"
                               "photo|who wants|made|making|make|start|creat|set up|fake"),
}
_ALL_RULES = tuple((category, rule, pattern, RULE_KEYS[rule])
                   for category, rules in (("bullying", BULLYING_RULES), ("threat", THREAT_RULES),
                                           ("self_harm", SELF_HARM_RULES))
                   for rule, pattern in rules)


def find_intent(normalized: str) -> list[PatternHit]:
    """Every first-person intent statement in already-normalized text (offsets into it)."""
    # The squeezed text (one re.sub in C) decides whether any rule can match, then each rule's
    # keywords whether it can; the offset map back to `normalized` is built only on a match.
    text = _DOUBLE_RE.sub(_FIRST_GROUP, normalized)
    if not _TRIGGER.search(text):
        return []
    return _rule_hits(normalized, text)


def _rule_hits(normalized: str, text: str, rules: Sequence[int] | None = None) -> list[PatternHit]:
    """The rules whose keywords `text` (the squeezed `normalized`) holds, run on it; `rules`:
    the indices into _ALL_RULES whose keywords are already known to be there."""
    hits: list[PatternHit] = []
    starts = ends = hyperbole = None
    has = text.__contains__
    for index in range(len(_ALL_RULES)) if rules is None else rules:
        category, rule, pattern, keys = _ALL_RULES[index]
        if rules is None and (not any(map(has, keys[0])) or (len(keys) > 1 and not any(map(has, keys[1])))):
            continue
        mark = _NEEDS_MARK.get(rule)
        if mark is not None and not mark.search(text):
            continue
        for m in pattern.finditer(text):
            s, e = m.span()
            if e <= s:
                continue
            if starts is None:
                _, starts, ends = squeeze(normalized)
            # rules that spell out their own negation ("nobody would miss you") look for
            # a negation only before the match
            prefix = _clause_prefix(text, s)
            if rule in _NEAR_NEGATION:
                prefix = prefix[-14:]
            scope = prefix + ("" if rule in _NEGATION_INSIDE else " " + text[s:e])
            if rule in _INTL_RULES:
                # their negators are their own languages' (and only just before the statement)
                negated = bool(_INTL_NEGATION.search(_INTL_NOT_A_NEGATION.sub(" , ", prefix)[-24:]))
            else:
                scope = _NOT_A_NEGATION.sub(" ", scope)
                if category == "threat":
                    scope = _NEGATED_CONDITION.sub(" ", scope)
                negated = bool(_NEGATION.search(scope))
            if hyperbole is None:
                hyperbole = [h.span() for h in _HYPERBOLE.finditer(text)]
            # a statement inside a hyperbole idiom is that idiom ("i'm gonna die" in "i'm gonna die
            # of boredom"): read as a joke, like the laughter cases, whatever its rule
            quoted = _quoted(text, s, rule) or (rule in _JOKE_RULES and bool(_JOKE_VERBS.search(text, s, e))
                                          and bool(_JOKE.search(text))) or (
                rule in _AFFECTION_RULES and bool(_AFFECTION.search(text))) or any(
                a < e and s < b for a, b in hyperbole) or (
                # round eight: a grievance over food; laughter in the five languages
                rule in _PETTY_RULES and bool(_PETTY.search(text))) or (
                rule in _INTL_RULES and bool(_JOKE_INTL.search(normalized))) or (
                rule in _INTL_RULES and category == "threat" and bool(_GAME_INTL.search(text)))
            score = 0.0 if negated else QUOTED_SCORE if quoted else PLAIN_SCORE
            hits.append(PatternHit(category, rule, starts[s], ends[e - 1], score, negated, quoted))
    return hits


# _TRIGGER for unsqueezed text, run over a whole batch joined by NUL (and one NUL before it).
# A trigger word starts with a word character, so `\b` before it means a non-word character
# before it: the regex starts with that character (\W), and the engine skips in C from one
# space or punctuation mark to the next. No trigger word holds a NUL, so a match lies in one
# post; "[^\0]*" takes the rest of the post (one match per post). Squeezing, the costliest
# step, is then done only for the posts it finds.
_TRIGGER_RAW = re.compile(r"\W(?:" + literal_trie(TRIGGER_WORDS, repeats=True) + ")" + REST_OF_POST)
_FIRST_GROUP = itemgetter(1)        # re.sub with a C callable: no Python template per match


def _key_index() -> tuple[re.Pattern, dict[str, int], dict[str, tuple[str, ...]], tuple[tuple[int, int], ...]]:
    """Every rule's keywords found in one scan (see find_intent_batch).

    The scan is a trie of all keywords, run with findall: the longest keyword at the leftmost
    place, then on after it. A keyword that occurs in the text then starts where a match
    starts (it is a prefix of that match), or inside a match: wholly inside it (a substring of
    the match), or running past its end, which only keywords starting with an end of the match
    can do ("me" then "end" in "mend"): those few are tested with `in`. Returned: the scan;
    for each keyword, the bits of the keyword groups that it and every keyword inside it
    satisfy; for each keyword, the keywords that could run past its end; for each rule, its
    index and the bits it needs (all its groups)."""
    words = sorted({k for _, _, _, groups in _ALL_RULES for g in groups for k in g})
    bit_of: dict[tuple[int, int], int] = {}
    for r, (_, _, _, groups) in enumerate(_ALL_RULES):
        for g in range(len(groups)):
            bit_of[(r, g)] = 1 << len(bit_of)
    direct = {w: 0 for w in words}
    for r, (_, _, _, groups) in enumerate(_ALL_RULES):
        for g, group in enumerate(groups):
            for k in group:
                direct[k] |= bit_of[(r, g)]
    bits = {w: 0 for w in words}
    past: dict[str, tuple[str, ...]] = {}
    for w in words:
        for k in words:
            if k in w:
                bits[w] |= direct[k]
        past[w] = tuple(k for k in words if k not in w and any(k.startswith(w[d:]) for d in range(1, len(w))))
    needs = tuple((r, sum(bit_of[(r, g)] for g in range(len(groups))))
                  for r, (_, _, _, groups) in enumerate(_ALL_RULES))
    return re.compile(literal_trie(words)), bits, past, needs


_KEY_SCAN, _KEY_BITS, _KEY_PAST, _RULE_NEEDS = _key_index()


def find_intent_batch(normalized: Sequence[str]) -> list[list[PatternHit]]:
    """`find_intent` for each text, in order. The trigger runs once over the whole batch;
    only the posts it finds are squeezed, and their keywords for all rules are found in one
    scan instead of one substring test per keyword and rule."""
    texts = list(normalized)
    out: list[list[PatternHit]] = [[] for _ in texts]
    if not texts:
        return out
    joined, starts = join(texts)
    # (the match starts at the character before the word: in SEP + joined, that is where the
    # word starts in `joined`)
    found = sorted({bisect_right(starts, m.start()) - 1 for m in _TRIGGER_RAW.finditer(SEP + joined)})
    if not found:
        return out
    # squeezed in one call (no run of a letter holds a NUL) unless a post holds a NUL itself
    joined = SEP.join([texts[i] for i in found])
    squeezed = _DOUBLE_RE.sub(_FIRST_GROUP, joined).split(SEP) if joined.count(SEP) == len(found) - 1 \
        else [_DOUBLE_RE.sub(_FIRST_GROUP, texts[i]) for i in found]
    for i, text in zip(found, squeezed):
        mask = 0
        for w in set(_KEY_SCAN.findall(text)):
            mask |= _KEY_BITS[w]
            for k in _KEY_PAST[w]:
                if k in text:
                    mask |= _KEY_BITS[k]
        rules = _RULES_FOR.get(mask)
        if rules is None:
            rules = _RULES_FOR[mask] = [r for r, need in _RULE_NEEDS if mask & need == need]
        if rules:
            out[i] = _rule_hits(texts[i], text, rules)
    return out


_RULES_FOR: dict[int, list[int]] = {}      # keyword bits -> the rules they allow (a few hundred)


def pattern_scores(normalized: str) -> dict[str, tuple[float, float, list[PatternHit]]]:
    """category -> (pattern score, damp factor for the model score, hits)."""
    return scores_from_hits(find_intent(normalized))


def scores_from_hits(hits: list[PatternHit]) -> dict[str, tuple[float, float, list[PatternHit]]]:
    """pattern_scores for hits already found (the batch path finds them once per post)."""
    out: dict[str, tuple[float, float, list[PatternHit]]] = {}
    for category in ("bullying", "threat", "self_harm"):
        mine = [h for h in hits if h.category == category]
        if not mine:
            out[category] = (0.0, 1.0, [])
            continue
        best = max(h.score for h in mine)
        plain = any(not h.negated and not h.quoted for h in mine)
        # round eight: a quoted or joking statement in the five languages does not damp the model,
        # which reads the post's English around it ('my friend said "ya no quiero vivir" and then
        # jk ... she is not the type who jokes': a seed concern post it cost its label)
        damping = any(h.negated or h.rule not in _INTL_RULES for h in mine)
        out[category] = (best, 1.0 if plain or not damping else NEGATED_DAMP, mine)
    return out


# --- tone: hyperbole and friendly teasing (issue 13) ---------------------------------------------
# Teen hyperbole uses the words of violence and despair ("this test is killing me", "i'm dead",
# "i could kill for a nap"); friendly teasing uses the words of insults ("ur such an idiot i love
# u", "you're sick at basketball"). When a post holds such an idiom and no plain intent statement
# of that category, the model's score is damped (TONE_DAMP), never zeroed: a real threat written
# with an idiom in it still has its pattern, and the counselor can still see the score.
TONE_DAMP = 0.5
_HYPERBOLE = _c(
    r"\b(?:killing me|killed me|kill me now|death of me|dying (?:of|laughing|rn)|i'm dead|im dead|i am dead|"
    r"i'm deceased|im deceased|deceased|dead tired|dead serious|could kill for|would kill for|would die for|"
    r"to die for|i'd die for|id die for|shoot my shot|shoot (?:me )?a (?:text|message|dm|email)|killing it|killed it|"
    r"kill it|slay(?:ed|ing)?|murder(?:ed|ing)? (?:this|that|the|my) (?:test|song|beat|game|stage|exam|quiz)|"
    r"bomb(?:ed)? (?:the|my|that) (?:test|quiz|exam)|the bomb|knock (?:em|them) dead|break a leg|"
    r"(?:mom|dad|mother|father|parents|coach|teacher|sister|brother|grandma)(?:'s| is| are| will| would)? "
    r"(?:gonna |going to |will |literally |actually )*(?:kill|murder) (?:me|us)|"
    r"(?:he|she|they)(?:'s| is| are|'ll| will)? (?:gonna |going to )?(?:kill|murder) me (?:for|if|when)|"
    # round eight: "end me" is about the poster, said of a teacher or a parent ("ms leblanc is gonna
    # end me when she sees what i did to the dovetail joints", holdout7 hyperbole, read after its
    # scoring) or of him or her "when/if/for"
    r"(?:mom|dad|mother|father|parents|coach|teacher|sister|brother|grandma|grandpa|(?:ms|mr|mrs|miss|dr|coach)\.? [a-z]+)"
    r"(?:'s| is| are| will| would|'ll)? (?:gonna |going to |will |literally |actually |about to |finna )*end (?:me|us)\b|"
    r"(?:he|she|they)(?:'s| is| are|'ll| will)? (?:gonna |going to |literally |actually )*end me (?:for|if|when)|"
    # and the Spanish and Portuguese "die of shame", "kill myself studying"
    r"(?:morir|morirme|matar|morrer|muero|morro) (?:de|del|estudiando|estudando|trabajando|trabalhando)\b|"
    r"could eat a horse|(?:dying|died|die) of (?:hunger|boredom|embarrassment|laughter|cringe)|literally died|"
    r"want to die of|gonna die if|going to die if|i'm starving|im starving|so hungry|"
    r"my (?:feet|legs|back|head|phone|battery) (?:is |are )?(?:killing|dying|dead))")
_FRIENDLY = _c(
    r"\b(?:love (?:you|u|ya|her|him|it|this)|ily|ilysm|bestie|bff|proud of|jk|just kidding|rematch|congrats|"
    r"so jealous|legend|goat|went off|killed it|cooking|savage for|sick (?:at|goal|shot|play|move|dunk)|"
    r"fire|hilarious|so funny|you're funny|your funny|slaps|hard af|hell yeah|fuck yeah|holy shit|"
    r"bad bitch|menace|goofy)\b")


def tone(normalized: str) -> tuple[bool, bool]:
    """(hyperbole idiom, friendly marker) in already-normalized text."""
    text = _DOUBLE_RE.sub(_FIRST_GROUP, normalized)
    return bool(_HYPERBOLE.search(text)), bool(_FRIENDLY.search(text))
