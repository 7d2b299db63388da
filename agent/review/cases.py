"""What the pages and the API both do with incidents: scoped listing, audited reads, actions.

One place decides visibility (agent/review/access.py) and writes the audit trail, so the HTML
pages and the JSON API cannot drift apart.
"""
from __future__ import annotations

from typing import Mapping

from agent.review import access
from agent.review.present import parse_filter, parse_limit
from agent.store.lifecycle import ActionRefused, HistoryEntry, IncidentFilter, NotFound
from agent.store.incident import Incident


def visible(review, account, incident_id: str, *, purpose: str) -> Incident | None:
    """The incident if this account may see it. An incident outside its scope is reported as
    missing (None) and the attempt is audited: ids cannot be probed, and probing is seen."""
    if not access.may_list_incidents(account) or len(incident_id) > 100:
        inc = None
    else:
        inc = review.store.incident(incident_id)
    if inc is None:
        return None
    if not access.can_see(account, inc):
        review.audit("incident.denied", incident_id, {"purpose": purpose, "role": account.role})
        return None
    return inc


def read(review, account, incident_id: str) -> tuple[Incident, list[HistoryEntry]] | None:
    """An incident with its history, the read written to the audit trail first (fail closed:
    if it cannot be recorded, the store raises and nothing is shown)."""
    inc = visible(review, account, incident_id, purpose="read")
    if inc is None:
        return None
    review.audit("incident.view", incident_id, {"text": access.may_see_text(account)})
    return inc, review.store.history(incident_id)


def page(review, account, args: Mapping[str, str], *, limit_default: int = 50):
    """(incidents, next cursor, the filter used) for the queue or /api/incidents. BadFilter on
    bad parameters; ValueError on a bad cursor."""
    f = parse_filter(args, access.scope(account), review.deps.policy.timezone)
    limit = parse_limit(args.get("limit"), default=limit_default)
    cursor = args.get("cursor") or None
    items, nxt = review.store.incident_page(f, limit=limit, cursor=cursor)
    return items, nxt, f


def act(review, account, incident_id: str, action: str, *, assignee: str | None = None,
        note: str | None = None) -> Incident:
    """Apply an action for this account: NotFound (also outside its scope), ActionRefused."""
    inc = visible(review, account, incident_id, purpose=f"action:{action}")
    if inc is None:
        raise NotFound(incident_id)
    if action == "assign":
        target = review.store.account(assignee) if isinstance(assignee, str) and assignee else None
        if target is None or target.disabled or not access.can_be_assigned(target, inc):
            raise ActionRefused("assignee: no active account that can handle this incident has that name")
    return review.store.apply_action(incident_id, action, account.username, assignee=assignee, note=note)


def assignable(review, inc: Incident) -> list[str]:
    return [a.username for a in review.store.accounts() if not a.disabled and access.can_be_assigned(a, inc)]


def export_rows(review, account, f: IncidentFilter, maximum: int = 100_000) -> list[Incident]:
    """Every incident matching the filter (walked page by page), for the CSV export."""
    out: list[Incident] = []
    cursor = None
    while len(out) < maximum:
        items, cursor = review.store.incident_page(f, limit=500, cursor=cursor)
        out += items
        if cursor is None:
            break
    return out[:maximum]
