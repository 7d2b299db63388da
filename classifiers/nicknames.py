"""How we recognize people's names: a nickname table and the roster name index.

Shared by the PII detector (names of other students in a post, student guideline 4) and the
impersonation detector (claims and account names, student guideline 5).

A small table of English given-name nicknames:

Students rarely impersonate a classmate with the exact roster spelling: "Mike Ortiz" for Michael
Ortiz, "Liz Chen" for Elizabeth Chen. The table maps a formal name to the short forms people
use; `given_forms(name)` returns every form to accept for a roster given name, in both
directions (a roster "Mike" also accepts "Michael"). Kept deliberately short: each extra form is
one more way for an unrelated name to collide, so only common, unambiguous nicknames are here.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie", "gail"),
    "alexander": ("alex", "xander", "al", "lex"),
    "alexandra": ("alex", "lexi", "lexie", "sandra", "sasha"),
    "alexis": ("lexi", "alex"),
    "alfred": ("alfie", "al", "fred"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "barbara": ("barb", "babs"),
    "benjamin": ("ben", "benny", "benji"),
    "bradley": ("brad",),
    "brandon": ("bran",),
    "caroline": ("carrie", "carol", "caro"),
    "catherine": ("cathy", "cat", "kate", "katie"),
    "charles": ("charlie", "chuck", "chaz"),
    "charlotte": ("charlie", "lottie"),
    "christian": ("chris",),
    "christina": ("chris", "tina", "christy"),
    "christine": ("chris", "tina", "christy"),
    "christopher": ("chris", "topher", "kit"),
    "cynthia": ("cindy",),
    "daniel": ("dan", "danny"),
    "danielle": ("dani", "elle"),
    "david": ("dave", "davey"),
    "deborah": ("deb", "debbie"),
    "dominic": ("dom",),
    "donald": ("don", "donnie"),
    "dorothy": ("dot", "dottie"),
    "edward": ("ed", "eddie", "ned", "ted"),
    "elizabeth": ("liz", "lizzie", "beth", "betsy", "eliza", "libby", "ellie"),
    "eleanor": ("ellie", "nora", "elle"),
    "emily": ("em", "emmy"),
    "emma": ("em", "emmy"),
    "evelyn": ("evie", "eve"),
    "francesca": ("fran", "frankie"),
    "francis": ("frank", "fran"),
    "frederick": ("fred", "freddie"),
    "gabriel": ("gabe",),
    "gabriella": ("gabby", "ella"),
    "gabrielle": ("gabby", "elle"),
    "gregory": ("greg",),
    "hannah": ("hanna", "annie"),
    "henry": ("hank", "harry", "hal"),
    "isabella": ("izzy", "bella", "isa"),
    "isabelle": ("izzy", "belle"),
    "jacob": ("jake", "jay"),
    "james": ("jim", "jimmy", "jamie", "jay"),
    "jason": ("jay",),
    "jayden": ("jay", "jaye"),
    "jennifer": ("jen", "jenny", "jenn"),
    "jessica": ("jess", "jessie"),
    "jonathan": ("jon", "jonny", "nathan"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("kate", "katie", "kathy", "kat", "kit"),
    "kathryn": ("kate", "katie", "kathy", "kat"),
    "kimberly": ("kim",),
    "lawrence": ("larry",),
    "leonardo": ("leo",),
    "lucas": ("luke",),
    "madeline": ("maddie", "maddy"),
    "madison": ("maddie", "maddy"),
    "margaret": ("maggie", "meg", "peggy", "greta"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mikey", "mick", "mickey"),
    "michelle": ("shelly",),
    "natalie": ("nat",),
    "nathaniel": ("nate", "nathan", "nat"),
    "nicholas": ("nick", "nicky", "cole"),
    "nicole": ("nikki", "nicki"),
    "olivia": ("liv", "livvy", "ollie"),
    "oliver": ("ollie",),
    "patricia": ("pat", "patty", "trish"),
    "patrick": ("pat", "paddy"),
    "penelope": ("penny",),
    "peter": ("pete",),
    "rebecca": ("becca", "becky"),
    "richard": ("rick", "ricky", "rich", "dick"),
    "robert": ("rob", "robbie", "bob", "bobby", "bert"),
    "ronald": ("ron", "ronnie"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "sarah": ("sara", "sally"),
    "sebastian": ("seb", "bash"),
    "sophia": ("sophie",),
    "stephanie": ("steph",),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "susan": ("sue", "suzy"),
    "theodore": ("theo", "ted", "teddy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "tori"),
    "vincent": ("vince", "vinny"),
    "william": ("will", "bill", "billy", "liam", "willy"),
    "zachary": ("zach", "zack", "zac"),
}

# nickname -> formal names it can stand for
_REVERSE: dict[str, set[str]] = {}
for _formal, _nicks in NICKNAMES.items():
    for _n in _nicks:
        _REVERSE.setdefault(_n, set()).add(_formal)


@lru_cache(maxsize=8192)
def given_forms(name: str) -> frozenset[str]:
    """Forms (lower case) that may stand for the given name `name`, including itself.

    Michael -> {michael, mike, mikey, mick, mickey}; Mike -> {mike, michael}. A nickname is
    widened to its formal names only, not to their other nicknames (a roster "Jay" must not
    accept "Jimmy" by way of James).
    """
    n = name.casefold().strip()
    if not n:
        return frozenset()
    forms = {n, *NICKNAMES.get(n, ())}
    forms.update(_REVERSE.get(n, ()))
    return frozenset(forms)


# ---------------------------------------------------------------------------------------------
# Roster name index: the one place where roster names are turned into lookup keys, shared by the
# PII detector (names of other students in a post) and the impersonation detector (claims and
# account names). Built once per roster; a post costs one tokenization plus dict lookups.
# ---------------------------------------------------------------------------------------------

# Letters only: hyphens and apostrophes split names ("O'Brien" -> o, brien; "Smith-Jones" ->
# smith, jones) identically in the roster and in posts, and a possessive "Rivera's" ends as
# rivera + s, which the callers read as "talking about", not "claiming to be".
_TOKEN = re.compile(r"[^\W\d_]+")

STAFF_ROLES = frozenset({"teacher", "administrator", "aide", "staff", "counselor", "principal",
                         "districtadministrator", "proctor", "sitecoordinator"})
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "doc", "coach", "principal", "superintendent",
                    "professor", "prof", "dean", "nurse", "teacher", "sir", "madam", "mister",
                    "senor", "senora", "senorita", "madame", "monsieur", "counselor", "vice",
                    "assistant", "director"})

# Names that are also everyday words: a lower-case match on one of these ("i will may be late")
# is not a name. Capitalized matches still count.
COMMON_WORDS = frozenset("""
will may june april august grace hope joy faith rose lily daisy iris ivy mark bill pat art sue rob
jack frank drew chase hunter summer autumn dawn sky rich guy ray gene dean king young white black
brown green gray grey long short little hill wood woods stone rice best bell cook baker miller hall
wells price love west north south east page chance sunny storm river rain star angel major grant
justice honor penny ruby pearl amber crystal cash rusty buck bob sam nick kit dot ted max june ash
reed case cole rock gay may bond early hall lane marsh pike quill mile miles more moore park parks
field fields head holiday house jones just kind knight lee little low mann may money new person
power rich roof rose royal sage shore small smart snow spring strong swift wise word worth
""".split())


def fold(word: str) -> str:
    """Lower case without accents ("José" -> "jose"); cheap for ASCII."""
    w = word.casefold()
    if w.isascii():
        return w
    return "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))


class Tokens:
    """The folded words of a text, with their character spans computed only when asked for
    (a post that names nobody never pays for them). `findall` runs in C; the spans are one
    more `finditer` pass, done for the few posts that contain a name."""

    __slots__ = ("text", "words", "_spans")

    def __init__(self, text: str):
        self.text = text
        if text.isascii():
            self.words = _TOKEN.findall(text.lower())     # same boundaries as the original
        else:
            # (most words of a non-ASCII post are ASCII: lower() is their fold, without a call)
            self.words = [w.lower() if w.isascii() else fold(w) for w in _TOKEN.findall(text)]
        self._spans: list[tuple[int, int]] | None = None

    def __len__(self) -> int:
        return len(self.words)

    def span(self, i: int) -> tuple[int, int]:
        if self._spans is None:
            self._spans = [m.span() for m in _TOKEN.finditer(self.text)]
        return self._spans[i]


_last_tokens: tuple[str, Tokens] | None = None


def tokens(text: str) -> Tokens:
    """Tokens of `text`; the last result is reused, since the PII and impersonation detectors
    read the same post one after the other (a single tuple swap: safe across threads)."""
    global _last_tokens
    last = _last_tokens
    if last is not None and last[0] == text:
        return last[1]
    toks = Tokens(text)
    _last_tokens = (text, toks)
    return toks


def ascii_words(texts: Sequence[str]) -> set[str]:
    """Every word of the ASCII texts among `texts` together (the union of their
    `tokens(t).words`; the others are left to the caller), so a batch in which no roster name
    can start costs one scan."""
    return set(_TOKEN.findall("\0".join(t for t in texts if t.isascii()).lower()))


def name_tokens(name: str | None) -> tuple[str, ...]:
    return tuple(fold(t) for t in _TOKEN.findall(name or ""))


@dataclass(frozen=True)
class Named:
    """A roster person reduced to what name matching needs."""
    user_id: str
    username: str
    role: str
    given: tuple[str, ...]
    family: tuple[str, ...]

    @property
    def is_student(self) -> bool:
        return self.role == "student"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def display(self) -> str:
        return " ".join(w.capitalize() for w in (*self.given, *self.family))


@dataclass(frozen=True)
class Mention:
    """A person named in a text: token range, char span, who, and how the name was written."""
    first: int          # token index of the first name token (the title when `titled`)
    last: int           # token index after the last name token
    start: int
    end: int
    people: tuple[str, ...]     # user ids (several when several people share the name)
    how: str                    # full | nick | titled (title + staff family name)
    possessive: bool            # followed by 's ("Rivera's homework")


class NameIndex:
    """Lookup tables over a roster's names.

    `full`: (first token, second token) -> [(name tokens, user id, how)]: given+family and
    nickname+family. Keyed on the first two tokens so a post costs one dict lookup per adjacent
    token pair, whatever the roster size. `staff_family`: family first token -> [(family tokens,
    user id)] for "Ms. Rivera". `given`: given-name form -> user ids (first name alone: only
    with other evidence). `usernames`: lower-case username -> user id.
    """

    def __init__(self, people: Iterable[Any]):
        self.people: dict[str, Named] = {}
        self.full: dict[tuple[str, str], list[tuple[tuple[str, ...], str, str]]] = {}
        self.staff_family: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.given: dict[str, set[str]] = {}
        self.usernames: dict[str, str] = {}
        for p in people:
            given, family = name_tokens(getattr(p, "given_name", "")), name_tokens(getattr(p, "family_name", ""))
            if not given or not family:
                continue                      # a one-word name is too ambiguous to match
            uid = str(p.user_id)
            named = Named(uid, str(getattr(p, "username", "") or ""), str(getattr(p, "role", "") or "").lower(),
                          given, family)
            self.people[uid] = named
            if named.username:
                self.usernames[named.username.lower()] = uid
            # "O'Neil" is written "oneil" as often as "o'neil": index both spellings
            families = (family, ("".join(family),)) if len(family) > 1 else (family,)
            for fam in families:
                self._add_full(given + fam, uid, "full")
                if len(given) == 1:
                    for form in given_forms(given[0]) - {given[0]}:
                        self._add_full((form, *fam), uid, "nick")
                if named.is_staff:
                    self.staff_family.setdefault(fam[0], []).append((fam, uid))
            for form in given_forms(given[0]):
                self.given.setdefault(form, set()).add(uid)

        self.firsts: frozenset[str] = frozenset({k[0] for k in self.full}) | TITLES

    def _add_full(self, seq: tuple[str, ...], uid: str, how: str) -> None:
        bucket = self.full.setdefault((seq[0], seq[1]), [])
        if not any(s == seq and u == uid for s, u, _ in bucket):
            bucket.append((seq, uid, how))

    def author_id(self, author: Any, roster: Any = None) -> str | None:
        """The roster user id of a post's author: given as an id, a username, or a Person."""
        if author is None:
            return None
        if not isinstance(author, str):
            return str(getattr(author, "user_id", "")) or None
        if author in self.people:
            return author
        if roster is not None:
            p = roster.get(author)
            if p is not None:
                return str(p.user_id)
        return self.usernames.get(author.lower(), author)

    def mentions(self, text: str, toks: Tokens | None = None) -> list[Mention]:
        """Every roster name in `text`: full names (given or nickname + family, any role) and
        a title followed by a staff family name ("Ms. Rivera", "principal Kincaid")."""
        toks = tokens(text) if toks is None else toks
        words = toks.words
        if self.firsts.isdisjoint(words):
            return []                          # the usual case: no roster first word at all
        found: list[Mention] = []
        n = len(words)
        firsts, full = self.firsts, self.full
        for i in range(n - 1):
            t0 = words[i]
            if t0 not in firsts:
                continue
            if t0 in TITLES:
                m = self._titled(toks, i)
                if m:
                    found.append(m)
                    continue
            bucket = full.get((t0, words[i + 1]))
            if not bucket:
                continue
            by_len: dict[int, list[tuple[str, str]]] = {}
            for seq, uid, how in bucket:
                k = len(seq)
                if i + k <= n and all(words[i + j] == seq[j] for j in range(2, k)):
                    by_len.setdefault(k, []).append((uid, how))
            if not by_len:
                continue
            k = max(by_len)
            if not self._looks_like_name(toks, i, k):
                continue
            hits = by_len[k]
            how = "full" if any(h == "full" for _, h in hits) else "nick"
            uids = tuple(dict.fromkeys(u for u, h in hits if h == how))
            found.append(Mention(i, i + k, toks.span(i)[0], toks.span(i + k - 1)[1], uids, how,
                                 _possessive(toks, i + k)))
        return found

    def _titled(self, toks: Tokens, i: int) -> Mention | None:
        words = toks.words
        j = i + 1
        # "Ms." / "Mrs" / "Vice Principal": allow one more title word
        if j < len(words) and words[j] in TITLES and words[j] not in self.staff_family:
            j += 1
        if j >= len(words):
            return None
        cands = self.staff_family.get(words[j])
        if not cands:
            return None
        best_len, uids = 0, []
        for seq, uid in cands:
            k = len(seq)
            if j + k <= len(words) and all(words[j + x] == seq[x] for x in range(k)):
                if k > best_len:
                    best_len, uids = k, [uid]
                elif k == best_len:
                    uids.append(uid)
        if not uids:
            return None
        last = j + best_len
        return Mention(i, last, toks.span(i)[0], toks.span(last - 1)[1], tuple(dict.fromkeys(uids)), "titled",
                       _possessive(toks, last))

    @staticmethod
    def _looks_like_name(toks: Tokens, i: int, k: int) -> bool:
        """Capitalized as a name, or made only of words that are not everyday words."""
        text = toks.text
        if all(text[toks.span(i + j)[0]].isupper() for j in range(k)):
            return True
        return not any(toks.words[i + j] in COMMON_WORDS for j in range(k))


def _possessive(toks: Tokens, after: int) -> bool:
    """The name is followed by 's / ’s / s' ("Rivera's homework"), so it is talked about."""
    if after >= len(toks):
        return False
    prev_end = toks.span(after - 1)[1]
    start = toks.span(after)[0]
    return toks.words[after] == "s" and start - prev_end == 1 and toks.text[prev_end] in "'’`"


# One NameIndex per roster object, shared by the PII and impersonation detectors (both match the
# same names; two indexes of a 20,000-person roster would cost twice the start-up and memory).
# Keyed on the roster object's identity; the entry holds the roster so the id cannot be reused
# while it lives.
_INDEXES: dict[int, tuple[Any, NameIndex]] = {}
_INDEXES_LOCK = threading.Lock()
_INDEXES_MAX = 4


def name_index_of(roster: Any) -> NameIndex:
    """The NameIndex of `roster` (None: an empty one), built once per roster object."""
    hit = _INDEXES.get(id(roster))
    if hit is not None and hit[0] is roster:
        return hit[1]
    index = NameIndex(list(roster.people()) if roster is not None else [])
    with _INDEXES_LOCK:
        if len(_INDEXES) >= _INDEXES_MAX:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[id(roster)] = (roster, index)
    return index
