import pytest

from classifiers.normalize import normalize

CASES = [
    ("u r s0 ugly", "you are so ugly"),
    ("U R S0 UGLY", "you are so ugly"),
    ("sooooo stupiiiid", "soo stupiid"),
    ("k i l l yourself", "kill yourself"),
    ("k.i.l.l u", "kill you"),
    ("k 1 l l", "kill"),
    ("ki11 y0urself", "kill yourself"),
    ("1diot", "idiot"),
    ("$hit b!tch", "shit bitch"),
    ("f@t l0s3r", "fat loser"),
    ("5tup1d", "stupid"),
    ("g0 7o h3ll", "go to hell"),
    ("Hеllo уou іdiot", "hello you idiot"),          # Cyrillic е, у, і
    ("κιll", "kill"),                                  # Greek kappa, iota
    ("ｙｏｕ ａｒｅ ｕｇｌｙ", "you are ugly"),         # full-width (NFKC)
    ("kíll", "kill"),                                  # accents stripped
    ("ki\u200bll", "kill"),                            # zero-width space removed
    ("@Jayden_22 you suck", "@user you suck"),
    ("see https://example.com/x?y=1 now", "see url now"),
    ("go to www.example.org", "go to url"),
    ("i'll 🔪 you", "i'll knife you"),
    ("lol 😂", "lol laughing "),
    ("nice ✨", "nice "),                            # other emoji dropped
    ("kys", "kill yourself"),
    ("u r a loser", "you are a loser"),                # "u r a" is not a spaced-out word
    ("i h8 u", "i hate you"),
    ("in 2019 at 3am", "in 2019 at 3am"),              # numbers are not leetspeak
    ("you are ugly!", "you are ugly!"),                # punctuation stays punctuation
    ("email me: jay@example.com", "email me: email"),
    ("k i l l   y o u r s e l f", "kill yourself"),    # wide gaps separate spaced-out words
    ("k  i  l  l  yourself", "kill yourself"),
    ("1 w4n7 70 d13", "i want to die"),                # a leet post: digit-only words are letters too
    ("line1 and jay2010", "line1 and jay2010"),        # a word followed by a number is not leet
    ("on the 2nd at 4pm", "on the 2nd at 4pm"),
]


@pytest.mark.parametrize("raw,expected", CASES)
def test_normalize_table(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", [c[0] for c in CASES] + ["", "   ", "ÄÖÜ straße", "😂😂😂"])
def test_offsets_cover_text_and_stay_in_bounds(raw):
    n = normalize(raw)
    assert len(n.offsets) == len(n.text) == len(n.ends)
    for s, e in zip(n.offsets, n.ends):
        assert 0 <= s < e <= len(raw)
    assert list(n.offsets) == sorted(n.offsets)


@pytest.mark.parametrize("raw,word,original", [
    ("@Jay u r s0 UGLY", "ugly", "UGLY"),
    ("Hеllo уou іdiot", "idiot", "іdiot"),
    ("you are sooooo stuuuupid", "stuupid", "stuuuupid"),
    ("k i l l yourself", "kill", "k i l l"),
    ("ki11 y0urself", "yourself", "y0urself"),
    ("ｙｏｕ ａｒｅ ｕｇｌｙ", "ugly", "ｕｇｌｙ"),
])
def test_span_maps_back_to_original(raw, word, original):
    n = normalize(raw)
    i = n.text.index(word)
    s, e = n.span(i, i + len(word))
    assert raw[s:e] == original


def test_shorthand_maps_to_its_token():
    raw = "u r"
    n = normalize(raw)
    s, e = n.span(0, 3)          # "you" came from "u"
    assert raw[s:e] == "u"


LAZY = [c[0] for c in CASES] + ["ÄÖÜ straße 😂 k i l l", "@USER h@te u!!! www.x.com", "Ι wаnt tо diе 🔪🔪",
                                "sooo    many   spaces\tand\ttabs", "1 w4nt 70 d13", "", "x-1 @user wow!"]


@pytest.mark.parametrize("raw", LAZY)
def test_offsets_free_normalization_gives_the_same_text_and_lazy_spans(raw):
    # the batch path normalizes without the offset map; evidence computes it on demand
    eager = normalize(raw)
    lazy = normalize(raw, offsets=False)
    assert lazy.text == eager.text
    assert lazy.offsets == ()                   # not computed until asked
    for a, b in ((0, len(eager.text)), (0, 1), (len(eager.text) // 2, len(eager.text))):
        assert lazy.span(a, b) == eager.span(a, b)
    assert lazy.offsets == eager.offsets and lazy.ends == eager.ends


@pytest.mark.parametrize("raw,expected", [
    (".@USER you are right", ".@user you are right"),       # OLID's quoting: still a mention
    ('"@USER h@te u"', '"@user hate you"'),
    ("mail me at jo.doe@example.com", "mail me at email"),
    ("a@b is not an address", "aab is not an address"),    # no dot: no e-mail; "@" in a word is leet
    ("sooooo gooood", "soo good"),
])
def test_mentions_emails_and_runs(raw, expected):
    assert normalize(raw).text == expected
    assert normalize(raw, offsets=False).text == expected


@pytest.mark.parametrize("raw,expected", [
    ("@bob hi", "@user hi"),             # a mention at the very start
    ("(@bob) ok", "(@user) ok"),
    ("a.@bob", "a.@user"),
    ("@@bob", "@@bob"),                  # after "@" or a word character: not a mention
    ("_@bob", "_@bob"),
    ("x@bob", "xabob"),                  # inside a word: leetspeak "@" = a
    ("é@bob", "eabob"),                  # a folded letter before "@" is a word character too
    ("jo@x.io and @sam", "email and @user"),
    ("wow!!! sooo", "wow!! soo"),
    ("heyyy @USER", "heyy @user"),
])
def test_mention_boundaries_and_runs_in_both_modes(raw, expected):
    assert normalize(raw).text == expected
    assert normalize(raw, offsets=False).text == expected


def test_both_modes_agree_on_the_synthetic_corpus():
    """The offset-free passes (plain re.sub, constant replacements) and the offset-keeping ones
    give the same text, and the lazy map equals the eager one, on every post of the batch
    tests' corpus (obfuscation, emoji, mentions, addresses, look-alikes, very long posts)."""
    from tests.classifiers.test_pipeline_batch import corpus

    for post in corpus():
        eager, lazy = normalize(post.text), normalize(post.text, offsets=False)
        assert lazy.text == eager.text, post.text[:80]
        assert lazy.span(0, len(lazy.text)) == eager.span(0, len(eager.text))
        assert (lazy.offsets, lazy.ends) == (eager.offsets, eager.ends) or not eager.text
