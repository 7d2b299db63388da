"""Records the store keeps: incidents (issue 3 writes them, issue 5 reviews them).

Teacher sessions are `agent.policy.sessions.TeacherSession`: the policy engine owns that
record, the store only persists it.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

INCIDENT_STATUSES = ("open", "reviewing", "closed", "dismissed", "escalated")


def new_id(prefix: str) -> str:
    """Short random ids: unguessable enough for a URL in the review app, short enough to type."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def utc(at: datetime) -> datetime:
    """Every timestamp in the store is aware UTC; a naive datetime is taken as UTC."""
    if at.tzinfo is None:
        return at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc)


def iso(at: datetime | None) -> str | None:
    """Fixed-width UTC ISO 8601, so that string order is time order in SQL comparisons."""
    if at is None:
        return None
    return utc(at).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return utc(datetime.fromisoformat(text))


def _plain(value: Any) -> Any:
    """Evidence and similar records arrive as dataclasses; keep them as JSON-ready dicts."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


@dataclass(frozen=True)
class Incident:
    """One post the classifiers flagged. `text` is the only place post text is kept (privacy:
    post text is stored for incidents and nowhere else)."""
    id: str
    created: datetime
    user: str                      # roster sourcedId, or "unknown"
    platform: str | None
    kind: str                      # post | comment | reply | message | profile | signup
    text: str
    labels: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[dict, ...] = ()
    severity: str = "low"
    guidelines: tuple[str, ...] = ()
    status: str = "open"
    request_id: str | None = None
    school: str | None = None
    assignee: str | None = None    # review app account the incident is assigned to (issue 9)
    # Which device the post came from (registry device id, else the client address) and how the
    # student was identified (auth | device | dhcp | unknown): a counselor weighs an incident from
    # a shared cart iPad known only by its address differently from one behind a proxy login.
    device: str | None = None
    identified_by: str | None = None

    @classmethod
    def new(cls, *, user: str, platform: str | None, kind: str, text: str,
            created: datetime | None = None, **kw) -> "Incident":
        """A fresh incident with a new id (created defaults to now, UTC)."""
        return cls(id=new_id("inc"), created=utc(created or datetime.now(timezone.utc)),
                   user=user, platform=platform, kind=kind, text=text, **kw)

    def __post_init__(self) -> None:
        # Normalise once so the store, the spool and the CLI all see the same shapes.
        object.__setattr__(self, "created", utc(self.created))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "guidelines", tuple(self.guidelines))
        object.__setattr__(self, "evidence", tuple(_plain(e) for e in self.evidence))
        object.__setattr__(self, "scores", {str(k): float(v) for k, v in dict(self.scores).items()})

    def to_json(self, with_text: bool = False) -> dict:
        """The `crossingguard incidents list` contract (DESIGN.md): exactly these keys, and the
        post text only when asked for (--with-text)."""
        out = {
            "id": self.id,
            "created": iso(self.created),
            "user": self.user,
            "platform": self.platform,
            "kind": self.kind,
            "labels": list(self.labels),
            "severity": self.severity,
            "guidelines": list(self.guidelines),
            "status": self.status,
        }
        if with_text:
            out["text"] = self.text
        return out

    def to_record(self) -> dict:
        """Everything, JSON-ready: the spool's line format and the database row's source."""
        return {
            "id": self.id, "created": iso(self.created), "user": self.user, "platform": self.platform,
            "kind": self.kind, "text": self.text, "labels": list(self.labels), "scores": self.scores,
            "evidence": list(self.evidence), "severity": self.severity,
            "guidelines": list(self.guidelines), "status": self.status,
            "request_id": self.request_id, "school": self.school,
            "device": self.device, "identified_by": self.identified_by,
        }

    @classmethod
    def from_record(cls, rec: dict) -> "Incident":
        return cls(
            id=rec["id"], created=parse_iso(rec["created"]), user=rec["user"],
            platform=rec.get("platform"), kind=rec["kind"], text=rec.get("text", ""),
            labels=tuple(rec.get("labels") or ()), scores=dict(rec.get("scores") or {}),
            evidence=tuple(rec.get("evidence") or ()), severity=rec.get("severity", "low"),
            guidelines=tuple(rec.get("guidelines") or ()), status=rec.get("status", "open"),
            request_id=rec.get("request_id"), school=rec.get("school"),
            assignee=rec.get("assignee"), device=rec.get("device"), identified_by=rec.get("identified_by"),
        )


# The incidents table: its columns in the order every INSERT and SELECT uses, with the record
# key each holds. One list, so a new column is added here once (not in each query).
ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"), ("created", "created"), ("user_id", "user"), ("platform", "platform"), ("kind", "kind"),
    ("text", "text"), ("labels", "labels"), ("scores", "scores"), ("evidence", "evidence"),
    ("severity", "severity"), ("guidelines", "guidelines"), ("status", "status"),
    ("request_id", "request_id"), ("school", "school"), ("device", "device"), ("identified_by", "identified_by"),
)
_JSON_KEYS = frozenset({"labels", "scores", "evidence", "guidelines"})
COLUMN_LIST = ", ".join(col for col, _ in ROW_COLUMNS)


def to_row(incident: Incident) -> tuple:
    """The incident's values in ROW_COLUMNS order (JSON columns as text)."""
    import json
    rec = incident.to_record()
    return tuple(json.dumps(rec[key], ensure_ascii=False) if key in _JSON_KEYS else rec[key]
                 for _, key in ROW_COLUMNS)


def from_row(row, **extra) -> Incident:
    """An Incident from a row selected as COLUMN_LIST (plus `extra` record keys, e.g. assignee)."""
    import json
    rec = {key: (json.loads(value) if key in _JSON_KEYS else value) for (_, key), value in zip(ROW_COLUMNS, row)}
    return Incident.from_record({**rec, **extra})
