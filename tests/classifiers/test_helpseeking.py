import pytest

from classifiers.helpseeking import is_help_seeking, is_help_seeking_batch
from classifiers.normalize import normalize_text

HELP = [
    "how do I talk to a counselor",
    "call 988",
    "is there a hotline I can call",
    "I need help",
    "my friend said she wants to hurt herself, who do I tell",
    "i want to kill myself and i need help",
    "how can i get help for depression",
    "text HOME to 741741",
    "you can always talk to me",
    "I talked to my counselor today",
    "where can I find a therapist",
    "please help me",
    "are you ok? i am here for you",
    "h0w d0 i t4lk t0 a c0uns3l0r",          # obfuscated still counts
    # round three: not knowing whom to turn to, asking whether or how to report
    "they keep saying nobody likes me. i dont know who to talk to",
    "a kid wrote that he'll jump me friday, can i report that",
    "how do i report this account, it keeps posting about me",
]
NOT_HELP = [
    "you are so ugly",
    "I will shoot up the school",
    "i want to die",
    "help yourself to the snacks you loser",
    "nobody can help you, you freak",
    "kys",
    "help me with homework",
    "call me later",
    "i will report you lol, loser",
    "you should report to the office, nobody wants you here",
]


@pytest.mark.parametrize("text", HELP)
def test_help_seeking(text):
    assert is_help_seeking(text)


@pytest.mark.parametrize("text", NOT_HELP)
def test_not_help_seeking(text):
    assert not is_help_seeking(text)


@pytest.mark.parametrize("text, expected", [
    ("ur not annoying ok dont listen to them ❤️", True),
    ("dont let them get to u jess ur literally so pretty", True),
    ("everyone commenting clowns on his post, leave him alone", True),
    ("ur not ugly ur just ugly inside lol", False),           # the insult itself
    ("leave us alone loser", False),
    ("you're not funny", False),
    # round six: a bystander telling the others to stop
    ("u guys dont be mean to jordan he already gets enough of it, its not funny", True),
    ("stop picking on maya, shes new here", True),
    ("yall quit laughing at him fr", True),
    ("dont be mean to kayla lol shes already ugly enough", False),    # goes on to insult her
    ("stop being mean to me", False),                                 # the target's own post, not a bystander's
    ("if you stand there laughing while someone gets picked on you're part of it. check on caleb", True),
    ("go check on the crybaby lol", False),
])
def test_standing_by_a_target_is_help(text, expected):
    assert is_help_seeking(text) is expected
    assert is_help_seeking_batch([text], [normalize_text(text)]) == [expected]
