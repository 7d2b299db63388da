"""OneRoster 1.1 CSV roster: who the students and staff are, their schools, classes and ages.

Pure core: no mitmproxy imports. See docs/interfaces.md for the contract.
"""
from agent.roster.model import ClassInfo, Org, Person, RosterIssue
from agent.roster.roster import DEFAULT_TZ, Roster, age_on

__all__ = ["ClassInfo", "Org", "Person", "Roster", "RosterIssue", "DEFAULT_TZ", "age_on"]
