"""Protected help-seeking: asking for help, or offering it, is never misconduct.

Policy (written down in classifiers/models/README.md as well):
- A post that asks for help ("how do I talk to a counselor", "I need help", "who do I tell, my
  friend said she wants to hurt herself") or offers it ("call 988", "text HOME to 741741", "you can
  talk to me") is *help-seeking*. The pipeline never routes it as misconduct: its bullying and
  threat labels are suppressed (a student reporting a threat quotes the threat; punishing the
  report would teach students not to report).
- Self-harm disclosure together with help-seeking keeps its self_harm score and label, and the
  Classification carries help_seeking=True, so the incident can be routed as a supportive
  check-in (the district's counselors decide; the policy's incidents setting chooses flag/hold).
- A plain first-person threat ("I will shoot up the school") keeps its threat label even next to
  help-seeking words: a mandated reporter must never miss it, and "help" must not be a password.
- Scores are left as computed: only labels are suppressed, so an auditor can see what the models
  thought.
Detection is by rule on normalized text (classifiers.normalize), so it is cheap and explainable.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Sequence

from classifiers.normalize import normalize_text
from classifiers.textscan import REST_OF_POST, SEP, anchored_any, join, without_word_boundary

_HELPERS = (r"(?:counselou?r|counseling|guidance|therapist|therapy|psychologist|psychiatrist|social worker|"
            r"school nurse|nurse|teacher|principal|trusted adult|an adult|a grown up|my parents?|mom|dad|"
            r"someone|somebody|anyone|hotline|helpline|crisis line|lifeline|crisis text line|988|"
            r"911|the police|a doctor|doctor|help)")

_RULES = (
    # asking how to reach help
    re.compile(rf"\b(?:how (?:do|can|should) (?:i|you|we|someone)|where (?:do|can) (?:i|you|we)|"
               rf"who (?:do|can|should) (?:i|you|we)|is it ok to|should i|can i|how to)\s+"
               rf"(?:\w+\s+){{0,3}}?(?:talk|speak|reach out|go|reach|call|text|tell|contact|see|get|find|report|message)"
               rf"(?:\s+(?:to|with|a|an|the|my|some|in touch with|help|for))*\s*(?:\w+\s+){{0,4}}?{_HELPERS}"),
    re.compile(r"\bwho (?:do|can|should) (?:i|we) tell\b|\bwhat (?:do|should) i do\b.{0,60}\b(?:hurt|kill|die|suicid|threat|bull)"),
    # stating a need for help
    re.compile(r"\b(?:i|we|my friend|she|he|they)\s+(?:really |seriously |just |desperately )?"
               r"(?:need|needs|want|wants|am looking for|'m looking for|m looking for|looking for|am asking for|"
               r"asking for)\s+(?:some |professional |real )?(?:help|support|someone to talk to|to talk to someone|"
               r"a counselou?r|a therapist)\b"),
    # not knowing whom to turn to, or asking whether or how to report something, is asking for
    # help, whatever the post quotes before it
    re.compile(r"\bi (?:don't|dont|do not|dunno) (?:even )?know who (?:to|i can|i should|i could) "
               r"(?:talk to|tell|go to|ask for help|turn to)\b|"
               r"\b(?:can|should|could) (?:i|we) (?:even )?report (?:this|that|it|them|him|her|the post|the account)\b|"
               r"\b(?:how|where) (?:do|can|should) (?:i|we) report (?:this|that|it|them|him|her|the post|the account)\b"),
    re.compile(r"\b(?:please|pls|plz|someone|somebody|anyone) (?:please )?help me\b|\b(?:can|could|will) (?:someone|anyone|somebody) (?:please )?help\b|"
               r"\b(?:is there|are there|any|know of)\s+(?:a |an |any |some )?(?:hotline|helpline|crisis line|"
               r"counselou?r|therapist|support group|someone (?:i|we) can talk to)\b"),
    # telling (or having told) a counselor, a teacher or the office; not the telling a threat warns
    # against ("if u tell mr b about me again ...", "whoever told mrs p about my vape is getting
    # ..."; round seven, prompted by holdout7 after its scoring)
    # (the look-behinds follow the verb: every branch must start with a word character for the
    # batch form, textscan.without_word_boundary)
    re.compile(r"\b(?:talk(?:ed|ing)? to|told|tell|see|saw|seeing|call(?:ed|ing)?|text(?:ed|ing)?|reach(?:ed|ing)? out to)"
               r"(?<!\bwhoever told)(?<!\bwho told)(?<!\bwho tell)(?<!\bever tell)(?<!\bever told)"
               r"(?<!\bbetter not tell)(?<!\bdare tell)\s+"
               r"(?:my |a |the |our |school |guidance )*(?:counselou?r|therapist|trusted adult|school nurse|"
               r"psychologist|social worker|hotline|helpline|lifeline|crisis line|988|"
               r"(?:ms|mr|mrs|miss|coach|dr)\.? [a-z]+|(?:a |my |the )?teacher|the principal|"
               # round seven (holdout7, read after its scoring): "told the vp about the kid who ..."
               r"the (?:vp|vice principal|assistant principal|dean|office|front office|sro|resource officer))"
               r"\b(?! (?:about|on) me\b)"),
    # owning up to having reported someone else ("im the one who told about the kid with the list.
    # if ur mad at me fine"; holdout7's help post, labelled threat by round eight's models after
    # r8b's "whoever told ..." threats moved the nearest seeds): the reporter, not the one warned
    re.compile(r"\b(?:i'?m|im|i am|i was|it was me,?|yeah i'?m) the one (?:who|that) (?:told|reported|snitched)\b"
               r"(?! (?:on|about) me\b)"
               # ... unless the post goes on to threaten ("... and hes gonna regret it when i see him")
               r"(?![^\n]{0,160}\b(?:regret|pay for|gonna get|bat|knife|gun|hurt|jump|beat|kill|when i see)\b)"),
    # offering help / resources
    re.compile(r"\b(?:call|text|dial)\s+(?:or text\s+)?988\b|\b988\b.{0,40}\b(?:lifeline|crisis|suicide|hotline)\b|"
               r"\btext (?:home|hello|talk) to 741741\b|\b741741\b|\b1[- .]?800[- .]?273[- .]?8255\b|"
               r"\b(?:suicide|crisis) (?:prevention )?(?:hotline|lifeline|line|text line)\b|\bcrisis text line\b"),
    re.compile(r"\b(?:you can|u can|you could|feel free to)\s+(?:always\s+)?(?:talk to|text|call|dm|message)\s+me\b|"
               # round seven (holdout7, read after its scoring): "come talk to me or ms allard", and a
               # witness afraid to speak up ("if i say something will they come for me")
               # (not "please dont come find me", a goodbye; round nine)
               r"\bcome (?<!dont come )(?<!don't come )(?<!do not come )(?<!never come )"
               r"(?:talk to|find|sit with|sit w) (?:me|us)\b|"
               r"\bif i (?:say something|say anything|tell|report (?:it|this|them))\b.{0,40}\b(?:will|would|could) "
               r"(?:they|he|she|them) (?:come for|come after|jump|hurt|find out|know|get|beat|retaliat)|"
               r"\b(?:i'?m|i am) (?:here|always here) (?:for you|if you need)\b|\bplease (?:talk to|tell) (?:someone|an adult|a counselou?r)\b|"
               r"\bare you safe\b"),
    # a target of bullying or threats asking what to do about it (issue 13: "kids keep calling me
    # stupid, how do i make them stop"); both parts are needed, in either order
    re.compile(r"\b(?:call(?:s|ed|ing)? (?:me|you|u)|keeps? (?:messaging|texting|calling|saying|posting|sharing|telling) "
               r"(?:me|you|my|that|about)|make fun of (?:me|you|my)|made fun of (?:me|my)|bull(?:y|ied|ies|ying)|"
               r"threaten(?:s|ed|ing)? (?:me|to)|(?:said|says|wrote) (?:i|that i|they|he|she|on my)|"
               r"spreading rumou?rs|fake account|picking on me|going to (?:stab|hurt|beat|jump) me|"
               r"gonna (?:stab|hurt|beat|jump) me|to me on my posts|sharing my|(?:got|get|getting) called|told me to|"
               r"keeps? calling me|talking about bringing a (?:gun|knife)|i'm scared|im scared)\b.{0,160}"
               r"\b(?:what (?:do|should|can) (?:i|you|we) (?:do|say)|how (?:do|can|should) (?:i|you|we) "
               r"(?:make (?:them|it|him|her) stop|block|report|get|handle|deal|stop|tell|support|help|make)|"
               r"does it ever stop|any advice|who (?:do|can|should) (?:i|we) (?:even )?tell|"
               r"should i (?:tell|report|ignore)|can the school|is it normal|i don't know who to talk to|"
               r"i dont know who to talk to)\b|"
               r"\b(?:what (?:do|should|can) (?:i|you|we) (?:do|say)|how (?:do|can|should) (?:i|you|we) "
               r"(?:make (?:them|it|him|her) stop|block|report|get|handle|deal|stop|tell|support|help)|"
               r"any advice|who (?:do|can|should) (?:i|we) (?:even )?(?:tell|talk to)|is it normal|can the school)\b.{0,160}"
               r"\b(?:call(?:s|ed|ing)? (?:me|you|u)|make fun of|made fun of|bull(?:y|ied|ies|ying)|"
               r"threaten(?:s|ed|ing)?|spreading rumou?rs|fake account|picking on|messaging me|"
               r"keeps? (?:messaging|texting|calling|saying|posting|sharing))"),
    # standing by a target (round five: "ur not ugly, dont listen to them", "leave him alone"):
    # support offered to the one bullied, which repeats the insult it answers
    re.compile(r"\b(?:you're|youre|you are|your|ur|u r|you)\s+(?:so\s+|really\s+|literally\s+)?not\s+(?:\w+\s+)?"
               r"(?:ugly|fat|weird|annoying|stupid|dumb|a loser|a freak|cringe|gross|worthless|a crybaby|a nobody)\b"
               r"(?![^.!?\n]{0,15}\b(?:enough|either|just|but)\b)|"
               r"\b(?:don't|dont|do not)\s+(?:listen to|let)\s+(?:them|those|him|her|the haters|people|anyone)\b|"
               r"\bleave (?:him|her|them|my (?:friend|sister|brother|bestie)) alone\b|"
               # round six: a bystander telling the others to stop ("u guys dont be mean to jordan");
               # not when the post goes on to insult the same person
               r"\b(?:don't|dont|do not|stop|quit)\s+(?:being\s+|be\s+)?(?:so\s+)?(?:mean to|picking on|making fun of|"
               r"bullying|laughing at)\s+(?!me\b|us\b)\w+\b(?![^.!?\n]{0,40}\b(?:loser|ugly|fat|weird|freak|cringe|lol|lmao)\b)|"
               # ... or asking them to look after the one picked on ("check on caleb")
               r"\bcheck (?:in )?on (?!me\b|us\b)\w+\b(?![^.!?\n]{0,40}\b(?:loser|ugly|fat|weird|freak|cringe|lol|lmao|crybaby)\b)"),
    # round eight, second pass (pat8b; holdout8's help posts labelled bullying, read after its one
    # scoring): a witness telling the others to stop sharing or commenting, with the reason ("guys
    # stop commenting 🐷 on her picture. its not funny", "please don't share the video of mia ...
    # if u have it delete it"); not when the post laughs along
    re.compile(r"\b(?:stop|quit|don't|dont|do not)\s+(?:commenting|posting|sharing|share|post|reposting|repost|spreading|spread|"
               r"sending|send|forwarding|forward|airdropping|screenshotting)\b"
               r"[^\n]{0,120}?\b(?:it'?s not funny|its not funny|not funny|not cool|not ok|not okay|messed up|(?:she|he|they)'?s "
               r"(?:been )?crying|(?:she|he|they)(?:'s| is| are|s) (?:humiliated|embarrassed|upset|hurt)|delete (?:it|them|that)|"
               r"take (?:it|that|them) down|report (?:it|the post|the acc\w*|whoever|them)|"
               # round nine: "she didnt consent to that"
               r"(?:she|he|they) (?:didn'?t|didnt|did not) (?:consent|agree|say yes)|without (?:her|his|their) (?:consent|permission))\b"
               r"(?![^\n]*\b(?:lol|lmao|lmfao|laughing|skull|haha\w*)\b)|"
               # comforting the one picked on: "ignore them amiga, tú eres linda", "that wasnt ur fault
               # ... u good? dm me" (not "not ur fault ur ugly")
               r"\bignore (?:them|those|em|the haters|him|her|the comments)\b[^\n]{0,60}?\b(?:you|u|tu|you're|youre|ur|your|eres|es)\s+"
               r"(?:(?:so|really|muy|tan|are|r|is|still|literally)\s+)*(?:pretty|beautiful|linda|bonita|hermosa|lindo|cute|gorgeous|amazing|"
               r"talented|great|enough|valid|loved|bella|bela)\b|"
               r"\b(?:wasn'?t|wasnt|isn'?t|isnt|is not|was not|not) (?:ur|your) fault\b"
               # (and words of support after it: "it wasnt ur fault" closing a goodbye note is not help)
               r"(?=[^\n]{0,80}?\b(?:and|tell|dm|text|u good|you good|report|screenshot|bullies|they|everyone|we|the)\b)"
               r"(?![^.!?\n]{0,25}\b(?:ur|you'?re|youre|your|u r) (?:ugly|fat|weird|a loser|annoying|stupid|dumb|cringe|gross)\b)"
               r"(?![^\n]*\b(?:lol|lmao|lmfao|laughing|skull)\b)|"
               r"\b(?:u|you|ya) (?:good|ok|okay|alright|doing ok|doing okay)\s*\?+\s*(?:dm|text|message|hmu|msg) me\b|"
               # the one a comment was aimed at, quoting it and saying what it did ("they commented
               # 'nobody would miss u' under my tiktok. idk why it gets to me")
               r"\b(?:they|someone|somebody|he|she|people|ppl|a girl|a guy|some (?:girl|guy|kid|account|acc))\s+"
               r"(?:commented|wrote|sent me|said|dmed me|dm'?d me|texted me|replied|messaged me|keeps commenting)\b"
               r"[^\n]{0,60}?\b(?:under|on|in|to) my (?:tiktok|post|pic|picture|video|vid|story|insta|page|selfie|comments|dms)\b"
               r"[^\n]{0,80}?\b(?:gets to me|get to me|still hurts|it hurts|hurts so much|made me cry|i cried|stuck with me|"
               r"it stuck|can'?t stop thinking about it|idk what to do|worth reporting|should i (?:report|tell|block))\b|"
               # how to block or report, in Spanish and Portuguese ("alguien sabe cómo bloquear a alguien en
               # WhatsApp")
               r"\b(?:como|cmo) (?:puedo |se puede |se |hago para |hago pa |faco para |faco pra |eu )?"
               r"(?:bloquear|bloqueo|reportar|reporto|denunciar|denuncio|silenciar)\b"),
    # round nine (holdout7's and holdout9's help posts labelled bullying or threat, read after their
    # scoring): not knowing whom to tell; taking the evidence to an adult; going with the one picked on
    # to the office; how to report an account or a page
    re.compile(r"\b(?:idk|i don'?t know|i dont know|dunno|not sure) who (?:to|i should|i can|should i|do i) "
               r"(?:tell|talk to|go to|report (?:it|this|them) to)\b|"
               r"\b(?:gave|showed|sent|took|taking|bringing|brought|giving|showing|sending)\s+(?:it|them|everything|all of it|"
               r"(?:the|my|all the|those|all my|her|his) (?:screenshots?|ss|messages|texts|dms|video|vid|proof|evidence))\s+to\s+"
               r"(?:ms|mr|mrs|miss|coach|dr|pastor|the principal|the office|the counselou?r|a teacher|my teacher|the dean|the vp|"
               r"an adult|my mom|my dad|guidance|the school|the sro)\b|"
               r"\b(?:we|i'?ll|ill|i will|i'?m gonna|im gonna|let'?s|lets|we can|we gonna|we'?ll)\s+(?:\w+\s+)?(?:go|walk|come)\s+"
               r"(?:with (?:u|you|her|him|them) )?to\s+(?:the office|the counselou?r|the principal|the nurse|guidance|the dean|"
               r"(?:ms|mr|mrs|miss)\.? \w+)(?: together| with (?:u|you|her|him|them))?\b(?![^\n]*\b(?:lol|lmao|jk)\b)|"
               # an adult's invitation to talk, taken up ("pastor mike said come talk to him if anybody ... so im gonna")
               r"\b(?:pastor|coach|ms|mr|mrs|miss|dr|counselou?r|teacher|principal|the nurse|my mom|my dad|my aunt|my grandma)"
               r"\.?(?: [a-z]+)? (?:said|says|told me|told us) (?:to )?come (?:talk to|see|find) (?:him|her|them)\b|"
               r"\bhow (?:do|can|should) (?:u|you|i|we|someone) report (?:a|an|this|that|the|his|her|their) "
               r"(?:ig|insta|instagram|tiktok|snap|snapchat|account|acc|acct|page|post|video|story|server|discord)\b"),
    # reporting someone else's danger to get them help
    re.compile(r"\bmy (?:friend|bestie|best friend|sister|brother|classmate|cousin|girlfriend|boyfriend)\b.{0,80}"
               r"\b(?:said|says|told me|posted|texted|wants to|is going to|is gonna)\b.{0,60}"
               r"\b(?:hurt|kill|die|suicid|cut|end it|shoot|bring a gun)\w*\b.{0,80}"
               r"\b(?:who|what|how|help|tell|report|do i|should i)\b"),
)


# Every rule needs one of these; one search rules most posts out. Plain words, kept as data: the
# per-post trigger and the batch one (below) are both built from them.
TRIGGER_WORDS = (
    "help|counsel|therap|hotline|helpline|lifeline|crisis|988|741741|8255|support|talk|tell|told|"
    "report|call|text|dial|here for you|safe|adult|nurse|doctor|police|psych|social worker|"
    "guidance|principal|teacher|if i say|what do i do|what should i do|call|bull|threaten|rumo|fake account|make fun|"
    "made fun|picking on|keep|said|says|wrote|going to|gonna|sharing|not|listen|let|alone|"
    "mean to|making fun|laughing at|bullying|check on|check in on|"
    # round eight, second pass (pat8b)
    # (words each new branch needs, and rare ones: a common word here would also run the older rules
    # on posts they never saw before)
    "been crying|s crying|humiliat|embarrass|upset|hurt|delete|take it|take that|take them|ignore|fault|dm me|msg me|hmu|"
    "message me|commented|sent me|dmed|dm'd|replied|messaged|bloque|reportar|denunci|silenciar|"
    # round eight: the reporter owning up ("told" and "report" are above); "come sit w us" (round
    # seven's branch, which no trigger word reached)
    "snitched|come sit|"
    # round nine: "idk who to tell" and "told" are above; evidence taken to an adult; going together
    "gave|showed|sent|took|taking|bringing|brought|giving|showing|sending|go to|walk to|come to|consent|come talk|come see|"
    "come find"
).split("|")
_TRIGGER = re.compile("|".join(map(re.escape, TRIGGER_WORDS)))


def is_help_seeking(text: str, *, normalized: str | None = None) -> bool:
    """True when the post asks for or offers help (see module docstring for the policy)."""
    t = normalized if normalized is not None else normalize_text(text)
    return bool(_TRIGGER.search(t)) and any(r.search(t) for r in _RULES)


# The batch forms of _TRIGGER and _RULES (is_help_seeking_batch). The trigger, anchored on its
# words' rare letters (textscan.anchored_any), runs once over the batch joined by NUL: a trigger
# word holds no NUL, so a match is inside one post, and "[^\0]*" takes the rest of the post
# (one match per post). The rules become one alternation: a search finds a match of the
# alternation exactly where one rule matches (no rule has groups or flags of its own), for one
# call per post instead of eight.
_TRIGGER_BATCH = re.compile(anchored_any(TRIGGER_WORDS) + REST_OF_POST)
_ANY_RULE = re.compile("|".join(f"(?:{r.pattern})" for r in _RULES))
# Every rule is a choice of `\b`-led branches, so the alternation can start at the non-word
# character before a branch instead (searched in NUL + text): the engine then skips in C from
# one space or punctuation mark to the next (textscan.without_word_boundary).
_ANY_RULE_AFTER_NON_WORD = re.compile(without_word_boundary([r.pattern for r in _RULES]) or "(?!)")
_RULES_AFTER_NON_WORD = _ANY_RULE_AFTER_NON_WORD.pattern != "(?!)"


def is_help_seeking_batch(texts: Sequence[str], normalized: Sequence[str]) -> list[bool]:
    """`is_help_seeking(text, normalized=n)` for each pair, in order: as there, the normalized
    text is what is read (a text is normalized here only where its normalized form is None).
    The trigger runs once over the whole batch; the rules only for the posts it finds."""
    if len(texts) != len(normalized):
        raise ValueError(f"{len(texts)} texts but {len(normalized)} normalized texts")
    # (a missing normalized text is made from the text, as is_help_seeking does)
    norms = [n if n is not None else normalize_text(t) for t, n in zip(texts, normalized)]
    out = [False] * len(norms)
    if not norms:
        return out
    joined, starts = join(norms)
    for m in _TRIGGER_BATCH.finditer(joined):
        i = bisect_right(starts, m.start()) - 1
        if _RULES_AFTER_NON_WORD:
            out[i] = _ANY_RULE_AFTER_NON_WORD.search(SEP + norms[i]) is not None
        else:
            out[i] = _ANY_RULE.search(norms[i]) is not None
    return out
