"""Impersonation and district voice (student guidelines 5, 11, 12, 13) against the test roster."""
from __future__ import annotations

import hashlib
import io
import random
import statistics
import time

import imagehash
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from classifiers.district import District, phash_distance
from classifiers.impersonation import ImpersonationDetector, find_impersonation, split_handle
from classifiers.pii import find_pii
from classifiers.types import Attachment, PostInput
from tests.classifiers.test_pii import big_roster, fixture_roster

THRESHOLD = 0.5     # the flag threshold these weights are designed for (see the module docstrings)


def evidence(post: PostInput, roster=None, **kw):
    return find_impersonation(post, roster=fixture_roster() if roster is None else roster, **kw)


def top(found) -> float:
    return max((e.weight for e in found), default=0.0)


# ------------------------------------------------------------------------------ (a) account names
ACCOUNT_POSITIVES = [
    # account being set, author, minimum weight
    ("Jayden Ortiz", "s-michael", 0.85),
    ("jayden_ortiz07", "s-michael", 0.85),
    ("JaydenOrtiz", "s-michael", 0.85),
    ("ortiz.jayden", "s-michael", 0.85),
    ("therealjaydenortiz", "s-michael", 0.85),
    ("jortiz27", "s-michael", 0.85),              # his exact username
    ("Jay Ortiz", "s-michael", 0.8),              # nickname
    ("mike.chen", "s-jayden", 0.8),               # nickname of Michael Chen
    ("Liz Barros", "s-jayden", 0.8),
    ("JOrtiz", "s-michael", 0.7),                 # initial + surname
    ("j.ortiz", "s-michael", 0.7),
    ("ortizj", "s-michael", 0.7),
    ("jaydn_ortiz", "s-michael", 0.6),            # fuzzy: a typo
    ("jaydenortis", "s-michael", 0.6),
    ("MsRivera", "s-jayden", 0.8),                # title + staff family name
    ("Principal Smith", "s-jayden", 0.8),
    ("Mr ONeil", "s-jayden", 0.8),
    ("Jose Nunez", "s-jayden", 0.85),             # accents dropped
    ("jayden.ortiz@gmail.com", "s-michael", 0.85),  # an e-mail address as the sign-up name
    ("will_may", "s-jayden", 0.85),               # a handle: lower case is normal there
    ("AnnaOkaforSmith", "s-jayden", 0.85),        # hyphenated family name
    ("A Okafor-Smith", "s-jayden", 0.7),
    ("Jayden Ortiz", None, 0.85),                 # unknown author: every match counts
]


@pytest.mark.parametrize("account,author,min_weight", ACCOUNT_POSITIVES)
@pytest.mark.parametrize("kind", ["signup", "profile"])
def test_account_name_of_another_person(account, author, min_weight, kind):
    found = evidence(PostInput("", author=author, kind=kind, account=account))
    names = [e for e in found if e.kind == "account_name"]
    assert names, found
    assert names[0].category == "impersonation" and names[0].text == account and names[0].start is None
    assert min_weight <= names[0].weight <= 1


def test_initials_alone_are_weak():
    found = evidence(PostInput("", author="s-michael", kind="profile", account="J.O."))
    assert [e.kind for e in found] == ["account_name"]
    assert top(found) < THRESHOLD


ACCOUNT_NEAR_MISSES = [
    ("Jayden Ortiz", "s-jayden"),                 # own name
    ("jayden_ortiz07", "s-jayden"),
    ("Jay Ortiz", "s-jayden"),                    # own nickname
    ("JOrtiz", "s-jayden"),                       # own initial + surname
    ("JOrtiz", "s-julia"),                        # Julia Ortiz: also her initial + surname
    ("Mike Chen", "s-michael"),
    ("jortiz27", "jortiz27"),                     # author given as username
    ("pizza lover", "s-jayden"),
    ("xXgamerXx", "s-jayden"),
    ("Jordan Ortega", "s-jayden"),                # not in the roster
    ("Ortiz", "s-michael"),                       # a family name alone
    ("Jayden", "s-michael"),                      # a first name alone
    ("sunset_photos", "s-jayden"),
    ("MsRivera", "t-rivera"),                     # the teacher herself
    ("Maria Rivera", "mrivera"),
]


@pytest.mark.parametrize("account,author", ACCOUNT_NEAR_MISSES)
def test_account_near_misses(account, author):
    found = evidence(PostInput("", author=author, kind="signup", account=account))
    assert top(found) < THRESHOLD, found


def test_account_ignored_on_ordinary_posts():
    # a post's "account" is who posted, not a name being set
    assert evidence(PostInput("nice", author="s-michael", kind="post", account="Jayden Ortiz")) == []


# ------------------------------------------------------------------------------ (b) claims
CLAIMS = [
    ("this is Ms. Rivera", "s-jayden", "Ms. Rivera", 0.7),
    ("Hi everyone, this is Ms Rivera. Homework is cancelled", "s-jayden", "Ms Rivera", 0.7),
    ("hi its principal Smith here", "s-jayden", "principal Smith", 0.8),
    ("it's Jayden, new account", "s-michael", "Jayden", 0.65),
    ("hey guys its jayden, my old account got hacked", "s-michael", "jayden", 0.65),
    ("I'm Jayden Ortiz and I love eating glue", "s-michael", "Jayden Ortiz", 0.8),
    ("Julia Ortiz here, follow me here now", "s-jayden", "Julia Ortiz", 0.9),
    ("see everyone tomorrow\n- Mrs. Rivera", "s-jayden", "Mrs. Rivera", 0.65),
    ("im mr oneil and class is cancelled", "s-jayden", "mr oneil", 0.8),
]


@pytest.mark.parametrize("text,author,span,min_weight", CLAIMS)
def test_claims_to_be_someone_else(text, author, span, min_weight):
    found = evidence(PostInput(text, author=author, kind="post"))
    claims = [e for e in found if e.kind == "claim"]
    assert claims, found
    assert claims[0].text == span and text[claims[0].start:claims[0].end] == span
    assert claims[0].weight >= min_weight


CLAIM_NEAR_MISSES = [
    ("this is Ms. Rivera's homework", "s-jayden"),     # possessive: about her
    ("Ms. Rivera's class was fun", "s-jayden"),
    ("I'm Jayden Ortiz lol", "s-jayden"),              # own name
    ("it's Jayden, new account", "s-jayden"),          # own first name
    ("it's Jay, new account", "s-jayden"),             # own nickname
    ("I'm Jayden's friend", "s-michael"),
    ("it's Jayden's turn", "s-michael"),
    ("it's jayden lol", "s-michael"),                  # first name without account words
    ("I'm Jordan Ortega", "s-jayden"),                 # not in the roster
    ("this is so boring", "s-jayden"),
    ("it's may already, new account soon", "s-jayden"),  # everyday word
    ("this is Jayden Ortiz, he is in my class", "s-michael"),  # introducing someone
    ("I told Ms. Rivera about it", "s-jayden"),
    ("Hi class, this is Ms. Rivera. Quiz moved to Friday", "t-rivera"),   # she is the author
    ("I think it's Jayden Ortiz who took it", "s-michael"),   # pointing at someone
    ("this Jayden Ortiz kid is annoying", "s-michael"),
    ('"be kind to each other" - Ms. Rivera', "s-jayden"),    # a quotation attributed to her
    ("I'm with principal Smith right now", "s-jayden"),
]


@pytest.mark.parametrize("text,author", CLAIM_NEAR_MISSES)
def test_claim_near_misses(text, author):
    found = evidence(PostInput(text, author=author, kind="post"))
    assert top(found) < THRESHOLD, found


# ------------------------------------------------------------------------------ (c) district voice
DISTRICT_ACCOUNTS = [
    ("Official ENSATSD Robotics", 0.85),
    ("Essex Tech Athletics official page", 0.85),
    ("ENSATSD Robotics", 0.75),
    ("ENSATSD Student Council", 0.75),
    ("essextech_studentcouncil", 0.75),
    ("essextech_admin", 0.75),
    ("NorthShoreTechHawks", 0.75),
    ("Essex North Shore Agricultural & Technical School", 0.5),
    ("Essex Tech", 0.5),
]


@pytest.mark.parametrize("account,min_weight", DISTRICT_ACCOUNTS)
def test_accounts_speaking_for_the_district(account, min_weight):
    found = evidence(PostInput("", author="s-jayden", kind="signup", account=account))
    dist = [e for e in found if e.kind == "district"]
    assert dist and dist[0].weight >= min_weight, found


@pytest.mark.parametrize("text,kind,min_weight", [
    ("account of the ENSATSD principal", "profile", 0.85),
    ("This is the official Essex Tech account, follow for updates", "post", 0.7),
    ("posting on behalf of Essex Tech athletics", "post", 0.7),
    ("Official page of North Shore Technical High School", "profile", 0.85),
    ("the official page for Essex Tech students", "profile", 0.85),
])
def test_text_speaking_for_the_district(text, kind, min_weight):
    found = evidence(PostInput(text, author="s-jayden", kind=kind))
    assert [e.kind for e in found] == ["district"]
    assert found[0].weight >= min_weight


@pytest.mark.parametrize("post", [
    PostInput("Go Essex Tech football!", author="s-jayden", kind="post"),
    PostInput("Essex Tech officially announced a snow day", author="s-jayden", kind="post"),
    PostInput("I go to ENSATSD and love it", author="s-jayden", kind="comment"),
    PostInput("", author="s-jayden", kind="signup", account="essextech_fan"),
    PostInput("", author="s-jayden", kind="signup", account="ENSATSD Robotics fan page"),
    PostInput("", author="s-jayden", kind="signup", account="essextech_student27"),
    PostInput("", author="s-jayden", kind="signup", account="Essex Tech memes (unofficial)"),
    PostInput("the official score was 3-1", author="s-jayden", kind="post"),
    PostInput("Essex Tech memes, not an official account", author="s-jayden", kind="profile"),
])
def test_district_near_misses(post):
    assert top(evidence(post)) < THRESHOLD


# ------------------------------------------------------------------------------ (d) logo
def _logo(shift: int = 0) -> Image.Image:
    im = Image.new("RGB", (256, 256), (20, 60, 140))
    d = ImageDraw.Draw(im)
    d.ellipse((30 + shift, 30, 226 + shift, 226), fill=(240, 200, 40))
    d.polygon([(128, 50), (200, 200), (56, 200)], fill=(20, 60, 140))
    d.rectangle((100, 120, 156, 180), fill=(255, 255, 255))
    return im


def _other(seed: int) -> Image.Image:
    rng = random.Random(seed)
    im = Image.new("RGB", (256, 256), (rng.randrange(256),) * 3)
    d = ImageDraw.Draw(im)
    for _ in range(12):
        x, y = rng.randrange(200), rng.randrange(200)
        d.rectangle((x, y, x + rng.randrange(20, 80), y + rng.randrange(20, 80)),
                    fill=tuple(rng.randrange(256) for _ in range(3)))
    return im


def _jpeg(im: Image.Image, quality: int = 30) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def _attachment(im: Image.Image) -> Attachment:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "PNG")
    data = buf.getvalue()
    return Attachment("image/png", len(data), hashlib.sha256(data).hexdigest(), str(imagehash.phash(im)), "avatar.png")


LOGO_HASH = str(imagehash.phash(_logo()))


@pytest.mark.parametrize("name,image", [
    ("same", _logo()),
    ("resized", _logo().resize((96, 96))),
    ("recompressed", _jpeg(_logo())),
    ("brighter", ImageEnhance.Brightness(_logo()).enhance(1.3)),
    ("blurred", _logo().filter(ImageFilter.GaussianBlur(2))),
    ("cropped", _logo().crop((10, 10, 246, 246))),
    ("greyscale", _logo().convert("L")),
    ("shifted", _logo(shift=12)),
])
def test_logo_near(name, image):
    att = _attachment(image)
    found = evidence(PostInput("", author="s-jayden", kind="profile", account="cool kid", attachments=(att,)),
                     logo_phash=LOGO_HASH)
    assert [e.kind for e in found] == ["logo"], (name, phash_distance(att.phash, LOGO_HASH))
    assert found[0].weight >= 0.75 and found[0].start is None


@pytest.mark.parametrize("seed", range(8))
def test_logo_far(seed):
    att = _attachment(_other(seed))
    found = evidence(PostInput("", author="s-jayden", kind="profile", attachments=(att,)), logo_phash=LOGO_HASH)
    assert found == [], phash_distance(att.phash, LOGO_HASH)


def test_logo_in_an_ordinary_post_weighs_less_and_comes_from_the_policy():
    att = _attachment(_logo())

    class PolicyLike:
        district_name = "Essex North Shore Agricultural and Technical School District"
        district_short = "ENSATSD"
        logo_phash = LOGO_HASH

    on_profile = evidence(PostInput("", kind="profile", attachments=(att,)), district=PolicyLike())
    in_post = evidence(PostInput("game day", kind="post", attachments=(att,)), district=PolicyLike())
    assert top(in_post) < top(on_profile)
    assert top(in_post) >= THRESHOLD
    assert evidence(PostInput("", kind="profile", attachments=(att,))) == []   # no logo configured


@pytest.mark.parametrize("a,b,d", [("ff00", "ff01", 1), ("0000", "ffff", 16), ("abc", "abcd", None), ("zz", "00", None)])
def test_phash_distance(a, b, d):
    assert phash_distance(a, b) == d


@pytest.mark.parametrize("handle,words", [
    ("jayden_ortiz07", ["jayden", "ortiz"]),
    ("JOrtiz", ["j", "ortiz"]),
    ("J.O.", ["j", "o"]),
    ("JAYDEN ORTIZ", ["jayden", "ortiz"]),
    ("xX_José.Núñez_Xx", ["x", "x", "jose", "nunez", "xx"]),
])
def test_split_handle(handle, words):
    assert split_handle(handle) == words


def test_works_without_roster():
    found = find_impersonation(PostInput("", kind="signup", account="Official ENSATSD Robotics"))
    assert [e.kind for e in found] == ["district"]
    assert find_impersonation(PostInput("I'm Jayden Ortiz", kind="post")) == []


def test_other_district():
    det = ImpersonationDetector(fixture_roster(), District("Springfield Public Schools", "SPS"))
    assert [e.kind for e in det.find(PostInput("", kind="signup", account="SPS Robotics official"))] == ["district"]
    assert det.find(PostInput("", kind="signup", account="ENSATSD Robotics")) == []


# ------------------------------------------------------------------------------ speed
TYPICAL_POSTS = [
    "lol that game was so good",
    "anyone know what the homework for chem is??",
    "omg Jayden Ortiz fell asleep in class again",
    "call me at 978-555-0123 after practice",
    "happy bday to my bestie!!! 🎉🎉",
    "this is Ms. Rivera's fault honestly",
    "go Essex Tech!!! #hawks",
    "i cant believe its already friday",
    "who's going to the party at 42 Maple Street",
    "ngl this song slaps",
    "it's Jayden, new account, follow me",
    "my birthday is March 4th and I'm turning 14",
]


def test_speed_against_a_2000_person_roster():
    roster = big_roster()
    assert len(roster) >= 2000
    posts = [PostInput(t, author="s-michael", kind="post") for t in TYPICAL_POSTS]
    # warm up: build the cached detectors once (not part of the per-post cost)
    for p in posts:
        find_pii(p.text, roster=roster, author=p.author)
        find_impersonation(p, roster=roster)
    samples = []
    for _ in range(30):
        for p in posts:
            t0 = time.perf_counter()
            find_pii(p.text, roster=roster, author=p.author)
            find_impersonation(p, roster=roster)
            samples.append(time.perf_counter() - t0)
    median_us = statistics.median(samples) * 1e6
    print(f"\nfind_pii + find_impersonation, 2,000-person roster: median {median_us:.1f} us/post")
    # target is well under 200 us; the bound is loose so a busy CI box (xdist) does not flake
    assert median_us < 600


def test_account_matching_speed_against_a_2000_person_roster():
    roster = big_roster()
    posts = [PostInput("", author="s-michael", kind="signup", account=a)
             for a in ("jayden_ortiz07", "xXgamerXx", "jaydn_ortiz", "Essex Tech Robotics", "sunset_photos")]
    for p in posts:
        find_impersonation(p, roster=roster)
    t0 = time.perf_counter()
    for _ in range(40):
        for p in posts:
            find_impersonation(p, roster=roster)
    per = (time.perf_counter() - t0) / (40 * len(posts)) * 1e6
    print(f"\nprofile/sign-up account matching, 2,000-person roster: {per:.0f} us/post")
    assert per < 5000
    # the big roster still resolves the fixture people
    assert top(find_impersonation(posts[0], roster=roster)) >= 0.85


@pytest.mark.parametrize("seed", range(6))
def test_random_garbage_never_raises(seed):
    rng = random.Random(seed)
    vocab = ["this is", "it's", "I'm", "Ms.", "Rivera", "'s", "Jayden", "Ortiz", "J.", "O.", "official", "ENSATSD",
             "Essex Tech", "Robotics", "new account", "here", "-", "_", "07", "😀", "é", "\n", "@", "xX", "principal",
             "Smith", "of", "the", "page", "fan", "\"", "—"]
    det = ImpersonationDetector(big_roster(), None, LOGO_HASH)
    for _ in range(40):
        words = [rng.choice(vocab) for _ in range(rng.randrange(0, 40))]
        text = " ".join(words)
        account = "".join(rng.choice(vocab) for _ in range(rng.randrange(0, 5)))
        phash = rng.choice([None, "", "zz", "0" * 16, LOGO_HASH, "f" * 15, "a" * 64])
        post = PostInput(text, author=rng.choice([None, "s-jayden", "nobody"]), kind=rng.choice(["post", "signup", None]),
                         account=account or None, attachments=(Attachment("image/png", 1, "0" * 64, phash),))
        for e in det.find(post):
            assert e.category == "impersonation" and 0 <= e.weight <= 1
            if e.start is not None:
                assert text[e.start:e.end] == e.text
