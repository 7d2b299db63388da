"""The PII and impersonation detectors share one NameIndex per roster (issue 8: one truth per
fact; a roster's names are indexed once per process, not once per detector)."""
from __future__ import annotations

from classifiers import impersonation, pii
from classifiers.nicknames import name_index_of
from tests.classifiers.test_pii import fixture_roster


def test_both_detectors_use_the_one_index_of_the_roster():
    roster = fixture_roster()
    p = pii.PiiDetector(roster)
    i = impersonation.ImpersonationDetector(roster)
    assert p.names is i.names is name_index_of(roster)
    assert p.names.people                     # and it is the roster's index, not an empty one


def test_another_roster_object_gets_its_own_index():
    roster = fixture_roster()
    class Empty:
        def people(self):
            return iter(())
    other = Empty()
    assert name_index_of(other) is not name_index_of(roster)
    assert not name_index_of(other).people
    assert not name_index_of(None).people
