"""Text normalization for the classifiers, with a map back to the original characters.

Students obfuscate on purpose (`u r s0 ugly`, `k i l l`, Cyrillic look-alikes, `stuuupid`), and the
models and intent patterns only ever see the normalized form, so evasion costs a student more
than it costs us. Every normalized character remembers the span of original characters it came
from, so evidence found in the normalized text can be shown to a counselor exactly as written.

The work is done by whole-string regex passes that copy untouched stretches of the offset arrays
as slices: a plain ASCII post costs a few microseconds, not a Python loop per character.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

MENTION = "@user"      # the placeholder OLID's authors used too, so training and live text agree
URL = "url"
EMAIL = "email"

# Cyrillic and Greek letters that render like Latin ones (lower case; input is case-folded first).
HOMOGLYPHS = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ї": "i",
    "ј": "j", "ѕ": "s", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ɡ": "g", "ո": "n", "ս": "u",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y", "μ": "u", "ѵ": "v", "ς": "c", "ϲ": "c",
}

# Emoji that carry meaning for these categories become words; every other emoji is dropped.
EMOJI_WORDS = {
    "🔪": "knife", "🗡": "knife", "🔫": "gun", "💣": "bomb", "🧨": "bomb", "💥": "boom",
    "💀": "skull", "☠": "skull", "⚰": "coffin", "🪦": "grave", "🩸": "blood", "🪓": "axe",
    "🤡": "clown", "🖕": "middle finger", "💩": "poop", "🐷": "pig", "🐖": "pig", "🐽": "pig",
    "🐄": "cow", "🐮": "cow", "🐳": "whale", "🐋": "whale", "🤮": "vomit", "🤢": "vomit",
    "🏫": "school", "😡": "angry", "🤬": "cursing", "😠": "angry", "😭": "crying", "😢": "sad",
    "💔": "broken heart", "😞": "sad", "😔": "sad", "🥀": "wilted", "💊": "pills", "🪢": "rope",
    "😂": "laughing", "🤣": "laughing", "❤": "heart", "♥": "heart", "💕": "heart", "🙏": "please",
}

# Whole-token expansions of chat shorthand (applied after leetspeak, on word boundaries).
SHORTHAND = {
    "u": "you", "r": "are", "ur": "your", "urself": "yourself", "ya": "you", "yu": "you",
    "kys": "kill yourself", "kms": "kill myself", "h8": "hate", "ppl": "people", "ne1": "anyone",
    "pls": "please", "plz": "please", "cuz": "because", "bc": "because",
}

LEET = {"0": "o", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t", "!": "i", "|": "l"}
_LEETISH = set(LEET) | {"1", "|"}
_SPACED_SKIP = set("aiur")     # "u r a loser" must not become "ura loser"

# Host names and local parts are bounded as DNS and mail bound them: a label of 1-63 characters, at
# most 10 labels before the top-level domain, a local part of at most 64. Unbounded, each word start
# inside a long run such as "a-a-a-..." or "a.a.a..." scanned the rest of the run before failing
# (quadratic: a 5,000-character post cost 358 ms). Bounded, a start costs at most one host name,
# and the possessive `{1,63}+` never gives back part of a label (what follows a label is a dot or
# "@", which no label holds, so giving back could not help). Real addresses are far inside the
# bounds. An address's local part starts where a run of its characters starts (the leftmost
# start, as before), or at a "." or "+" right after a word character, where the previous address
# may have ended ("a@b.c+d@e.f" holds two): the look-behind rejects every other position at
# once, where trying 64 characters from each cost 170 ms per 200k characters of "____". A run
# longer than 64 before an "@" is no address and is left as written. The domain after "@" stays
# unbounded: it can only start at an "@", so it is scanned once.
_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]{1,63}+(?:\.[a-z0-9-]{1,63}+){0,10}"
                     r"\.(?:com|net|org|ly|io|gg|co|me|tv)\b(?:/\S*)?")
_EMAIL_RE = re.compile(r"(?:(?<![\w.+-])|(?<=[\w-])(?=[.+]))[\w.+-]{1,64}+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_HINT_RE = re.compile(r"@[\w-]+\.")         # every e-mail address holds this
# A mention is "@word" not inside an address or a word: not after "@" or a word character. The
# look-back sits after the "@" so re still scans for the literal "@" (a leading look-behind would
# be tried at every position), and the constant replacement needs no Python call per match.
_MENTION_RE = re.compile(r"@(?<![@\w]@)\w+")
_SPACED_RE = re.compile(r"(?<!\S)[a-z0-9@$!|]([ .\-_*+~])(?:[a-z0-9@$!|]\1)+[a-z0-9@$!|](?![^\s.,!?;:])")
_LEET_TOKEN_RE = re.compile(r"(?<!\S)(?=[^\s]*[a-z])[^\s]*[0-9@$!|][^\s]*")
_DIGIT_WORD_RE = re.compile(r"(?<!\S)[013457]{1,4}(?=[\s.,!?;:]|$)")
_DIGIT_LETTERS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})
_TRAILING_NUMBER_RE = re.compile(r"[a-z]{3,}+\d+")  # "line1", "jay2010": a word and a number
# (possessive: no letter given back can be a digit; fullmatch on a long word fails in one pass)
_NUMERIC_RE = re.compile(r"\d*(?:1st|2nd|3rd|[04-9]th|1[1-3]th)|\d+(?:am|pm|s|k|m|x|h|yo|yrs?|min|ft|lbs?)?")
_SHORTHAND_RE = re.compile(r"(?<![\w'])(?:" + "|".join(sorted(map(re.escape, SHORTHAND), key=len, reverse=True)) + r")(?![\w'])")
_SPACES_RE = re.compile(r"[^\S\n]{2,}|\t")
_TLD_RE = re.compile(r"\.(?:com|net|org|ly|io|gg|co|me|tv)\b")
# Where the leetspeak pass can change something (see _leet_token): a leet digit, "$" or "|" next to
# a letter, "!" before a letter, "@" after one. "@user" and "wow!" (most posts) do not count.
# (Patterns that open with a character class scan fast; a leading lookbehind makes re slow. This
# one opens with the rare leet characters and looks back at the letter only where one is found:
# the same test as `[a-z][0-57$|@]|[0-57$|!][a-z]`, in half the time.)
_LEET_CHAR_RE = re.compile(r"[0-57$|@](?<=[a-z].)|[0-57$|!](?=[a-z])")
_REPEAT_RE = re.compile(r"(.)\1\1+")        # same as (.)\1{2,}, but twice as fast in re
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"}


@dataclass(frozen=True)
class Normalized:
    """Normalized text; `offsets[i]` is where its i-th character starts in the original and
    `ends[i]` where that character's source ends (one normalized character may stand for a run
    of original ones, e.g. a squeezed "ooooo").

    `normalize(text, offsets=False)` leaves the offsets out (most posts never need evidence, and
    keeping the map costs more than the normalization itself); they are then computed from
    `source` the first time `span()` is asked, giving exactly what `normalize(text)` would."""
    text: str
    offsets: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()
    source: str | None = None

    def _full(self) -> "Normalized":
        if self.source is None or self.offsets or not self.text:
            return self
        full = normalize(self.source)
        object.__setattr__(self, "offsets", full.offsets)   # a cache: the value is fixed by source
        object.__setattr__(self, "ends", full.ends)
        return self

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of the normalized range [start, end)."""
        if not self.text or end <= start:
            return (0, 0)
        self._full()
        end = min(end, len(self.text))
        ends = self.ends or tuple(o + 1 for o in self.offsets)
        return self.offsets[start], max(ends[start:end])


class _Buf:
    """A string with per-character original spans, rewritten by regex passes."""
    __slots__ = ("text", "starts", "ends")

    def __init__(self, text: str, starts: list[int] | None, ends: list[int] | None):
        self.text, self.starts, self.ends = text, starts, ends

    def sub(self, pattern: re.Pattern, repl: "str | Callable[[re.Match], str]") -> None:
        """Replace every match with repl(match), or with `repl` itself when it is a string (a
        constant: no backslash, so re.sub takes it literally too). A same-length replacement
        keeps the per-character map; any other maps every new character to the whole matched
        span. Without a map (starts is None) this is one re.sub in C, giving the same text; a
        constant then costs no Python call per match, and replacement functions return the match
        itself (not None) to leave it, for the same reason."""
        if self.starts is None:
            self.text = pattern.sub(repl, self.text)
            return
        text = self.text
        pieces: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        changed = False
        constant = isinstance(repl, str)
        for m in pattern.finditer(text):
            new = repl if constant else repl(m)
            if new == m.group(0):
                continue
            a, b = m.span()
            pieces.append(text[pos:a])
            starts += self.starts[pos:a]
            ends += self.ends[pos:a]
            if len(new) == b - a:
                starts += self.starts[a:b]
                ends += self.ends[a:b]
            else:
                s, e = (self.starts[a], self.ends[b - 1]) if b > a else (0, 0)
                starts += [s] * len(new)
                ends += [e] * len(new)
            pieces.append(new)
            pos = b
            changed = True
        if not changed:
            return
        pieces.append(text[pos:])
        starts += self.starts[pos:]
        ends += self.ends[pos:]
        self.text, self.starts, self.ends = "".join(pieces), starts, ends


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF
            or 0xFE00 <= cp <= 0xFE0F or 0x1F1E6 <= cp <= 0x1F1FF or cp == 0x20E3
            or unicodedata.category(ch) == "So")


def _fold_char(ch: str) -> str:
    """One non-ASCII character (already lower-cased where that keeps its length) -> ASCII-ish."""
    if ch in _ZERO_WIDTH:
        return ""
    low = ch.lower()
    if low in HOMOGLYPHS:
        return HOMOGLYPHS[low]
    if ch in EMOJI_WORDS:
        return f" {EMOJI_WORDS[ch]} "
    if _is_emoji(ch):
        return " "
    rep = unicodedata.normalize("NFKC", ch).lower()
    if not rep.isascii():
        # strip accents (kíll -> kill) and map look-alikes that NFKC produced
        rep = "".join(HOMOGLYPHS.get(c, c) for c in unicodedata.normalize("NFD", rep)
                      if not unicodedata.combining(c))
    return rep


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_FOLD_CACHE: dict[str, str] = {}


_FOLD_TABLE: dict[int, str] = {}      # the same mapping as _fold, for str.translate


def _fold_all(text: str) -> str:
    """Every non-ASCII character folded at once (no offsets needed): str.translate in C."""
    table = _FOLD_TABLE
    for ch in set(_NON_ASCII_RE.findall(text)):
        if ord(ch) not in table:
            rep = _FOLD_CACHE.get(ch)
            if rep is None:
                rep = _fold_char(ch)
            if len(table) < 50_000:
                table[ord(ch)] = rep
            else:
                text = text.replace(ch, rep)
    return text.translate(table)


def _fold(m: re.Match) -> str:
    ch = m.group(0)
    rep = _FOLD_CACHE.get(ch)
    if rep is None:
        rep = _fold_char(ch)
        if len(_FOLD_CACHE) < 50_000:       # bounded: there are only so many characters
            _FOLD_CACHE[ch] = rep
    return rep


def _leet_token(tok: str) -> str:
    chars = list(tok)
    n = len(chars)
    for i, c in enumerate(chars):
        if c == "1" or c == "|":
            run = (i > 0 and tok[i - 1] in "1|") or (i + 1 < n and tok[i + 1] in "1|")
            chars[i] = "l" if run or c == "|" else "i"
        elif c in LEET:
            prev_alpha = i > 0 and tok[i - 1].isalpha()
            next_alpha = i + 1 < n and tok[i + 1].isalpha()
            if c == "@" and not any(map(str.isalnum, tok[:i])):
                continue              # a leading "@" (".@user" too) is the mention placeholder by now
            if c in "!$@|" and not (prev_alpha or next_alpha):
                continue              # "ugly!", "$5", a lone "@": punctuation, not a letter
            if c == "!" and not next_alpha:
                continue              # trailing "!" ends a sentence
            if c.isdigit() and not (prev_alpha or next_alpha or
                                    (i > 0 and tok[i - 1] in _LEETISH) or (i + 1 < n and tok[i + 1] in _LEETISH)):
                continue
            chars[i] = LEET[c]
    return "".join(chars)


def _leet(m: re.Match) -> str:
    tok = m.group(0)
    if tok == MENTION or tok.isdigit():
        return tok
    core = tok.rstrip(".,?;:!\"')")
    if _NUMERIC_RE.fullmatch(core) or _TRAILING_NUMBER_RE.fullmatch(core):
        return tok                    # "3am", "2nd", "10k": numbers, not leetspeak
    if core == tok:
        return _leet_token(tok)
    return _leet_token(core) + tok[len(core):]


def _leet_words(before: str, after: str) -> int:
    """How many words the leetspeak pass changed (both strings split the same way)."""
    return sum(a != b for a, b in zip(before.split(), after.split()))


def _spaced(m: re.Match) -> str:
    run = m.group(0)
    letters = run[0::2]
    if set(letters) <= _SPACED_SKIP or sum(c.isalpha() for c in letters) < 2:
        return run
    word = _leet_token(letters) if not letters.isalpha() else letters
    if len(word) >= 4 and word[-1] == "u" and word[-2] != "o":
        return word[:-1] + " u"       # "k i l l u": the trailing "u" is "you", not part of the word
    return word


def _shorthand(m: re.Match) -> str:
    return SHORTHAND[m.group(0)]      # the pattern matches exactly the table's keys


def _two(m: re.Match) -> str:
    # (a function, not the template r"\1\1": Python 3.11 expands group templates in Python,
    # one call per re.sub even without a match)
    return m[1] * 2


def _digit_word(m: re.Match) -> str:
    return m.group(0).translate(_DIGIT_LETTERS)


def normalize(text: str, offsets: bool = True) -> Normalized:
    """Normalize `text` for the models and patterns (see module docstring). offsets=False: the
    map back to the original is computed later, only if `span()` is called (see Normalized)."""
    low = text.lower()
    if len(low) != len(text):        # a few characters grow when lower-cased ("İ"): fold one by one
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    n = len(text)
    buf = _Buf(low, list(range(n)), list(range(1, n + 1))) if offsets else _Buf(low, None, None)
    # Each pass is skipped when a cheap test shows it cannot match: most posts need few of them.
    if not low.isascii():
        if offsets:
            buf.sub(_NON_ASCII_RE, _fold)
        else:
            buf.text = _fold_all(low)
    t = buf.text
    # (the placeholders and the single space below are constants for _Buf.sub)
    if "@" in t and _EMAIL_HINT_RE.search(t):
        buf.sub(_EMAIL_RE, EMAIL)
    if "http" in t or "www." in t or _TLD_RE.search(t):
        buf.sub(_URL_RE, URL)
    if "@" in t:
        buf.sub(_MENTION_RE, MENTION)
    buf.sub(_SPACED_RE, _spaced)             # first, while wider gaps still separate words
    if "  " in buf.text or "\t" in buf.text:
        buf.sub(_SPACES_RE, " ")             # emoji words, "k  i  l  l": one space between words
        buf.sub(_SPACED_RE, _spaced)
    if _LEET_CHAR_RE.search(buf.text):
        before = buf.text
        buf.sub(_LEET_TOKEN_RE, _leet)
        # A post written in leetspeak ("1 w4nt 70 d13") also spells short words in digits only;
        # once two words were leet, digit-only words of up to 4 leet digits are read as letters.
        if before != buf.text and _leet_words(before, buf.text) >= 2:
            buf.sub(_DIGIT_WORD_RE, _digit_word)
    buf.sub(_SHORTHAND_RE, _shorthand)
    buf.sub(_REPEAT_RE, _two)                # a run of 3+ of one character cut to 2
    if not offsets:
        return Normalized(buf.text, source=text)
    return Normalized(buf.text, tuple(buf.starts), tuple(buf.ends))


def normalize_text(text: str) -> str:
    """The normalized string only (training and scoring paths that need no offsets)."""
    return normalize(text, offsets=False).text
