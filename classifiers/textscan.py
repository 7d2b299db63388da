r"""Scanning a batch of posts at once, for the rule-based stages' batch functions.

The rule-based stages (intent patterns, help-seeking, PII, impersonation) spend most of their
time deciding that a post holds nothing: a post is short, and each Python call into `re` costs
about as much as scanning it. So a batch is joined into one string with NUL between the posts,
each cheap gate runs once over the whole of it, and only the posts a gate finds are looked at
one by one. A gate pattern must never match a NUL: then no match spans two posts, and a word
boundary or a look-behind at the start of a post sees a NUL just as it sees the start of a
string. Python's `re` works in C: the gain comes from fewer calls and from patterns it can
skip through quickly (a literal or a small set of characters first), never from Python loops.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Iterable, Sequence

SEP = "\0"
REST_OF_POST = r"[^\0]*"     # appended to a gate: one match per post, the scan resumes at the next


def join(texts: Sequence[str]) -> tuple[str, list[int]]:
    """The texts joined by NUL, and where each starts in the joined string."""
    return SEP.join(texts), list(accumulate([len(t) + 1 for t in texts[:-1]], initial=0))


def join_lower(texts: Sequence[str], joined: str, starts: list[int]) -> tuple[str, list[int]]:
    """The posts' lower() joined by NUL, and where each starts in that string (the same places
    as in `joined` unless lower() changed a length: "İ" -> "i̇"). Lowered post by post, not as
    one string: lower() has a fast path for ASCII text, which one emoji in a batch would lose."""
    lows = [t.lower() for t in texts]
    if list(map(len, lows)) == list(map(len, texts)):
        return SEP.join(lows), starts
    return join(lows)


def posts_matching(pattern: re.Pattern, joined: str, starts: list[int]) -> set[int]:
    """Indices of the posts in which `pattern` (never matching a NUL) matches."""
    return {bisect_right(starts, m.start()) - 1 for m in pattern.finditer(joined)}


def posts_with(keys: Iterable[str], joined: str, starts: list[int]) -> set[int]:
    """Indices of the posts holding any of `keys` as a substring (what `any(k in text ...)`
    tests per post). str.find over the joined batch, jumping to the next post after a hit: for
    a few keys this beats a regex alternation, which stops at every position."""
    out: set[int] = set()
    last = len(starts) - 1
    find = joined.find
    for k in keys:
        if SEP in k:          # could match across two posts: let the caller go post by post
            raise ValueError(f"batch key {k!r} holds a NUL")
        pos = find(k)
        while pos >= 0:
            i = bisect_right(starts, pos) - 1
            out.add(i)
            if i == last:
                break
            pos = find(k, starts[i + 1])
    return out


def word_counts(words: Iterable[str], joined: str, starts: list[int], cap: int | None = None) -> dict[int, int]:
    """post index -> the sum over `words` of `text.count(w)` (non-overlapping occurrences from
    the left, as str.count counts them), for the posts holding any. With `cap`, a post's count
    stops at `cap` (min(count, cap)): a caller that only asks "at least cap?" then costs one loop
    turn per post and word at most, instead of one per occurrence (a crafted 1 MB post of
    "oneone..." cost 100 ms a word uncapped)."""
    if cap is not None and cap < 1:
        raise ValueError(f"word count cap {cap!r} must be at least 1")
    out: dict[int, int] = {}
    find = joined.find
    last = len(starts) - 1
    for w in words:
        if not w or SEP in w:
            raise ValueError(f"batch count word {w!r} is empty or holds a NUL")
        pos = find(w)
        while pos >= 0:
            i = bisect_right(starts, pos) - 1
            n = out.get(i, 0)
            if cap is not None and n >= cap:
                # this post is done: jump to the next one (or stop after the last)
                if i == last:
                    break
                pos = find(w, starts[i + 1])
                continue
            out[i] = n + 1
            pos = find(w, pos + len(w))
    return out


def literal_trie(words: Sequence[str], repeats: bool = False) -> str:
    """A regex alternation of the literal `words` as a trie: one branch per distinct next
    character (a position is rejected after one comparison instead of one per word), longer
    words first at every node. With `repeats`, every letter a-z may be doubled or more ("k" ->
    "kk*"): in unsqueezed text it matches exactly where the word matches the text with runs of a
    letter cut to one (the words themselves must hold no doubled letter)."""
    root: dict = {}
    for w in words:
        node = root
        for c in w:
            node = node.setdefault(c, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = []
        for c in sorted(k for k in node if k):
            atom = re.escape(c) + (re.escape(c) + "*" if repeats and "a" <= c <= "z" else "")
            alts.append(atom + emit(node[c]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            body = ("(?:" + body + ")?") if len(alts) == 1 else body + "?"
        return body

    return emit(root)


# English letters from the rarest to the most common (digits rarer still), for anchored_any
_RARITY = "0123456789zqxjkvbpygfwmucldrhsnioate"


def anchored_any(words: Sequence[str]) -> str:
    """A regex matching where any of the literal `words` occurs, anchored on each word's rarest
    letter: it starts with a small set of rare characters, so the engine skips in C to the next
    one of them and checks the rest of the word behind and ahead (about twice as fast as a trie
    starting at first letters, most of which are common). A match starts inside the word, which
    is all a gate needs (which post holds one); it does not say which word."""
    groups: dict[str, list[str]] = {}
    for w in words:
        if not w:
            raise ValueError("an empty word matches everywhere")
        j = min(range(len(w)), key=lambda k: (_RARITY.find(w[k]) % len(_RARITY), k))
        before = f"(?<={re.escape(w[:j + 1])})" if j else ""
        groups.setdefault(w[j], []).append(before + re.escape(w[j + 1:]))
    return "(?:" + "|".join(f"{re.escape(c)}(?:{'|'.join(rest)})" for c, rest in groups.items()) + ")"


def word_start(forms: Sequence[str]) -> str:
    r"""`\b(?:f1|f2|...)` for literal `forms` that all start with a letter, written to start with
    those letters: the regex engine then jumps in C to the next place one of them occurs,
    instead of trying every word start (several times faster on a tweet). Before a letter,
    `\b` means "no word character before", which `(?<!\w.)` checks once the letter is read;
    forms are grouped by first letter in their order (forms with different first letters
    cannot match at the same place), so every match, and the order in which alternatives are
    tried, is that of `\b(?:...)` (tests/classifiers/test_rules_batch.py checks)."""
    groups: dict[str, list[str]] = {}
    for f in forms:
        if not f[:1].isalpha():
            raise ValueError(f"{f!r} does not start with a letter")
        groups.setdefault(f[0], []).append(re.escape(f[1:]))
    return "(?:" + "|".join(rf"{re.escape(c)}(?<!\w.)(?:{'|'.join(rest)})" for c, rest in groups.items()) + ")"


def top_level_alternatives(source: str) -> list[str]:
    """A regex source split at its top-level "|" (not inside a group or a character class)."""
    out: list[str] = []
    cur: list[str] = []
    depth, i, in_class = 0, 0, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            cur.append(source[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            cur.append(c)
            i += 1
            for lead in ("^", "]"):                  # "[^...", "[]...": literal, not the end
                if source[i:i + 1] == lead:
                    cur.append(lead)
                    i += 1
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def starts_with_word_char(source: str) -> bool:
    """Whether every match of the regex `source` starts with a word character: its first item
    is a literal letter, digit or "_", or a group or alternation all of whose branches are."""
    _parser = None    # bound below, inside the try

    def first_ok(items) -> bool:
        if not items:
            return False
        op, av = items[0]
        if op is _parser.LITERAL:
            return chr(av).isalnum() or chr(av) == "_"
        if op is _parser.SUBPATTERN:
            return first_ok(list(av[-1]) + items[1:])
        if op is _parser.BRANCH:
            return all(first_ok(list(b) + items[1:]) for b in av[1])
        if op is _parser.IN:                          # a class, or single-character branches
            return all(word_item(o, a) for o, a in av)
        if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
            # the repeated item first; if it may be absent, what follows it too
            return first_ok(list(av[2])) and (av[0] >= 1 or first_ok(items[1:]))
        return False

    def word_item(op, av) -> bool:
        if op is _parser.LITERAL:
            return chr(av).isalnum() or chr(av) == "_"
        if op is _parser.RANGE:
            return all(chr(c).isalnum() or chr(c) == "_" for c in range(av[0], av[1] + 1))
        return op is _parser.CATEGORY and av in (_parser.CATEGORY_WORD, _parser.CATEGORY_DIGIT)

    # re._parser is private: a future Python may rename or change it. Any failure here (an
    # ImportError, an AttributeError, a changed tuple shape) answers False, and the caller then
    # keeps the slower general pattern: the pipeline must still import, just not as fast.
    try:
        from re import _parser  # the stdlib's own regex parser (3.11: re._parser)
        return first_ok(list(_parser.parse(source)))
    except Exception:
        return False


def without_word_boundary(sources: Sequence[str]) -> str | None:
    r"""One regex that matches in "\0" + text exactly where one of the regexes `sources` matches
    in text, for a yes/no search: every top-level branch of every source must be `\b` followed by
    something that starts with a word character, where `\b` means "no word character before";
    the result is `\W(?:branch|branch...)` (the search skips in C to the next non-word
    character instead of trying every position). None when a branch is not of that form."""
    branches = [b for s in sources for b in top_level_alternatives(s)]
    if not all(b.startswith(r"\b") and starts_with_word_char(b[2:]) for b in branches):
        return None
    return r"\W(?:" + "|".join(b[2:] for b in branches) + ")"
