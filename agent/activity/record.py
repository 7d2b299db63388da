"""The activity record: the one definition of what a line of the activity log holds.

The proxy's activity addon fills one per logged request; the log writes its fields, in this
order, as one JSON object (plus `prev`, the chain hash the log adds). `RECORD_KEYS` is derived
from it, so the field list exists once.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    time: str                  # ISO 8601 in the district's time zone, milliseconds
    request_id: str
    user: str                  # roster sourcedId, or "unknown"
    device: str | None
    school: str | None         # the subject's first school (org sourcedId)
    cohort: str | None
    platform: str | None       # catalog platform id
    host: str
    method: str
    path: str                  # without the query string (privacy: queries carry search terms)
    verdict: str               # allow | block
    action: str                # the decision's action, or fail_block / fail_allow
    rule: str
    guideline: str

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in RECORD_KEYS}


RECORD_KEYS = tuple(f.name for f in dataclasses.fields(ActivityRecord))
