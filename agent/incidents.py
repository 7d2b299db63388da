"""From a judged post to an incident: severity, the clauses it concerns, hold or flag.

Pure functions; the posts addon calls them and the store writes the result.

Severity follows who must act and how fast: threats and self-harm are critical because every
district employee is a mandated reporter (student guideline 6); bullying is high (student
guideline 9, and Massachusetts law); impersonation and personal information are medium
(student guidelines 4 and 5) because they are about privacy and honesty rather than danger.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from classifiers.types import Classification, Evidence

SEVERITY_BY_CATEGORY = {
    "threat": "critical",
    "self_harm": "critical",
    "bullying": "high",
    "impersonation": "medium",
    "pii": "medium",
}
SEVERITY_ORDER = ("low", "medium", "high", "critical")

# Clause ids (see the policy file's `guidelines:` section for our summaries).
GUIDELINES_BY_CATEGORY = {
    "bullying": ("student.9",),
    "threat": ("student.6", "student.8"),
    "self_harm": ("student.6",),
    "pii": ("student.4",),
    "impersonation": ("student.5",),
}
# Impersonation evidence that is about the district's own voice or marks.
GUIDELINES_BY_EVIDENCE_KIND = {
    "district": ("student.11", "student.13"),
    "logo": ("student.12",),
}


def severity_of(labels: Iterable[str]) -> str:
    ranks = [SEVERITY_ORDER.index(SEVERITY_BY_CATEGORY[label]) for label in labels if label in SEVERITY_BY_CATEGORY]
    return SEVERITY_ORDER[max(ranks)] if ranks else "low"


def guidelines_of(labels: Iterable[str], evidence: Iterable[Evidence] = ()) -> list[str]:
    labels = list(labels)
    found: list[str] = []
    for label in labels:
        for clause in GUIDELINES_BY_CATEGORY.get(label, ()):
            if clause not in found:
                found.append(clause)
    for ev in evidence:
        if ev.category in labels:
            for clause in GUIDELINES_BY_EVIDENCE_KIND.get(ev.kind, ()):
                if clause not in found:
                    found.append(clause)
    return found


def incident_labels(c: Classification, help_seeking_policy: str = "checkin") -> list[str]:
    """The labels that make an incident.

    A student asking for help is never routed as misconduct: the pipeline already drops
    bullying/threat labels for help-seeking posts. What remains (a self-harm disclosure that
    asks for help) becomes a supportive check-in unless the policy says `ignore`.
    """
    labels = list(c.labels)
    if c.help_seeking and help_seeking_policy == "ignore":
        labels = [label for label in labels if label not in ("bullying", "threat", "self_harm")]
    return labels


def held_categories(labels: Iterable[str], actions: Mapping[str, str]) -> list[str]:
    """Categories whose policy action is `hold`: the post is not sent and the student is told why."""
    return [label for label in labels if actions.get(label, "flag") == "hold"]
