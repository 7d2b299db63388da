"""From a judged post to an incident: severity, the clauses it concerns, hold or flag.

Pure: `judge()` is a function of the classification, the post, who wrote it, the policy decision
that let the write through and the policy; it returns an `Outcome` (what to write, what to hold)
and touches nothing. The posts addon (proxy_addons/posts.py) awaits the classifier pool, calls
`judge()` per post, hands `Outcome.incident` to the store in a worker thread, and sets the
response from `hold_decision()` when a post is held.

What comes from the policy file (`incidents:`, agent/policy/loader.py): per category, flag or
hold and the guideline clauses an incident of that category concerns; the clauses that evidence
kinds add (an account speaking for the district, the district logo); and what a help-seeking post
becomes (`help_seeking: checkin | ignore`). What is fixed here is severity, because it follows who
must act and how fast, not district preference: threats and self-harm are critical because every
district employee is a mandated reporter (student guideline 6); bullying is high (student
guideline 9, and Massachusetts law); impersonation and personal information are medium (student
guidelines 4 and 5) because they are about privacy and honesty rather than danger.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.policy.model import STAFF_ROLES
from agent.pages import held_reason
from agent.store.incident import Incident

if TYPE_CHECKING:   # records only; the classifiers are a library below the core (pyproject.toml)
    from agent.policy import Decision, Policy, Subject
    from classifiers.types import Classification, Evidence, Post

SEVERITY_BY_CATEGORY = {
    "threat": "critical",
    "self_harm": "critical",
    "bullying": "high",
    "impersonation": "medium",
    "pii": "medium",
}
SEVERITY_ORDER = ("low", "medium", "high", "critical")
# Categories a help-seeking post is not routed as when the policy says `help_seeking: ignore`.
HELP_SEEKING_IGNORED = ("bullying", "threat", "self_harm")
@dataclass(frozen=True)
class Outcome:
    """What one judged post comes to. `labels` empty: nothing to write, nothing to hold."""
    labels: tuple[str, ...] = ()
    severity: str = "low"
    guidelines: tuple[str, ...] = ()      # every clause the incident concerns
    held: tuple[str, ...] = ()            # categories whose policy action is `hold`
    held_guidelines: tuple[str, ...] = ()  # the clauses of the held categories (the page cites these)
    incident: Incident | None = None      # the record to write


def severity_of(labels: Iterable[str]) -> str:
    ranks = [SEVERITY_ORDER.index(SEVERITY_BY_CATEGORY[label]) for label in labels if label in SEVERITY_BY_CATEGORY]
    return SEVERITY_ORDER[max(ranks)] if ranks else "low"


def guidelines_of(labels: Iterable[str], policy: Policy, evidence: Iterable[Evidence] = ()) -> list[str]:
    """The policy's clauses for these categories, then those the evidence kinds add, no repeats."""
    labels = list(labels)
    found: list[str] = []
    for label in labels:
        for clause in policy.incident_guidelines.get(label, ()):
            if clause not in found:
                found.append(clause)
    for ev in evidence:
        if ev.category in labels:
            for clause in policy.evidence_guidelines.get(ev.kind, ()):
                if clause not in found:
                    found.append(clause)
    return found


def incident_labels(c: Classification, help_seeking: str = "checkin") -> list[str]:
    """The labels that make an incident.

    A student asking for help is never routed as misconduct: the pipeline already drops
    bullying/threat labels for help-seeking posts. What remains (a self-harm disclosure that
    asks for help, or a plain first-person threat) becomes a supportive check-in, unless the
    policy says `help_seeking: ignore`: then a help-seeking post opens no incident for those
    categories (personal information and impersonation still do).
    """
    labels = list(c.labels)
    if c.help_seeking and help_seeking == "ignore":
        labels = [label for label in labels if label not in HELP_SEEKING_IGNORED]
    return labels


def held_categories(labels: Iterable[str], actions: dict[str, str]) -> list[str]:
    """Categories whose policy action is `hold`: the post is not sent and the student is told why."""
    return [label for label in labels if actions.get(label, "flag") == "hold"]


def incident_text(post: Post) -> str:
    """What the incident keeps of the post: its text, and the account name it set, if any."""
    if post.account and post.account not in post.text:
        return f"[{post.account}] {post.text}".strip()
    return post.text


def judge(classification: Classification, post: Post, subject: Subject | None, decision: Decision,
          policy: Policy, *, request_id: str | None = None, device: str | None = None,
          identified_by: str | None = None) -> Outcome:
    """One judged post -> its Outcome. The hold is decided from the labels alone, before anything
    is written, so a failing store can never turn a held post into a published one."""
    labels = incident_labels(classification, policy.help_seeking)
    if not labels:
        return Outcome()
    guidelines = guidelines_of(labels, policy, classification.evidence)
    held = held_categories(labels, policy.incidents)
    severity = severity_of(labels)
    schools = getattr(subject, "schools", None)
    incident = Incident.new(
        user=getattr(subject, "user_id", None) or "unknown", platform=decision.platform, kind=post.kind,
        text=incident_text(post), labels=tuple(labels),
        scores={k: round(float(s), 4) for k, s in classification.scores.items()},
        evidence=tuple(e.to_json() for e in classification.evidence), severity=severity,
        guidelines=tuple(guidelines), request_id=request_id, school=schools[0] if schools else None,
        device=device, identified_by=identified_by)
    return Outcome(labels=tuple(labels), severity=severity, guidelines=tuple(guidelines), held=tuple(held),
                   held_guidelines=tuple(guidelines_of(held, policy)), incident=incident)


def hold_decision(decision: Decision, outcomes: Sequence[Outcome]) -> Decision | None:
    """The block Decision for a request whose posts include a held one (None: nothing held).

    It reuses the block page (reason in plain words, agent/pages.py); the clause it cites is the first clause of
    the first held category (a held threat cites the mandated-reporter clause, not bullying's).
    """
    held: list[str] = []
    clauses: list[str] = []
    for outcome in outcomes:
        held += [c for c in outcome.held if c not in held]
        clauses += [g for g in outcome.held_guidelines if g not in clauses]
    if not held:
        return None
    return dataclasses.replace(
        decision, verdict="block", action="hold", rule=f"incident-hold:{'+'.join(held)}",
        guideline=clauses[0] if clauses else decision.guideline,
        reason=held_reason(tuple(held)))


UNREADABLE_RULE = "unreadable-post"
MEDIA_TYPES = ("image/", "video/", "audio/", "application/octet-stream", "multipart/")


def unreadable_hold(decision: Decision, role: str, mime: str, error: str | None, skipped: str | None) -> Decision | None:
    """FAIL CLOSED for posts that cannot be read (issue 11), written down here where it is decided:
    a write to a platform whose text the extractors could not read (malformed or truncated JSON, an
    unknown Content-Encoding, a compression bomb, multipart without its closing boundary or with too
    many parts, a text body that cannot be brought within the extraction limit) is held for students
    and unknown devices,
    because an unreadable post is exactly what a student hiding a threat would send. Staff pass.
    Media uploads (image/video/audio/octet-stream, multipart) over the limit pass as before: they
    carry no text to read, and holding every large photo would stop legitimate uploads. A JSON or
    form post merely padded past the limit never arrives here as too_large: it is compacted field by
    field and read (classifiers/extract/scan.py), so it is judged by its text. Returns the
    hold Decision, or None to let the write through."""
    if role in STAFF_ROLES:
        return None
    if skipped == "too_large" and mime.startswith(MEDIA_TYPES):
        return None
    if error is None and skipped != "too_large":
        return None
    return dataclasses.replace(
        decision, verdict="block", action="hold", rule=UNREADABLE_RULE,
        reason="This post was not sent because the school's filter could not read it "
               "(it was too large, compressed or damaged). Send it as ordinary text.")
