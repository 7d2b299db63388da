"""classifiers.textscan: the batch-scanning helpers behind the rule stages' batch functions."""
from __future__ import annotations

import re

import pytest

from classifiers.textscan import (REST_OF_POST, anchored_any, join, join_lower, literal_trie, posts_matching,
                                  posts_with, starts_with_word_char, top_level_alternatives, without_word_boundary,
                                  word_counts, word_start)

TEXTS = ["call me", "", "i live on elm", "nine nine one", "\0", "x\0live", "İSTANBUL live", "turn up", "zzz"]


@pytest.mark.parametrize("texts", [TEXTS, ["a"], ["", ""], ["live", "live"]])
def test_join_marks_where_each_post_starts(texts):
    joined, starts = join(texts)
    assert len(starts) == len(texts)
    for i, t in enumerate(texts):
        assert joined[starts[i]:starts[i] + len(t)] == t


@pytest.mark.parametrize("texts", [TEXTS, ["ΟΔΟΣ ΣΑΣ", "ΣΑΣ"], ["İİ", "i"], ["plain"]])
def test_join_lower_is_each_post_lowered(texts):
    joined, starts = join(texts)
    low, low_starts = join_lower(texts, joined, starts)
    for i, t in enumerate(texts):
        assert low[low_starts[i]:low_starts[i] + len(t.lower())] == t.lower()


@pytest.mark.parametrize("keys", [("live",), ("live", "turn"), ("nine", "one"), ("", ), ("zzz", "q"), ("x",)])
def test_posts_with_is_any_substring_per_post(keys):
    joined, starts = join(TEXTS)
    assert posts_with(keys, joined, starts) == {i for i, t in enumerate(TEXTS) if any(k in t for k in keys)}


def test_posts_with_refuses_a_key_holding_the_separator():
    with pytest.raises(ValueError):
        posts_with(["a\0b"], *join(["a", "b"]))


@pytest.mark.parametrize("words", [("nine", "one"), ("zero", "one", "two", "three"), ("e",), ("ee",)])
def test_word_counts_sum_str_count(words):
    texts = TEXTS + ["twone", "eee", "eightwo", "nineeee"]
    joined, starts = join(texts)
    got = word_counts(words, joined, starts)
    want = {i: sum(t.count(w) for w in words) for i, t in enumerate(texts)}
    assert got == {i: c for i, c in want.items() if c}


@pytest.mark.parametrize("words", [("kil", "kil myself", "me", "end", "end it"), ("a", "ab", "abc", "b"), ("x y",)])
def test_literal_trie_finds_the_longest_word_at_the_leftmost_place(words):
    trie = re.compile(literal_trie(words))
    plain = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
    for text in ["kil myself", "mend it", "abc ab a b", "x y x", "zzz", "", "kilmeend"]:
        assert trie.findall(text) == plain.findall(text)


@pytest.mark.parametrize("text,squeezed_hit", [("kiill", True), ("kkkil", True), ("kil", True), ("kl", False),
                                               ("kiil myseelf", True), ("ki il", False)])
def test_literal_trie_with_repeats_matches_the_squeezed_word(text, squeezed_hit):
    assert bool(re.search(literal_trie(["kil"], repeats=True), text)) == squeezed_hit


@pytest.mark.parametrize("words", [("help", "tell", "988"), ("live", "house is", "staying"), ("a",), ("d.o.b", "b-day")])
def test_anchored_any_finds_the_posts_holding_a_word(words):
    pattern = re.compile(anchored_any(words) + REST_OF_POST)
    texts = TEXTS + ["help", "xhelpx", "98 8", "988", "house  is", "my house is", "d.o.b:", "b-day", "a", "bday"]
    joined, starts = join(texts)
    assert posts_matching(pattern, joined, starts) == {i for i, t in enumerate(texts) if any(w in t for w in words)}


def test_anchored_any_refuses_an_empty_word():
    with pytest.raises(ValueError):
        anchored_any(["a", ""])


@pytest.mark.parametrize("forms,text,spans", [
    (("i", "i'm"), "i'm hi i", [(0, 1), (7, 8)]),
    (("will", "i'll"), "i'll will swill", [(0, 4), (5, 9)]),
    (("ab", "a"), "ab a xab", [(0, 2), (3, 4)]),
])
def test_word_start_table(forms, text, spans):
    assert [m.span() for m in re.finditer(word_start(forms), text)] == spans


@pytest.mark.parametrize("source,parts", [
    ("a|b", ["a", "b"]), ("(a|b)|c", ["(a|b)", "c"]), (r"a\|b|c", [r"a\|b", "c"]), ("[|]|x", ["[|]", "x"]),
    ("[]|]|x", ["[]|]", "x"]), ("[^]|]|x", ["[^]|]", "x"]), ("abc", ["abc"]), ("", [""]),
])
def test_top_level_alternatives_table(source, parts):
    assert top_level_alternatives(source) == parts


@pytest.mark.parametrize("source,word", [
    ("(?:a|b)c", True), ("(?:a|-)c", False), ("a?b", True), ("a?-", False), ("-?a", False), ("(?:go )?x", True),
    ("(?:go )?", False), ("a*", False), ("a+b", True), ("(?:a|b)?(?:c|-)", False), ("(", False), ("[a-z]x", True), ("[^a]x", False),
    (r"\dx", True), (r"\wx", True), ("(?:ab|cd)", True), ("x|-", False), ("(a)b", True), ("", False),
    (r"\bx", False), (".a", False), ("1[- .]?800", True),
])
def test_starts_with_word_char_table(source, word):
    assert starts_with_word_char(source) == word


@pytest.mark.parametrize("sources", [[r"\bcall\b", r"\b(?:is there|any)\s+help"], [r"\bx|\by"]])
def test_without_word_boundary_is_the_same_yes_no_search(sources):
    fast = re.compile(without_word_boundary(sources))
    texts = ["call", "recall", "is there help", "any  help", "x", "ax", "y", "_y", "a y", "", "call\0"]
    for text in texts:
        assert bool(fast.search("\0" + text)) == any(re.search(s, text) for s in sources)


def test_without_word_boundary_refuses_other_forms():
    assert without_word_boundary([r"\bcall", "call"]) is None
    assert without_word_boundary([r"\b-x"]) is None
