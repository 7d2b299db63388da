"""Who may see and do what in the review app (DESIGN.md roles). Pure functions over an
`Account` and an `Incident`, tested with a table in tests/review/test_access.py.

- counselor: incidents of the schools on the account, except bypass/system incidents (those are
  network matters for `it`); may read the text and act.
- admin: every incident, with text; may act; the audit trail.
- auditor: the audit trail only; no incident, no post text.
- it: bypass and system incidents of every school; never the post text; may act on them.

An incident outside the account's scope is reported exactly like one that does not exist (404),
so ids cannot be probed; the app writes the attempt to the audit trail.
"""
from __future__ import annotations

from agent.store.lifecycle import IT_KINDS, Account, IncidentFilter
from agent.store.incident import Incident

INCIDENT_ROLES = ("counselor", "admin", "it")
AUDIT_ROLES = ("auditor", "admin")


def may_list_incidents(account: Account) -> bool:
    return account.role in INCIDENT_ROLES


def may_read_audit(account: Account) -> bool:
    return account.role in AUDIT_ROLES


def may_see_text(account: Account) -> bool:
    return account.role in ("counselor", "admin")


def scope(account: Account) -> IncidentFilter:
    """The part of every incident query the role imposes (the user's own filters go on top)."""
    if account.role == "admin":
        return IncidentFilter()
    if account.role == "counselor":
        return IncidentFilter(schools=tuple(account.schools), exclude_kinds=IT_KINDS)
    if account.role == "it":
        return IncidentFilter(kinds=IT_KINDS)
    return IncidentFilter(schools=())    # auditor (or an unknown role): nothing


def can_see(account: Account, incident: Incident) -> bool:
    if account.disabled:
        return False
    if account.role == "admin":
        return True
    if account.role == "counselor":
        return incident.school in account.schools and incident.kind not in IT_KINDS
    if account.role == "it":
        return incident.kind in IT_KINDS
    return False


def can_be_assigned(assignee: Account, incident: Incident) -> bool:
    """Only someone who may see and act on the incident can be handed it."""
    return assignee.role in INCIDENT_ROLES and can_see(assignee, incident)
