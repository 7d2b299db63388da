"""LabelGuard: only bounded label values reach a scrape (table of cases)."""
import pytest

from agent.metrics.labels import OTHER, REDACTED, LabelGuard

GUARD = LabelGuard(guidelines=frozenset({"student.4", "student.preamble"}),
                   schools=frozenset({"sch-north", "SCH-South"}),
                   forbidden=frozenset({"stu-0042", "ada.lovelace", "ada@students.example.org"}))


@pytest.mark.parametrize("label,value,expected", [
    # closed sets
    ("verdict", "block", "block"),
    ("verdict", "Allow", "allow"),
    ("verdict", "maybe", OTHER),
    ("severity", "critical", "critical"),
    ("severity", "urgent", OTHER),
    ("source", "dhcp", "dhcp"),
    ("source", "radius", OTHER),
    # sets known from configuration
    ("platform", "instagram", "instagram"),
    ("platform", "instagram.com", OTHER),
    ("platform", "https://instagram.com/p/1", REDACTED),
    ("platform", "none", "none"),
    ("guideline", "student.4", "student.4"),
    ("guideline", "student.99", OTHER),
    ("school", "sch-north", "sch-north"),
    ("school", "SCH-South", "SCH-South"),
    ("school", "sch-nowhere", OTHER),
    ("school", "unassigned", "unassigned"),
    # personal data is never passed through, whatever the label
    ("cohort", "stu-0042", REDACTED),
    ("addon", "ADA.LOVELACE", REDACTED),
    ("channel", "ada@students.example.org", REDACTED),
    ("reason", "10.1.2.3", REDACTED),
    ("reason", "10.1.2.3:5555", REDACTED),
    ("kind", "fe80::1", REDACTED),
    ("kind", "aa:bb:cc:dd:ee:ff", REDACTED),
    ("reason", "/api/v1/comments", REDACTED),
    # open sets: short slugs only
    ("addon", "enforce", "enforce"),
    ("reason", "json decode error: Expecting value", OTHER),
    ("reason", "x" * 49, OTHER),
    ("kind", "doh", "doh"),
    ("kind", None, "none"),
    ("kind", "", "none"),
])
def test_clean(label, value, expected):
    assert GUARD.clean(label, value) == expected


def test_cardinality_cap_folds_new_values_into_other():
    guard = LabelGuard(max_values=3)
    assert [guard.clean("addon", f"a{i}") for i in range(5)] == ["a0", "a1", "a2", OTHER, OTHER]
    assert guard.clean("addon", "a1") == "a1"          # values already admitted stay
    assert guard.clean("kind", "k0") == "k0"           # the cap is per label name


def test_from_context_uses_policy_and_roster(tmp_path):
    from agent.context import AppContext
    from tests.support import write_test_roster
    roster = write_test_roster(tmp_path / "roster")
    guard = LabelGuard.from_context(AppContext(tmp_path / "home", roster=roster.directory))
    assert guard.clean("school", roster.school) == roster.school
    assert guard.clean("school", "sch-elsewhere") == OTHER
    for ref in (roster.young, "young.student", "young.student@students.example.org"):
        assert guard.clean("cohort", ref) == REDACTED
    assert guard.clean("guideline", "student.preamble") == "student.preamble"
    assert guard.clean("platform", "youtube_kids") == "youtube_kids"
