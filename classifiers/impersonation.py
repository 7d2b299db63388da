"""Impersonation and accounts that speak for the district (student guidelines 5, 11, 12, 13).

The guidelines, in our words: a student represents themselves honestly and does not pose as
another student, a staff member or anyone else (student.5; Massachusetts law counts posing as
someone else as cyberbullying); a student does not open accounts for the district or any of its
programs, teams, clubs or classrooms (student.11), does not use the district logo or visual
identity (student.12), and does not present an account as speaking officially for the district
(student.13).

`find_impersonation(post)` returns `Evidence(category="impersonation")` items; the pipeline takes
the largest weight as the impersonation score and flags at 0.5. Evidence found in the post text
carries its character offsets; evidence about the account name being set (or an image) has
start/end None and the account name (or a file description) as its text. Kinds and weights:

(a) account names, for sign-ups and profile edits (`PostInput.kind` in profile/signup,
    `PostInput.account` = the display name or handle being set), matched against every roster
    person (students and staff) other than the author:
    - ``account_name`` 0.9: another person's full name in either order ("Jayden Ortiz",
      "jayden_ortiz07", "OrtizJayden", "therealjaydenortiz") or their exact username;
      0.85 with a common nickname ("Jay Ortiz", "mike.ortiz"), or a title with a staff family
      name ("MsRivera", "Principal Kincaid");
      0.75 initial + family name ("JOrtiz", "j.ortiz", "ortizj"): short, but it is how handles
      are made; 0.8 their username without digits and dots ("jortiz" for "jortiz27");
      fuzzy (rapidfuzz ratio on the letters-only handle against full-name forms): >= 94 -> 0.8,
      >= 88 -> 0.65 ("jaydn_ortiz");
      0.35 initials alone ("J.O."): dozens of people share initials in a 2,000-person roster,
      so this is recorded but never flags by itself.
    The author's own name is not impersonation: when the author matches the account at least
    about as well as anyone else (own name, own nickname, own initials), nothing is reported.
    Without a known author every match counts.
(b) claims in any text ("this is Ms. Rivera", "it's Jayden, new account", "hi its principal
    Kincaid here", "I'm Jayden Ortiz"), kind ``claim``: a roster person's full name or a title +
    staff family name, not the author, not possessive ("this is Ms. Rivera's homework" is about
    her), right after a first-person cue ("I'm", "I am", "signed", "it's me") or before "here"
    -> 0.85; after a presentational cue ("this is", "it's") -> 0.75 at the start of a sentence,
    0.45 mid-sentence ("I think it's Jayden Ortiz who did it" points at someone), 0.4 when followed
    by a third-person continuation ("this is Jayden Ortiz, he ..." introduces someone); a
    trailing signature ("- Ms. Rivera") 0.7, unless it follows a closing quote mark (a quotation
    attributed to her, not a message from her). A first name alone
    ("it's Jayden") counts only with account-change words ("new account", "got hacked", "my
    other account"): 0.7. Account-change words add 0.1 to the other claims (max 0.95).
(c) district voice, kind ``district``: the district's names (policy name, short name,
    nicknames, roster school names) with
    - "official" next to it, "official page/account", "account/page of", "on behalf of",
      "speaks for": 0.9 on a sign-up or profile, 0.75 in an ordinary post;
    - in an account name, with a program, team, club or office word ("ENSATSD Robotics",
      "Essex Tech Athletics", "essextech_admin"): 0.8 (student.11);
    - in an account name alone ("Essex Tech"): 0.55 -- readers take such an account for the
      school's (student.13);
    - "fan", "fans", "student", "alum", "parody", "unofficial", "not affiliated" in the account
      lower these to 0.3: the account says it is not the school's. A plain post cheering "Go
      Essex Tech football!" has no official cue and does not fire.
(d) logo, kind ``logo``: an image attachment whose perceptual hash (hex, `Attachment.phash`) is
    within a Hamming distance of the district logo hash in the policy (student.12). For 64-bit
    pHash: <= 6 -> 0.95 (the same picture, resized or recompressed), <= 10 -> 0.8 (cropped,
    recoloured), <= 14 -> 0.5; beyond that unrelated images differ by ~32 on average. Thresholds
    scale with the hash length. On a profile or sign-up (avatar, banner) the weight stands; in an
    ordinary post it is multiplied by 0.8 (a photo of a team jersey is weaker evidence that the
    *account* uses the district's identity).
"""
from __future__ import annotations

import re
import threading
from typing import Any, Iterable, Sequence

from rapidfuzz import fuzz, process

from classifiers.district import District, alternation, as_district, phash_distance
from classifiers.nicknames import (TITLES, ascii_words, name_index_of, fold, given_forms, tokens as text_tokens)
from classifiers.pii import school_aliases
from classifiers.textscan import join, join_lower, posts_with
from classifiers.types import Evidence, PostInput

CATEGORY = "impersonation"
ACCOUNT_KINDS = frozenset({"profile", "signup"})
# A profile edit or sign-up with no separate account name (`crossingguard classify` input, an
# extractor that found only one field): its text *is* the name being set, when it looks like a
# name: one line, at most this long. A longer text is a bio or a post, judged as text only.
ACCOUNT_TEXT_MAX = 64


def _one_district_reading(found: list[Evidence], post: PostInput) -> list[Evidence]:
    """When a profile's text stands for its account name (no separate account), the same words
    are read twice for district voice, as a name and as text: keep the stronger reading only."""
    if post.account or not any(e.kind == "district" and e.start is None for e in found):
        return found
    district = [e for e in found if e.kind == "district"]
    if len(district) < 2:
        return found
    best = max(district, key=lambda e: e.weight)
    return [e for e in found if e.kind != "district" or e is best]


def account_name(post: PostInput) -> str | None:
    """The display name or handle a profile/sign-up post sets: `account`, else its short text."""
    if (post.kind or "").lower() not in ACCOUNT_KINDS:
        return None
    if post.account:
        return post.account
    text = (post.text or "").strip()
    if text and len(text) <= ACCOUNT_TEXT_MAX and "\n" not in text:
        return text
    return None

W_ACCT_FULL, W_ACCT_NICK, W_ACCT_TITLE, W_ACCT_INITIAL = 0.9, 0.85, 0.85, 0.75
W_ACCT_FUZZY_HIGH, W_ACCT_FUZZY, W_ACCT_INITIALS, W_ACCT_USERNAME_LETTERS = 0.8, 0.65, 0.35, 0.8
FUZZY_HIGH, FUZZY_CUTOFF = 94, 88
OWN_MARGIN = 0.1            # the author's own match within this of the best other match wins
W_CLAIM_FIRST, W_CLAIM_PRESENT, W_CLAIM_MID, W_CLAIM_INTRO, W_CLAIM_SIGN = 0.85, 0.75, 0.45, 0.4, 0.7
W_CLAIM_GIVEN, ACCOUNT_CONTEXT_BONUS, W_CLAIM_MAX = 0.7, 0.1, 0.95
W_DIST_OFFICIAL_ACCT, W_DIST_OFFICIAL_POST, W_DIST_PROGRAM, W_DIST_ALONE, W_DIST_DISCLAIMED = 0.9, 0.75, 0.8, 0.55, 0.3
LOGO_STEPS_64 = ((6, 0.95), (10, 0.8), (14, 0.5))
LOGO_POST_FACTOR = 0.8

_AFFIXES = ("official", "theofficial", "thereal", "real", "the", "its", "itsme", "iam", "im", "not",
            "fake", "notthe", "xx", "x", "xo", "og", "just", "mr", "ms")
_FIRST_PERSON = re.compile(
    r"(?:\bi\s*am|\bi\s*['’]?\s*m|\bim|\bme\s*[,:\-]|\bsigned|\bsincerely|\bregards|\bit\s*['’]?s\s+me|"
    r"\bits\s+me|\bthis\s+is\s+me|\bfrom\s+your|\bthe\s+real|\bthe\s+official|\bofficial\s+account\s+of)"
    r"[\s,:\-]*$", re.I)
_PRESENT = re.compile(r"(?:\bthis\s+is|\bit\s*['’]?\s*s|\bits|\bit\s+is)[\s,:\-]*$", re.I)
# (_SENTENCE_START and _SIGNATURE only read the 40 characters before a name, but `\s*\s*` is
# written `\s*`: the two split a run of spaces every possible way, cubic in a longer text)
_SENTENCE_START = re.compile(r"(?:^|[.!?\n]|\b(?:hi|hey|hello|yo|hii+|heyy+|sup|guys|everyone|all)\b[\s,!.]*)\s*$", re.I)
_AFTER_FIRST = re.compile(r"^[\s,!]*(?:here|speaking|again|back)\b", re.I)
_AFTER_INTRO = re.compile(r"^\s*[,\-]?\s*(?:he|she|they|who|my|our|his|her|from\s+\w+\s+class)\b", re.I)
_SIGNATURE = re.compile(r"(?:^|\n|[.!?])\s*(?:[-–—~]+|xo+|love,?|cheers,?)\s*$", re.I)
_ACCOUNT_CONTEXT = re.compile(
    r"\b(?:(?:new|other|second|2nd|backup|back\s*up|real|main|old|alt|spam|priv|private)\s+"
    r"(?:account|acc|acct|page|insta|ig|profile|tiktok|snap|handle|user(?:name)?)|got\s+hacked|"
    r"was\s+hacked|lost\s+my\s+(?:account|acc|acct|phone|password)|locked\s+out|follow\s+me\s+(?:here|on\s+this)|"
    r"changed\s+my\s+(?:user|name|handle))\b", re.I)
# The same, for ASCII text already in lower case: there re.I matching is plain matching (the
# pattern's letters are all lower case), and about 2.5x faster.
_ACCOUNT_CONTEXT_LOW = re.compile(_ACCOUNT_CONTEXT.pattern)
# substring gates for the regexes around them (a substring test is ~50x cheaper than a scan)
_ACCOUNT_CONTEXT_KEYS = ("acc", "page", "insta", "ig", "profile", "tiktok", "snap", "handle", "user",
                         "hack", "lost my", "locked", "follow me", "changed my")
# A sentence start is the last of [.!?\n] before the claim, then spaces other than newlines: the
# same places as the former `[.!?\n]\s*` (which began at the first of them), but every newline of
# a long run was a start that rescanned the run ("\n" * 20,000 + " new account" took 15 s).
# Likewise `it\s*(?:['’]\s*)?s` is `it\s*['’]?\s*s`, whose two `\s*` split a run of spaces every
# possible way. Only the name group is read, and it is the same (tests/classifiers/
# test_adversarial_inputs.py compares both on generated text).
_GIVEN_CLAIM = re.compile(r"(?:^|[.!?\n][^\S\n]*|\b(?:hi|hey|hello|yo|guys)\b[\s,!.]*)"
                          r"(?:it\s*(?:['’]\s*)?s|its|this\s+is|i\s*(?:['’]\s*)?m|im|i\s+am)\s+(?P<name>[^\W\d_]+)\b", re.I)
_OFFICIAL_NEAR = re.compile(r"\bofficial\b", re.I)
_OFFICIAL_PHRASE = re.compile(
    r"\b(?:official\s+(?:page|account|acct|site|channel|profile|instagram|insta|ig|twitter|tiktok|"
    r"snap(?:chat)?|youtube|feed|handle)|(?:account|page|profile|channel|feed)\s+(?:of|for)|"
    r"on\s+behalf\s+of|speak(?:s|ing)?\s+for|run\s+by|managed\s+by|voice\s+of)\b", re.I)
# An account name with these says whose it is not (a fan's, a student's); in running text only
# the explicit ones count ("official page for Essex Tech students" is still official).
_DISCLAIMER_TEXT = re.compile(r"\b(?:fan|fans|fanpage|fan\s+page|parody|unofficial|not\s+affiliated|"
                              r"not\s+(?:an?\s+|the\s+)?official|memes?|confessions?)\b", re.I)
_DISCLAIMER = re.compile(r"\b(?:fan|fans|fanpage|fan\s+page|stan|student|students|kid|alum|alumni|"
                         r"parody|unofficial|not\s+affiliated|not\s+official|lover|supporter|memes?|confessions?)\b", re.I)
_HANDLE_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_LETTERS = re.compile(r"[^\W\d_]+")


def split_handle(handle: str) -> list[str]:
    """Words of a handle or display name: separators, digits and camelCase split it
    ("jayden_ortiz07" -> jayden, ortiz; "JOrtiz" -> j, ortiz; "J.O." -> j, o)."""
    out: list[str] = []
    for part in _LETTERS.findall(handle or ""):
        if part.isascii():
            out += [fold(w) for w in _HANDLE_WORDS.findall(part)]
        else:
            out.append(fold(part))
    return out


class ImpersonationDetector:
    """Indexes built once per roster + district + logo; `find(post)` per post."""

    def __init__(self, roster: Any = None, district: Any = None, logo_phash: Any = None):
        self.district: District = as_district(district)
        self._roster = roster
        people = list(roster.people()) if roster is not None else []
        self.names = name_index_of(roster)      # shared with the other detector
        self.logos: tuple[str, ...] = _hashes(logo_phash) or self.district.logo_phashes
        self._build_account_index()
        self._build_district_patterns(roster, people)

    # ------------------------------------------------------------------------------ indexes
    def _build_account_index(self) -> None:
        # letters-only handle -> [(user id, weight)]
        self.squashed: dict[str, list[tuple[str, float]]] = {}
        self.initials: dict[str, set[str]] = {}
        self.by_family: dict[tuple[str, ...], set[str]] = {}

        def add(key: str, uid: str, w: float) -> None:
            if len(key) >= 4:
                bucket = self.squashed.setdefault(key, [])
                if (uid, w) not in bucket:
                    bucket.append((uid, w))

        for uid, p in self.names.people.items():
            g, f = "".join(p.given), "".join(p.family)
            add(g + f, uid, W_ACCT_FULL)
            add(f + g, uid, W_ACCT_FULL)
            for form in given_forms(p.given[0]) - {p.given[0]}:
                add(form + f, uid, W_ACCT_NICK)
                add(f + form, uid, W_ACCT_NICK)
            add(g[0] + f, uid, W_ACCT_INITIAL)
            add(f + g[0], uid, W_ACCT_INITIAL)
            # the username without digits/dots ("jortiz27" -> "jortiz"): often equals a name
            # form already; otherwise a bit below an exact name
            uname = re.sub(r"[^a-z]", "", fold(p.username))
            if len(uname) >= 5 and not any(u == uid for u, _ in self.squashed.get(uname, ())):
                add(uname, uid, W_ACCT_USERNAME_LETTERS)
            self.initials.setdefault(g[0] + f[0], set()).add(uid)
            self.by_family.setdefault(p.family, set()).add(uid)
            if len(p.family) > 1:
                self.by_family.setdefault((f,), set()).add(uid)
        # rapidfuzz candidates: full-name forms long enough for a ratio to mean something
        self._fuzzy_keys = [k for k, v in self.squashed.items()
                            if len(k) >= 7 and any(w >= W_ACCT_NICK for _, w in v)]

    def _build_district_patterns(self, roster: Any, people: list) -> None:
        names: set[str] = set()
        if roster is not None and hasattr(roster, "orgs"):
            names |= {o.name for o in roster.orgs() if getattr(o, "name", None)}
        names = school_aliases(names) | set(self.district.names())
        self.district_names = tuple(sorted(names, key=len, reverse=True))
        self._district_keys = tuple({n.split()[0].lower() for n in self.district_names if n.split()})
        self._district_re = re.compile(rf"(?<!\w)(?:{alternation(self.district_names)})(?!\w)", re.I)
        self._district_squashed = tuple(sorted({re.sub(r"[^a-z0-9]", "", fold(n.replace("&", "and")))
                                                for n in self.district_names}, key=len, reverse=True))
        progs = self.district.programs
        self._program_re = re.compile(rf"(?<!\w)(?:{alternation(progs)})(?!\w)", re.I)
        self._program_squashed = tuple(sorted({re.sub(r"[^a-z]", "", p.lower()) for p in progs
                                               if len(re.sub(r"[^a-z]", "", p.lower())) >= 5}, key=len, reverse=True))

    # ------------------------------------------------------------------------------ public
    def find(self, post: PostInput) -> list[Evidence]:
        out: list[Evidence] = []
        author = self._author_id(post.author)
        is_account = (post.kind or "").lower() in ACCOUNT_KINDS
        account = account_name(post)
        if account:
            out += self._account(account, author)
            out += self._district_account(account)
        if post.text:
            low = post.text.lower()
            if self.names.people:
                out += self._claims(post.text, low, author)
            if any(k in low for k in self._district_keys):
                out += self._district_text(post.text, is_account)
        if self.logos and post.attachments:
            out += self._logo(post.attachments, is_account)
        return _one_district_reading(out, post)

    def find_batch(self, posts: Sequence[PostInput]) -> list[list[Evidence]]:
        """`find` for each post, in order. The substring gates over the text (a roster name's
        first word, account-change words, a district name) are evaluated once over the whole
        batch joined by NUL (see classifiers.pii.PiiDetector.find_batch); the posts that pass
        none of them have no text evidence, and the others go through the same steps as in
        `find`."""
        n = len(posts)
        out: list[list[Evidence]] = [[] for _ in range(n)]
        if not n:
            return out
        texts = [p.text or "" for p in posts]
        joined, starts = join(texts)
        joined_low, low_starts = join_lower(texts, joined, starts)
        claims: set[int] = set()
        other: set[int] = set()
        if self.names.people:
            # _claims finds nothing without a roster name's first word (see PiiDetector.
            # find_batch for the ASCII / other split; other posts are tokenized in the loop,
            # just before _claims reads the same tokens) or account-change words
            present = self.names.firsts.intersection(ascii_words(texts))
            if present:
                claims = posts_with(present, joined_low, low_starts)
            context = posts_with(_ACCOUNT_CONTEXT_KEYS, joined_low, low_starts)
            claims.update(i for i in context if _account_context(texts[i], texts[i].lower()))
            if not joined.isascii():
                other = {i for i, t in enumerate(texts) if i not in claims and not t.isascii()}
        district = posts_with(self._district_keys, joined_low, low_starts)
        for i, post in enumerate(posts):
            is_account = (post.kind or "").lower() in ACCOUNT_KINDS
            account = account_name(post)
            logo = self.logos and post.attachments
            claim = i in claims or (i in other and not self.names.firsts.isdisjoint(text_tokens(texts[i]).words))
            if not (account or logo or claim or i in district):
                continue
            found: list[Evidence] = []
            author = self._author_id(post.author)
            if account:
                found += self._account(account, author)
                found += self._district_account(account)
            if post.text:
                if claim:
                    found += self._claims(post.text, post.text.lower(), author)
                if i in district:
                    found += self._district_text(post.text, is_account)
            if logo:
                found += self._logo(post.attachments, is_account)
            out[i] = _one_district_reading(found, post)
        return out

    # ------------------------------------------------------------------------------ (a) accounts
    def _author_id(self, author: Any) -> str | None:
        return self.names.author_id(author, self._roster)

    def account_matches(self, account: str) -> dict[str, tuple[float, str]]:
        """user id -> (weight, how) for every roster person the account name points at."""
        best: dict[str, tuple[float, str]] = {}

        def put(uid: str, w: float, how: str) -> None:
            if uid not in best or best[uid][0] < w:
                best[uid] = (w, how)

        raw = account.strip().lstrip("@").lower()
        if "@" in raw:                            # an e-mail address as the sign-up name
            raw = raw.split("@", 1)[0]
            account = account.strip().lstrip("@").split("@", 1)[0]
        if raw in self.names.usernames:
            put(self.names.usernames[raw], W_ACCT_FULL, "username")
        words = split_handle(account)
        if not words:
            return best
        # names written out as words, in either order, titles included ("Ms Rivera")
        for seq in (words, words[::-1]) if len(words) > 1 else (words,):
            synthetic = " ".join(w.capitalize() for w in seq)
            for m in self.names.mentions(synthetic, text_tokens(synthetic)):
                w = {"full": W_ACCT_FULL, "nick": W_ACCT_NICK, "titled": W_ACCT_TITLE}[m.how]
                for uid in m.people:
                    put(uid, w, m.how)
        # initial + family name as separate words ("J Ortiz", "JOrtiz")
        for i, w in enumerate(words[:-1]):
            if len(w) == 1:
                for k in range(len(words) - i - 1, 0, -1):
                    for uid in self.by_family.get(tuple(words[i + 1:i + 1 + k]), ()):
                        if self.names.people[uid].given[0].startswith(w):
                            put(uid, W_ACCT_INITIAL, "initial")
        # the handle as one run of letters, with decoration stripped ("therealjaydenortiz")
        squashed = "".join(words)
        for key in _strip_affixes(squashed):
            for uid, w in self.squashed.get(key, ()):
                put(uid, w, "handle")
        if not best and len(squashed) >= 7 and self._fuzzy_keys:
            hit = process.extractOne(squashed, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if hit:
                key, score, _ = hit
                w = W_ACCT_FUZZY_HIGH if score >= FUZZY_HIGH else W_ACCT_FUZZY
                for uid, _w in self.squashed[key]:
                    put(uid, w, f"fuzzy:{score:.0f}")
        if not best and all(len(w) == 1 for w in words) and len(words) in (2, 3):
            for uid in self.initials.get(words[0] + words[-1], ()):
                put(uid, W_ACCT_INITIALS, "initials")
        elif not best and len(words) == 1 and 2 <= len(words[0]) <= 3 and account.strip().isupper():
            for uid in self.initials.get(words[0][0] + words[0][-1], ()):
                put(uid, W_ACCT_INITIALS, "initials")
        return best

    def _account(self, account: str, author: str | None) -> list[Evidence]:
        matches = self.account_matches(account)
        if not matches:
            return []
        own = matches.pop(author, None) if author else None
        if not matches:
            return []
        top = max(w for w, _ in matches.values())
        if own is not None and own[0] >= top - OWN_MARGIN:
            return []                              # the student's own name, nickname or initials
        # not a span of the post text: start/end stay None, the account name is the evidence
        return [Evidence(CATEGORY, "account_name", account, None, None, top)]

    # ------------------------------------------------------------------------------ (b) claims
    def _claims(self, text: str, low: str, author: str | None) -> list[Evidence]:
        out: list[Evidence] = []
        mentions = self.names.mentions(text, text_tokens(text))
        context = any(k in low for k in _ACCOUNT_CONTEXT_KEYS) and _account_context(text, low)
        if not mentions and not context:
            return out
        bonus = ACCOUNT_CONTEXT_BONUS if context else 0.0
        for m in mentions:
            if m.possessive or (author is not None and author in m.people):
                continue
            before, after = text[max(0, m.start - 40):m.start], text[m.end:m.end + 25]
            w = 0.0
            if _FIRST_PERSON.search(before) or _AFTER_FIRST.search(after):
                w = W_CLAIM_FIRST
            elif (p := _PRESENT.search(before)) is not None:
                if _AFTER_INTRO.search(after):
                    w = W_CLAIM_INTRO
                elif _SENTENCE_START.search(before[:p.start()]):
                    w = W_CLAIM_PRESENT
                else:
                    w = W_CLAIM_MID
            elif (sig := _SIGNATURE.search(before)) and not text[m.end:].strip(" .!\n") \
                    and not before[:sig.start()].rstrip().endswith(('"', "”", "'", "’")):
                w = W_CLAIM_SIGN
            if w:
                out.append(Evidence(CATEGORY, "claim", text[m.start:m.end], m.start, m.end,
                                    round(min(W_CLAIM_MAX, w + bonus), 3)))
        if context and not out:
            out += self._given_claims(text, author)
        return out

    def _given_claims(self, text: str, author: str | None) -> list[Evidence]:
        """"it's Jayden, new account": a first name alone, only with account-change words."""
        out = []
        own = set()
        if author and author in self.names.people:
            own = set(given_forms(self.names.people[author].given[0]))
        for m in _GIVEN_CLAIM.finditer(text):
            name = m.group("name")
            key = fold(name)
            if key in own or key in TITLES or (not name[0].isupper() and key in _COMMON_GIVEN_GUARD):
                continue
            others = self.names.given.get(key, set()) - ({author} if author else set())
            if others:
                out.append(Evidence(CATEGORY, "claim", name, m.start("name"), m.end("name"), W_CLAIM_GIVEN))
        return out

    # ------------------------------------------------------------------------------ (c) district
    def _district_account(self, account: str) -> list[Evidence]:
        spaced = " ".join(_LETTERS_DIGITS.findall(account))
        squashed = re.sub(r"[^a-z0-9]", "", fold(account))
        hit = self._district_re.search(spaced) or self._district_re.search(account)
        if not hit and not any(d in squashed for d in self._district_squashed if len(d) >= 6):
            return []
        # program names are taken out first: "Student Council" is a district body, not a disclaimer
        bare = self._program_re.sub(" ", spaced)
        bare_squashed = squashed
        for p in self._program_squashed:
            bare_squashed = bare_squashed.replace(p, "")
        if _DISCLAIMER.search(bare) or any(x in bare_squashed for x in _SQUASHED_DISCLAIMERS):
            w = W_DIST_DISCLAIMED
        elif _OFFICIAL_NEAR.search(spaced) or "official" in squashed:
            w = W_DIST_OFFICIAL_ACCT
        elif self._program_re.search(spaced) or any(p in squashed for p in self._program_squashed):
            w = W_DIST_PROGRAM
        else:
            w = W_DIST_ALONE
        return [Evidence(CATEGORY, "district", account, None, None, w)]

    def _district_text(self, text: str, is_account: bool) -> list[Evidence]:
        out = []
        for m in self._district_re.finditer(text):
            s, e = m.start(), m.end()
            window = text[max(0, s - 45):min(len(text), e + 45)]
            near = text[max(0, s - 25):min(len(text), e + 35)]
            official = _OFFICIAL_PHRASE.search(window) or _OFFICIAL_NEAR.search(near)
            if not official:
                continue
            if _DISCLAIMER_TEXT.search(window):
                w = W_DIST_DISCLAIMED
            else:
                w = W_DIST_OFFICIAL_ACCT if is_account else W_DIST_OFFICIAL_POST
            out.append(Evidence(CATEGORY, "district", text[s:e], s, e, w))
        return out

    # ------------------------------------------------------------------------------ (d) logo
    def _logo(self, attachments: Iterable[Any], is_account: bool) -> list[Evidence]:
        out = []
        for a in attachments:
            ph = getattr(a, "phash", None)
            if not ph:
                continue
            dists = [d for logo in self.logos if (d := phash_distance(ph, logo)) is not None]
            if not dists:
                continue
            d = min(dists)
            bits = len(ph.strip()) * 4
            w = 0.0
            for limit, weight in LOGO_STEPS_64:
                if d <= limit * bits / 64:
                    w = weight
                    break
            if w:
                if not is_account:
                    w = round(w * LOGO_POST_FACTOR, 3)
                out.append(Evidence(CATEGORY, "logo", f"{getattr(a, 'filename', None) or a.sha256[:12]} "
                                    f"(logo distance {d})", None, None, w))
        return out


_SQUASHED_DISCLAIMERS = ("fan", "unofficial", "parody", "alum", "student", "meme", "confession", "stan")
_LETTERS_DIGITS = re.compile(r"[^\W_]+")
# first names that are everyday words, which "it's may ..." must not read as a claim
_COMMON_GIVEN_GUARD = frozenset({"will", "may", "june", "april", "grace", "hope", "joy", "mark", "bill", "pat",
                                 "art", "rose", "ivy", "max", "sunny", "summer", "dawn", "chase", "hunter",
                                 "just", "so", "not", "about", "going", "me", "here", "fine", "ok", "okay"})


def _account_context(text: str, low: str) -> bool:
    """Account-change words in `text` (`low`: its lower case)."""
    if text.isascii():
        return _ACCOUNT_CONTEXT_LOW.search(low) is not None
    return _ACCOUNT_CONTEXT.search(text) is not None


def _strip_affixes(squashed: str) -> list[str]:
    """The handle plus versions with one decoration removed at the front and/or back."""
    keys = [squashed]
    for pre in _AFFIXES:
        if squashed.startswith(pre) and len(squashed) - len(pre) >= 4:
            keys.append(squashed[len(pre):])
    for key in list(keys):
        for suf in ("official", "real", "fake", "xx", "x", "xo", "og", "tv", "yt", "ig", "irl"):
            if key.endswith(suf) and len(key) - len(suf) >= 4:
                keys.append(key[:-len(suf)])
    return keys


def _hashes(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v)


# ------------------------------------------------------------------------------ convenience
# Keyed on the identity of the roster and district objects (see classifiers.pii.detector_for)
# plus the logo hash value(s).
_CACHE: dict[tuple, tuple[Any, Any, ImpersonationDetector]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 8


def detector_for(roster: Any = None, district: Any = None, logo_phash: Any = None) -> ImpersonationDetector:
    """The cached detector for this roster object, district object and logo hash(es)."""
    key = (id(roster), id(district), logo_phash if isinstance(logo_phash, (str, type(None))) else _hashes(logo_phash))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is roster and hit[1] is district:
        return hit[2]
    det = ImpersonationDetector(roster, district, logo_phash)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (roster, district, det)
    return det


def find_impersonation(post: PostInput, *, roster: Any = None, district: Any = None,
                       logo_phash: Any = None) -> list[Evidence]:
    """Impersonation evidence for one post (student guidelines 5, 11, 12, 13). `logo_phash`
    defaults to the district's (a policy's `logo_phash`) when not given."""
    return detector_for(roster, district, logo_phash).find(post)


def find_impersonation_batch(posts: Sequence[PostInput], *, roster: Any = None,
                             district: Any = None) -> list[list[Evidence]]:
    """`find_impersonation` for each post, in order (the district's logo hash)."""
    return detector_for(roster, district, None).find_batch(posts)
