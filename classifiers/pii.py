"""Personal information in a student's post (student guideline 4).

Guideline 4, in our words: students may not share confidential information about themselves,
their family, peers or others; name, address, phone number, school and birthday are examples.
This module finds those items in a post and returns one `Evidence(category="pii")` per item,
with the span as written and a weight in [0, 1]. The pipeline takes the largest weight as the
post's pii score; the weights are set so that a flag threshold of 0.5 flags what a counselor
should see and leaves the weak signals (kept for the evidence list) below it.

Kinds and weights (why):
- ``phone`` 0.9: a number libphonenumber calls *valid* for the US (or any +country number).
  Candidates come from a cheap regex first (PhoneNumberMatcher alone costs ~150 us on any text
  with digits); an order/invoice/tracking/confirmation/account/ID word just before the number
  means it is not a phone number (order numbers are often 10 digits). A 7-digit local number
  ("555-0123") counts only next to a phone word (call, text, cell, number...) at 0.6. Digits
  spelled out or spaced apart to slip past filters ("nine seven eight five five five ...",
  "9 7 8 5 5 5 0 1 4 2", mixed) at 0.8 when they make a valid 10/11-digit number and are not
  counting ("one two three ...").
- ``email`` 0.85; written out ("jay at gmail dot com") 0.75.
- ``address`` 0.85 for house number + street name + suffix (St, Ave, Rd, Lane, ...), 0.95 when a
  city/state/ZIP or unit follows. Suffixes that are also ordinary words (way, place, court,
  drive, lane, square, circle, trail, path, row) need a capitalized street name or address
  context ("I live at", "my address", "come over to") -- "2 hard drive" is not an address.
  A street without a number after "I live on" is 0.6; "City, ST 01923" alone 0.7.
- ``dob`` 0.9 for a full date, 0.8 for day and month, only next to birthday words (birthday,
  bday, born, DOB, date of birth); a birth year alone ("born in 2011") 0.4: an age-sized hint,
  not a birthday. A date or a year without that context is not PII.
- ``school`` a district school's name (roster orgs plus the district's names and nicknames,
  e.g. "Essex Tech"): 0.75 with self-locating words ("I go to", "I attend", "my school",
  "student at", "junior at", "class of"), 0.45 after a bare "at/from" ("great game at Essex Tech"
  is news, not disclosure), 0.3 for a bare mention. Under the threshold unless it locates a
  student.
- ``student_name`` 0.8: the full name (given + family; 0.7 with a common nickname + family) of
  another *student* in the roster, in any case, accents optional. Staff names are not student PII: a teacher's professional name is
  public ("Ms. Rivera's class was fun" does not fire). A first name alone never fires.
- ``own_name`` 0.35: the author's own full name. Guideline 4 counts one's own name as personal
  information, but students sign their own posts all the time; flagging that alone would bury
  counselors. It stays in the evidence (so a post with the author's name *and* their phone number
  shows both) and under the threshold on its own.
Names that are everyday words ("Will May") only count when capitalized. Contact details are
reported whoever they belong to: a post cannot tell us whether the number is the author's own.
Schools outside the district are not recognized (we only know our own schools' names).

Speed: `PiiDetector` builds its indexes once per roster (~50 ms for 2,000 people); per post, cheap
substring gates decide which regexes run at all, and names cost one tokenization plus one set
test (`NameIndex`). `find_pii` caches one detector per (roster, district) object pair.
`find_pii_batch` (PiiDetector.find_batch) gives the same results for a batch at a third of the
cost: each gate is evaluated once over the whole batch (classifiers.textscan), and a few gates
that only skip regexes which cannot match (the e-mail domain after "@", the spelled "at" with
its domain, a five-digit run for a ZIP) let most posts with an "@" or a digit skip the costly
regexes.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Iterable, Sequence

import phonenumbers

from classifiers.district import District, alternation, as_district
from classifiers.nicknames import ascii_words, name_index_of, tokens as name_tokens_of
from classifiers.textscan import (REST_OF_POST, anchored_any, join, join_lower, posts_matching, posts_with,
                                  word_counts)
from classifiers.types import Evidence

CATEGORY = "pii"

W_PHONE, W_PHONE_LOCAL, W_PHONE_SPELLED = 0.9, 0.6, 0.8
W_EMAIL, W_EMAIL_SPELLED = 0.85, 0.75
W_ADDRESS, W_ADDRESS_FULL, W_STREET_ONLY, W_CITY_ZIP = 0.85, 0.95, 0.6, 0.7
W_DOB_FULL, W_DOB_DAY, W_DOB_YEAR = 0.9, 0.8, 0.4
W_SCHOOL_SELF, W_SCHOOL_AT, W_SCHOOL_BARE = 0.75, 0.45, 0.3
W_STUDENT, W_STUDENT_NICK, W_OWN = 0.8, 0.7, 0.35

# ---------------------------------------------------------------------------- phone numbers
_PHONE_CAND = re.compile(
    r"(?<![\w$#.,/])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{3}\)|\d{3})[\s.\-]?\d{3}[\s.\-]?\d{4}(?![\w/])"
    r"|(?<![\w$#])\+\d[\d\s.\-()]{7,16}\d(?!\w)")
_PHONE_LOCAL = re.compile(r"(?<![\w$#.])\d{3}[\-.\s]\d{4}(?![\w.]\d)")
_PHONE_WORDS = re.compile(r"\b(?:call|text|txt|phone|cell|number|num|digits|hmu|hit me up|dial)\b", re.I)
_NOT_PHONE = re.compile(
    r"\b(?:order|invoice|tracking|confirmation|conf|account|acct|ref|reference|id|serial|isbn|"
    r"ticket|case|receipt|sku|po|model|part|code|pin|item|product|serial|student)\b"
    r"[\s:#.]*(?:number|num|no|nr|id)?[\s:#.]*$", re.I)
_DIGIT_WORD = (r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|\d)")
_SEVEN_DIGITS = re.compile(r"\d(?:\D{0,4}\d){6}")
_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGIT_VALUE = {w: str(i) for i, w in enumerate(_DIGIT_NAMES)} | {"oh": "0", "o": "0"}
_SPACED_DIGITS = re.compile(r"\d[\s.\-,]{1,3}\d[\s.\-,]{1,3}\d[\s.\-,]{1,3}\d")
_DIGIT_TOKEN = rf"(?:{_DIGIT_WORD}|\d{{2,4}})"
_PHONE_SPELLED = re.compile(rf"\b{_DIGIT_TOKEN}(?:[\s,.\-]+{_DIGIT_TOKEN}\b){{3,}}", re.I)

# ---------------------------------------------------------------------------- email
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_DOT_KEYS = ("dot", ".com", ".net", ".org", ".edu", ".us", ".io", ".me")
# (in two parts: the batch gate _AT_GATE needs what follows the "at")
# Written so no two whitespace quantifiers compete for one run of spaces: the former
# `\s*(?:\[at\]|...|\s+at\s+)` (and the same around "dot") let `\s*` give back each space of a
# long run to `\s+`, which then rescanned the run: "aa" + 60,000 spaces + "b at gmail.com" took
# 14 s. `\s*\s+at\s+` is `\s+at\s+`, so these match the same strings, in linear time. The local
# part is possessive (`{2,64}+`): what must follow it (a space, "[", "(", "{") is not in its class,
# so giving characters back could never help, and a start in a long run costs 64 steps, not 64 tries.
_EMAIL_SPELLED_DOMAIN = (
    r"\s*(?:gmail|yahoo|hotmail|outlook|icloud|aol|proton(?:mail)?|live|msn|me|[a-z0-9-]+\.(?:edu|org|k12))"
    r"(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\.)|\s+dot\s+)\s*(?:com|net|org|edu|us|io|me)\b")
_EMAIL_SPELLED = re.compile(
    r"\b[A-Za-z0-9._%+-]{2,64}+(?:\s*(?:\[at\]|\(at\)|\{at\})|\s+at\s+)" + _EMAIL_SPELLED_DOMAIN, re.I)

# ---------------------------------------------------------------------------- street addresses
_SUFFIX_STRONG = ("street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "ln", "dr",
                  "ct", "pl", "ter", "terrace", "cir", "highway", "hwy", "parkway", "pkwy", "sq", "trl",
                  "turnpike", "tpke", "pike")
_SUFFIX_WEAK = ("way", "place", "court", "drive", "lane", "square", "circle", "trail", "path", "row")
_SUFFIX = "|".join(sorted(_SUFFIX_STRONG + _SUFFIX_WEAK, key=len, reverse=True))
_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
           "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|Mass|Massachusetts|"
           "New Hampshire|Maine|Vermont|Rhode Island|Connecticut|New York")
# The house number starts with a digit, tested before the look-behind: written so, the regex
# engine skips in C from one digit to the next (the same matches as "(?<![\w$#.,/])\d{1,6}").
_ADDRESS = re.compile(
    r"(?P<num>\d(?<![\w$#.,/]\d)\d{0,5}[A-Za-z]?(?:-\d{1,4})?)\s+"
    r"(?P<name>(?:(?:[NSEW]\.?|North|South|East|West)\s+)?"
    r"(?:(?:\d{1,3}(?:st|nd|rd|th)|[A-Za-z][A-Za-z'\-]*\.?)\s+){0,2}"
    r"(?:\d{1,3}(?:st|nd|rd|th)|[A-Za-z][A-Za-z'\-]*))\s+"
    rf"(?P<suffix>{_SUFFIX})\b\.?"
    r"(?P<tail>(?:,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\w{1,5})?"
    rf"(?:,?\s+[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,?\s+(?:{_STATES})\b(?:\s+\d{{5}}(?:-\d{{4}})?)?"
    r"|,?\s+\d{5}(?:-\d{4})?\b)?)", re.I)
_STREET_ONLY = re.compile(
    r"\b(?:live|lives|living|house is|home is|staying)\s+(?:on|at)\s+(?P<street>(?:[A-Z][a-z]+\s+){1,3}"
    rf"(?:{_SUFFIX}))\b\.?", re.I)
_STREET_KEYS = ("live", "house is", "home is", "staying")
_STREET_ONLY_KEYS = ("liv", "house is", "home is", "staying")
# The only non-ASCII characters that re.I matches with an ASCII letter (İ, ı: i; ſ: s; K: k)
_ASCII_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_ZIP_GATE = re.compile(r"\s\d{5}")
_CITY_ZIP = re.compile(rf"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s*(?:{_STATES})\s+\d{{5}}(?:-\d{{4}})?\b")
_ADDRESS_CONTEXT = re.compile(
    r"\b(?:live|lives|living|address|addy|house|home|come over|pick me up|drop me off|located|"
    r"my place|meet me at|stay(?:ing)? at|moved to)\b", re.I)
# words that cannot be part of a street name: "I ate 3 hot dogs on the street"
_NOT_STREET = frozenset("""
the a an on in at my your his her our their to of for and or but is are was were be i you we they it
this that with from by so very too around near down up over under into onto across about just like
more most less than then when while if because min mins minutes hours hrs hr days weeks months years
yrs times laps miles mile km blocks dollars bucks people kids friends guys points goals likes
every each some any all no other another one two three few many several hour minute second day week
month year time lap block dollar buck person kid friend guy point goal like car cars hand hands
""".split())

# ---------------------------------------------------------------------------- dates of birth
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAY}\b(?P<y1>,?\s+{_YEAR})?"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?P<y2>,?\s+{_YEAR})?"
    rf"|(?:0?[1-9]|1[0-2])(?P<sep>[/\-.])(?:0?[1-9]|[12]\d|3[01])(?:(?P=sep)(?P<y3>{_YEAR}|\d{{2}}))?"
    rf"|(?P<y4>{_YEAR})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))(?![\w/])", re.I)
_BIRTH = re.compile(r"\b(?:birthday|bday|b-day|b day|birth\s*day|birthdate|birth date|date of birth|"
                    r"dob|d\.o\.b\.?|born|turn(?:ing)?\s+\d{1,2}\s+on|bornday)\b", re.I)
_BIRTH_KEYS = ("birth", "bday", "b-day", "b day", "born", "dob", "d.o.b", "turn")
_BIRTH_YEAR = re.compile(rf"\bborn\s+(?:in\s+)?(?:the\s+year\s+)?({_YEAR}|'\d{{2}})\b", re.I)
_DOB_WINDOW_BEFORE, _DOB_WINDOW_AFTER = 45, 30


# ---------------------------------------------------------------------------- batch gates
# Run once over a batch joined by NUL (see PiiDetector.find_batch). None of them can match a NUL.
_DIGIT_RUN = re.compile("[0-9]" + REST_OF_POST)    # has_digit: ASCII digits, one match per post
# Necessary conditions of the two e-mail regexes: _EMAIL's domain part, and the spelled "at".
_EMAIL_GATE = re.compile(r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# (the "at" of _EMAIL_SPELLED without re.I, so the search can skip to each a/A in C, and its
# domain part after it, with re.I as there)
_AT_GATE = re.compile(r"[aA](?<=[\[({\s][aA])[tT][\])}\s](?i:" + _EMAIL_SPELLED_DOMAIN + ")")

# ---------------------------------------------------------------------------- school
_SCHOOL_SELF = re.compile(
    r"(?:\b(?:i|we|me)\s*(?:'m|am|are)?\s*(?:go|goes|going|gonna go|went)\s+to|\battend(?:s|ing)?|"
    r"\bgo(?:es)?\s+to|\bmy\s+(?:school|high\s*school|hs)\s+(?:is|=)|\bstudents?\s+(?:at|of)|"
    r"\b(?:freshman|sophomore|junior|senior|\d{1,2}(?:st|nd|rd|th)\s+grader|grader|new kid)\s+(?:at|in)|"
    r"\benrolled\s+(?:at|in)|\bstudy\s+at|\bi'?m\s+(?:at|in))\s+(?:the\s+)?$", re.I)
_SCHOOL_AT = re.compile(r"\b(?:at|from|@)\s+(?:the\s+)?$", re.I)
_SCHOOL_AFTER = re.compile(r"^\W{0,3}(?:class\s+of\s+'?\d{2,4}|c/o\s*'?\d{2,4}|'\d{2}\b|"
                           r"student|freshman|sophomore|junior|senior)", re.I)
# (each starts at the first space of a run, `(?<!\s)`, where the leftmost match starts anyway:
# otherwise every space of a long run is a start that rescans the run, quadratic in its length)
_GENERIC_SCHOOL_TAILS = tuple(re.compile(p, re.I) for p in (
    r"(?<!\s)\s+(?:school|academy|campus)$",
    r"(?<!\s)\s+(?:high|middle|elementary|upper|lower)\s+school$",
    r"(?<!\s)\s+(?:regional\s+)?(?:vocational\s+)?(?:technical\s+)high\s+school$",
))
# (spaces before "(" taken from the first space of a run, where the leftmost match starts anyway:
# see the tails above; a "(" right after the previous match, which took the spaces, starts one too)
_PARENTHETICAL = re.compile(r"(?:(?<!\s)\s*)?\(.*?\)\s*")
_DISTINCTIVE = re.compile(r"\b(?:tech|technical|aggie|agricultural|middle|academy|elementary|high|prep|voc)\b", re.I)


def _minimal(keys: Iterable[str]) -> tuple[str, ...]:
    """The keys that hold no other key: a text holds one of `keys` iff it holds one of these."""
    keys = set(keys)
    return tuple(sorted(k for k in keys if not any(o != k and o in k for o in keys)))


def school_aliases(names: Iterable[str]) -> set[str]:
    """Names a student might use for each school: the org name without its parenthetical, with
    the generic tail dropped when something distinctive remains, and Technical -> Tech."""
    out: set[str] = set()
    for name in names:
        base = _PARENTHETICAL.sub(" ", name or "").strip()
        if len(base) < 4:
            continue
        variants = {base}
        for tail in _GENERIC_SCHOOL_TAILS:          # drop generic tails while it stays distinctive
            short = tail.sub("", base).strip()
            if short != base and len(short.split()) >= 2 and _DISTINCTIVE.search(short):
                variants.add(short)
        for v in list(variants):
            if re.search(r"\bTechnical\b", v, re.I):
                variants.add(re.sub(r"\bTechnical\b", "Tech", v, flags=re.I))
        out |= variants
    return out


class PiiDetector:
    """Precomputed indexes for one roster and district; `find(text, author)` per post."""

    def __init__(self, roster: Any = None, district: Any = None):
        self.district: District = as_district(district)
        people = list(roster.people()) if roster is not None else []
        self.names = name_index_of(roster)      # shared with the other detector
        school_names: set[str] = set()
        if roster is not None and hasattr(roster, "orgs"):
            school_names |= {o.name for o in roster.orgs() if getattr(o, "name", None)}
        elif roster is not None:
            for org_id in {s for p in people for s in getattr(p, "schools", ())}:
                n = roster.school_name(org_id)
                if n:
                    school_names.add(n)
        self.school_names = tuple(sorted(school_aliases(school_names) | set(self.district.names()),
                                         key=len, reverse=True))
        alt = alternation(self.school_names)
        self._school = re.compile(rf"(?<![\w])(?:{alt})(?![\w])", re.I) if alt else None
        # gate: the first word of each name, lower case (a substring test before the regex)
        self._school_keys = tuple({n.split()[0].lower() for n in self.school_names if n.split()})
        # find_batch's one scan for street, birthday and school words (any of them; then each
        # test as `find` makes it on the posts found). None when a key holds a NUL (it could
        # match across two posts): find_batch then refuses the batch.
        words = _minimal(_STREET_KEYS + _BIRTH_KEYS + (self._school_keys if self._school is not None else ()))
        self._word_gate = None if any("\0" in w for w in words) else \
            re.compile(anchored_any(words) + REST_OF_POST)
        self._roster = roster

    # ------------------------------------------------------------------------------ public
    def find(self, text: str, author: Any = None) -> list[Evidence]:
        if not text:
            return []
        low = text.lower()
        # Cheap gates first (substring tests run in C): most posts have no digits, no "@", no
        # birthday word and no school name, and each regex below costs 10-70 us on a long post.
        has_digit = any(c in text for c in "0123456789")
        email = "@" in text or (" at " in low or "[at]" in low or "(at)" in low) and any(k in low for k in _DOT_KEYS)
        return self._find(
            text, low, self._author_id(author), has_digit,
            spelled=sum(low.count(w) for w in _DIGIT_NAMES) >= 3 or bool(has_digit and _SPACED_DIGITS.search(text)),
            street=any(k in low for k in _STREET_KEYS),
            email_plain=email and _EMAIL_GATE.search(text) is not None,
            email_spelled=email and _AT_GATE.search(text) is not None,
            birth=any(k in low for k in _BIRTH_KEYS),
            school=self._school is not None and any(k in low for k in self._school_keys),
            names=bool(self.names.people))

    def find_batch(self, texts: Sequence[str], authors: Sequence[Any]) -> list[list[Evidence]]:
        """`find` for each (text, author) pair, in order, with the gates evaluated once over the
        whole batch (classifiers.textscan: one scan of the batch joined by NUL per gate; no gate
        pattern can match a NUL, so no gate match spans two posts), and only the posts that pass
        a gate looked at one by one. The gates are the tests `find` makes, or necessary
        conditions of the regex they guard, so the results are identical (tests/classifiers/
        test_rules_batch.py). Raises ValueError when the lengths differ or a school key holds a
        NUL (the caller then asks post by post)."""
        n = len(texts)
        if n != len(authors):
            raise ValueError(f"{n} texts but {len(authors)} authors")
        out: list[list[Evidence]] = [[] for _ in range(n)]
        if not n:
            return out
        texts = [t or "" for t in texts]          # find() returns [] for None and "" alike
        joined, starts = join(texts)
        joined_low, low_starts = join_lower(texts, joined, starts)
        digit = posts_matching(_DIGIT_RUN, joined, starts)
        if self._word_gate is None:
            raise ValueError("a school key holds a NUL: no batch gates for this detector")
        street, birth, school = set(), set(), set()
        for i in posts_matching(self._word_gate, joined_low, low_starts):
            low = texts[i].lower()
            if any(k in low for k in _STREET_KEYS):
                street.add(i)
            if any(k in low for k in _BIRTH_KEYS):
                birth.add(i)
            if self._school is not None and any(k in low for k in self._school_keys):
                school.add(i)
        # (only "3 or more" is asked below: the cap makes a crafted "oneone..." post cheap)
        digit_words = word_counts(_DIGIT_NAMES, joined_low, low_starts, cap=3)
        email_plain = posts_matching(_EMAIL_GATE, joined, starts)
        email_spelled = posts_matching(_AT_GATE, joined, starts)
        names: set[int] = set()
        other: set[int] = set()
        if self.names.people:
            # a name can only start at a word that starts some roster name (or a title): find
            # which of those the batch's ASCII posts hold, then which posts hold them (as
            # substrings of the lower-case text: true of every word of an ASCII post). Other
            # posts are tokenized in the loop below, just before _names reads the same tokens.
            present = self.names.firsts.intersection(ascii_words(texts))
            if present:
                names = posts_with(present, joined_low, low_starts)
            if not joined.isascii():
                other = {i for i, t in enumerate(texts) if not t.isascii()}
        spelled = {i for i, c in digit_words.items() if c >= 3}
        gated = digit | spelled | street | email_plain | email_spelled | birth | school
        for i in sorted(gated | names | other):
            text = texts[i]
            if not text:
                continue
            named = i in names or (i in other and not self.names.firsts.isdisjoint(name_tokens_of(text).words))
            if not (named or i in gated):
                continue
            low = text.lower()
            has_digit = i in digit
            email = (i in email_plain or i in email_spelled) and (
                "@" in text or (" at " in low or "[at]" in low or "(at)" in low) and any(k in low for k in _DOT_KEYS))
            out[i] = self._find(
                text, low, self._author_id(authors[i]) if named else None, has_digit,
                spelled=i in spelled or bool(has_digit and _SPACED_DIGITS.search(text)),
                street=i in street, email_plain=email and i in email_plain,
                email_spelled=email and i in email_spelled, birth=i in birth, school=i in school,
                names=named)
        return out

    def _find(self, text: str, low: str, author_id: str | None, has_digit: bool, *, spelled: bool,
              street: bool, email_plain: bool, email_spelled: bool, birth: bool, school: bool,
              names: bool) -> list[Evidence]:
        """The detectors whose gates passed, in a fixed order, then sorted and de-duplicated."""
        out: list[Evidence] = []
        if has_digit and _SEVEN_DIGITS.search(text):
            out += self._phones(text)
        if spelled:
            out += self._spelled_phones(text)
        if has_digit or street:
            out += self._addresses(text, has_digit)
        if email_plain or email_spelled:
            out += self._emails(text, email_plain, email_spelled)
        if birth:
            out += self._dobs(text)
        if school:
            out += self._schools(text)
        if names:
            out += self._names(text, author_id)
        if not out:
            return out
        out.sort(key=lambda e: (e.start if e.start is not None else -1, -e.weight))
        return _dedupe(out)

    # ------------------------------------------------------------------------------ parts
    def _author_id(self, author: Any) -> str | None:
        return self.names.author_id(author, self._roster)

    def _phones(self, text: str) -> list[Evidence]:
        out: list[Evidence] = []
        taken: list[tuple[int, int]] = []
        for m in _PHONE_CAND.finditer(text):
            s, e = m.start(), m.end()
            if _NOT_PHONE.search(text[max(0, s - 30):s]):
                continue
            raw = m.group().strip()
            try:
                num = phonenumbers.parse(raw, "US")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(num):
                out.append(Evidence(CATEGORY, "phone", text[s:e], s, e, W_PHONE))
                taken.append((s, e))
        for m in _PHONE_LOCAL.finditer(text):
            s, e = m.start(), m.end()
            if any(a <= s < b for a, b in taken):
                continue
            before = text[max(0, s - 40):s]
            if _PHONE_WORDS.search(before) and not _NOT_PHONE.search(before[-30:]):
                out.append(Evidence(CATEGORY, "phone", text[s:e], s, e, W_PHONE_LOCAL))
        return out

    @staticmethod
    def _spelled_phones(text: str) -> list[Evidence]:
        """Digits spelled out or spaced apart to get past filters ("nine seven eight ...",
        "9 7 8 5 5 5 ..."), mixed freely; valid only if the digits make a valid number."""
        out = []
        for m in _PHONE_SPELLED.finditer(text):
            words = re.findall(rf"\b{_DIGIT_TOKEN}\b", m.group(), re.I)
            # obfuscated only: at least three spelled digits or five lone digits ("978 555 0123"
            # is the ordinary matcher's, and "10 20 30 40 50" is a list of numbers)
            spelled = sum(1 for w in words if not w.isdigit())
            lone = sum(1 for w in words if len(w) == 1 and w.isdigit())
            if spelled < 3 and lone < 5:
                continue
            values = [_DIGIT_VALUE.get(w.lower(), w) for w in words]
            digits = "".join(values)
            if len(digits) not in (10, 11) or _counting(values):
                continue
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(digits, "US"))
            except phonenumbers.NumberParseException:
                valid = False
            if valid:
                out.append(Evidence(CATEGORY, "phone", m.group(), m.start(), m.end(), W_PHONE_SPELLED))
        return out

    def _emails(self, text: str, plain: bool = True, spelled: bool = True) -> list[Evidence]:
        out = [Evidence(CATEGORY, "email", m.group(), m.start(), m.end(), W_EMAIL)
               for m in (_EMAIL.finditer(text) if plain else ())]
        for m in (_EMAIL_SPELLED.finditer(text) if spelled else ()):
            if "@" not in m.group():
                out.append(Evidence(CATEGORY, "email", m.group(), m.start(), m.end(), W_EMAIL_SPELLED))
        return out

    def _addresses(self, text: str, has_digit: bool = True) -> list[Evidence]:
        out: list[Evidence] = []
        # each regex only where its necessary condition holds (a suffix word after a space; a
        # "live/house is... on/at"; five digits in a row): most digits are not addresses
        for m in (_ADDRESS.finditer(text) if has_digit else ()):
            words = m.group("name").replace(".", " ").split()
            if any(w.lower() in _NOT_STREET for w in words):
                continue
            if text[max(0, m.start() - 1):m.start()] == "$":
                continue
            suffix = m.group("suffix").lower()
            capitalized = all(w[0].isupper() or w[0].isdigit() for w in words)
            context = _ADDRESS_CONTEXT.search(text[max(0, m.start() - 40):m.start()])
            if suffix in _SUFFIX_WEAK and not (capitalized or context):
                continue
            if not (capitalized or context or suffix in ("street", "avenue", "road", "ave", "rd", "st", "blvd")):
                continue
            tail = (m.group("tail") or "").strip()
            w = W_ADDRESS_FULL if tail else W_ADDRESS
            span = m.group().rstrip(" ,")
            out.append(Evidence(CATEGORY, "address", span, m.start(), m.start() + len(span), w))
        covered = [(e.start, e.end) for e in out]
        # (re.I matching of these words is lower-case matching once the four non-ASCII letters
        # re.I equates with ASCII ones are made ASCII, so substrings will do)
        low = text.lower() if text.isascii() else text.translate(_ASCII_FOLDS).lower()
        maybe = any(k in low for k in _STREET_ONLY_KEYS)
        for m in (_STREET_ONLY.finditer(text) if maybe else ()):
            s, e = m.start("street"), m.end("street")
            *words, suffix = text[s:e].rstrip(".").split()
            if any(w.lower() in _NOT_STREET for w in words):
                continue                       # "I live on the street"
            if suffix.lower() in _SUFFIX_WEAK and not all(w[0].isupper() for w in words):
                continue                       # "live at my moms place"
            if not any(a <= s < b for a, b in covered):
                out.append(Evidence(CATEGORY, "address", text[s:e], s, e, W_STREET_ONLY))
        for m in (_CITY_ZIP.finditer(text) if has_digit and _ZIP_GATE.search(text) else ()):
            if not any(a <= m.start() < b for a, b in covered):
                out.append(Evidence(CATEGORY, "address", m.group(), m.start(), m.end(), W_CITY_ZIP))
        return out

    def _dobs(self, text: str) -> list[Evidence]:
        out: list[Evidence] = []
        contexts = [(m.start(), m.end()) for m in _BIRTH.finditer(text)]
        for m in _DATE.finditer(text):
            s, e = m.start(), m.end()
            # a birthday word ending at most 45 chars before the date or starting at most 30 after
            near = any(ce > s - _DOB_WINDOW_BEFORE and cs < e + _DOB_WINDOW_AFTER for cs, ce in contexts)
            if not near:
                continue
            has_year = any(m.group(g) for g in ("y1", "y2", "y3", "y4"))
            if m.group("sep") and not has_year and m.group("sep") == ".":
                continue  # "3.5" is a number, not a date
            out.append(Evidence(CATEGORY, "dob", m.group(), s, e, W_DOB_FULL if has_year else W_DOB_DAY))
        dated = [(ev.start, ev.end) for ev in out]
        for m in _BIRTH_YEAR.finditer(text):
            s, e = m.start(1), m.end(1)
            if not any(a <= s < b for a, b in dated):
                out.append(Evidence(CATEGORY, "dob", text[m.start():e], m.start(), e, W_DOB_YEAR))
        return out

    def _schools(self, text: str) -> list[Evidence]:
        out: list[Evidence] = []
        for m in self._school.finditer(text):
            s, e = m.start(), m.end()
            before = text[max(0, s - 40):s]
            if _SCHOOL_SELF.search(before) or _SCHOOL_AFTER.search(text[e:e + 20]):
                w = W_SCHOOL_SELF
            elif _SCHOOL_AT.search(before):
                w = W_SCHOOL_AT
            else:
                w = W_SCHOOL_BARE
            out.append(Evidence(CATEGORY, "school", m.group(), s, e, w))
        return out

    def _names(self, text: str, author_id: str | None) -> list[Evidence]:
        out: list[Evidence] = []
        for mention in self.names.mentions(text, name_tokens_of(text)):
            if mention.how == "titled":
                continue                      # "Ms. Rivera": a staff member's public name
            if author_id is not None and author_id in mention.people:
                out.append(Evidence(CATEGORY, "own_name", text[mention.start:mention.end],
                                    mention.start, mention.end, W_OWN))
                continue
            if any(self.names.people[u].is_student for u in mention.people):
                w = W_STUDENT if mention.how == "full" else W_STUDENT_NICK
                out.append(Evidence(CATEGORY, "student_name", text[mention.start:mention.end],
                                    mention.start, mention.end, w))
        return out


def _counting(values: list[str]) -> bool:
    """"one two three four ...", "1 2 3 ... 9 10": counting, not a phone number."""
    nums = [int(v) for v in values]
    return all(b - a == 1 or (a, b) == (9, 0) for a, b in zip(nums, nums[1:]))


_CONTAINING_KINDS = ("email", "address")     # may swallow an item of another kind


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    """Drop an item fully inside a stronger one of the same kind (a phone inside an address...):
    an item is dropped when an item kept before it, of its kind or an e-mail or address, of at
    least its weight, starts at or before it and ends at or after it.

    Comparing each item with every kept one was quadratic: a post of 7,700 repeated student names
    (100k characters) spent 2 s here. So the kept items are indexed by (kind, weight) in Fenwick
    trees over their start, each giving the furthest end among kept items starting at or before a
    position; an item asks the few (kind, weight) groups that could hold it: O(log n) each."""
    out: list[Evidence] = []
    size = 2 + max((ev.start for ev in evidence if ev.start is not None), default=0)
    trees: dict[tuple[str, float], dict[int, int]] = {}     # sparse Fenwick trees: index -> max end
    weights: dict[str, set[float]] = {}

    def furthest_end(tree: dict[int, int], start: int) -> int:
        i, best = start + 1, -1
        while i > 0:
            best = max(best, tree.get(i, -1))
            i -= i & -i
        return best

    for ev in evidence:
        if ev.start is not None and any(
                furthest_end(trees[kind, w], ev.start) >= ev.end
                for kind in {ev.kind, *_CONTAINING_KINDS} for w in weights.get(kind, ()) if w >= ev.weight):
            continue
        out.append(ev)
        if ev.start is not None:
            weights.setdefault(ev.kind, set()).add(ev.weight)
            tree = trees.setdefault((ev.kind, ev.weight), {})
            i = ev.start + 1
            while i <= size:
                if tree.get(i, -1) < ev.end:
                    tree[i] = ev.end
                i += i & -i
    return out


# ------------------------------------------------------------------------------ convenience
# Keyed on the identity of the roster and district objects the caller holds (the pipeline keeps
# one of each for the life of the process): a lookup is one dict probe, no hashing of names.
# Entries hold the objects themselves, so an id cannot be reused while its entry lives.
_CACHE: dict[tuple[int, int], tuple[Any, Any, PiiDetector]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 8


def detector_for(roster: Any = None, district: Any = None) -> PiiDetector:
    """The cached detector for this roster object and district object (built once, reused)."""
    hit = _CACHE.get((id(roster), id(district)))
    if hit is not None and hit[0] is roster and hit[1] is district:
        return hit[2]
    det = PiiDetector(roster, district)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[(id(roster), id(district))] = (roster, district, det)
    return det


def find_pii(text: str, *, roster: Any = None, author: Any = None, district: Any = None) -> list[Evidence]:
    """Personal information in `text` (student guideline 4). `author`: roster user id, username
    or Person (their own name is reported as `own_name`, weaker)."""
    return detector_for(roster, district).find(text, author)


def find_pii_batch(texts: Sequence[str], *, roster: Any = None, authors: Sequence[Any],
                   district: Any = None) -> list[list[Evidence]]:
    """`find_pii` for each (text, author) pair, in order."""
    if len(texts) != len(authors):
        raise ValueError(f"{len(texts)} texts but {len(authors)} authors")
    return detector_for(roster, district).find_batch(texts, authors)
