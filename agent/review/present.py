"""Pure helpers between the store's records and what a page or the API shows."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from agent.store.lifecycle import SEVERITIES_DESC, HistoryEntry, IncidentFilter
from agent.store.incident import INCIDENT_STATUSES, Incident, iso

CATEGORIES = ("bullying", "threat", "self_harm", "pii", "impersonation")
FILTER_KEYS = ("school", "status", "severity", "category", "platform", "since", "until")


class BadFilter(ValueError):
    """A query parameter that cannot be understood (answered 400, naming the parameter)."""


def parse_when(value: str, name: str, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """ISO 8601 instant (naive = UTC) or a bare date (local midnight of that day in the district;
    for `until`, the next midnight so the day is included)."""
    value = value.strip()
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            if end_of_day:
                d = d + timedelta(days=1)
            return datetime.combine(d, time(0), tz).astimezone(timezone.utc)
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadFilter(f"{name}: expected an ISO 8601 date or time, got {value[:40]!r}") from exc
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def parse_filter(args: Mapping[str, str], base: IncidentFilter, tz: ZoneInfo) -> IncidentFilter:
    """The user's filters (query parameters) on top of the role's scope `base`."""
    def one(name: str) -> str | None:
        v = args.get(name)
        v = v.strip() if isinstance(v, str) else None
        if v and len(v) > 200:
            raise BadFilter(f"{name}: too long")
        return v or None

    status, severity, category = one("status"), one("severity"), one("category")
    if status and status not in INCIDENT_STATUSES:
        raise BadFilter(f"status: expected one of {', '.join(INCIDENT_STATUSES)}")
    if severity and severity not in SEVERITIES_DESC:
        raise BadFilter(f"severity: expected one of {', '.join(SEVERITIES_DESC)}")
    if category and category not in CATEGORIES:
        raise BadFilter(f"category: expected one of {', '.join(CATEGORIES)}")
    since, until = one("since"), one("until")
    return IncidentFilter(
        schools=base.schools, kinds=base.kinds, exclude_kinds=base.exclude_kinds,
        school=one("school"), status=status, severity=severity, category=category,
        platform=one("platform"),
        since=parse_when(since, "since", tz) if since else None,
        until=parse_when(until, "until", tz, end_of_day=True) if until else None)


def parse_limit(value: str | None, default: int = 50, maximum: int = 500) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError as exc:
        raise BadFilter(f"limit: expected a whole number 1-{maximum}") from exc
    if not 1 <= n <= maximum:
        raise BadFilter(f"limit: expected a whole number 1-{maximum}")
    return n


def list_item(inc: Incident) -> dict:
    """An incident in a list (DESIGN.md): the `incidents list` fields plus school and assignee;
    never the text."""
    out = inc.to_json(with_text=False)
    out["school"] = inc.school
    out["assignee"] = inc.assignee
    return out


def detail_item(inc: Incident, history: Iterable[HistoryEntry], *, with_text: bool) -> dict:
    """GET /api/incidents/{id}. Without text (the `it` role) the text is null and evidence keeps
    only what kind of thing was found where, not the words."""
    out = list_item(inc)
    out["text"] = inc.text if with_text else None
    out["scores"] = dict(inc.scores)
    if with_text:
        out["evidence"] = [dict(e) for e in inc.evidence]
    else:
        out["evidence"] = [{k: v for k, v in e.items() if k not in ("text",)} for e in inc.evidence]
    out["device"] = inc.device
    out["identified_by"] = inc.identified_by
    out["history"] = [h.to_json() for h in history]
    return out


def highlight(text: str, evidence: Iterable[Mapping]) -> list[tuple[str, str | None]]:
    """Split `text` into (piece, category-or-None) so evidence spans can be marked. Spans out of
    range or empty are ignored; overlapping spans are merged under the first span's category."""
    spans = []
    for e in evidence:
        s, t = e.get("start"), e.get("end")
        if isinstance(s, int) and isinstance(t, int) and 0 <= s < t <= len(text):
            spans.append((s, t, str(e.get("category") or "")))
    spans.sort()
    merged: list[list] = []
    for s, t, cat in spans:
        if merged and s < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], t)
        else:
            merged.append([s, t, cat])
    out: list[tuple[str, str | None]] = []
    pos = 0
    for s, t, cat in merged:
        if s > pos:
            out.append((text[pos:s], None))
        out.append((text[s:t], cat or "evidence"))
        pos = t
    if pos < len(text) or not out:
        out.append((text[pos:], None))
    return out


IDENTIFIED_BY_WORDS = {
    "auth": "student identified by their proxy sign-in",
    "device": "student identified by the device registry (the device's address)",
    "dhcp": "student identified by the network sensor's DHCP map and the device registry",
    "unknown": "student not identified (the device is not registered and nobody signed in)",
}


def identified_by_words(source: str) -> str:
    """How a student was known, said for a counselor (the Identity.source values)."""
    return IDENTIFIED_BY_WORDS.get(source, f"student identified by {source}")


def waited(since: datetime, now: datetime) -> str:
    """'4 min', '2 h 5 min', '3 d 1 h': how long something has waited."""
    secs = max(0, int((now - since).total_seconds()))
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    mins = rem // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min" if mins else f"{secs} s"


def csv_cell(value) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): text starting with
    = + - @ or a tab/CR is prefixed with an apostrophe."""
    s = "" if value is None else str(value)
    if s and s[0] in "=+-@\t\r":
        return "'" + s
    return s


EXPORT_COLUMNS = ("id", "created", "school", "user", "platform", "kind", "labels", "severity",
                  "guidelines", "status", "assignee")


def export_csv(incidents: Iterable[Incident]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(EXPORT_COLUMNS)
    for inc in incidents:
        item = list_item(inc)
        w.writerow([csv_cell(";".join(item[c]) if isinstance(item[c], list) else item[c])
                    for c in EXPORT_COLUMNS])
    return buf.getvalue()


def label_rows(incidents: Iterable[Incident], categories: Iterable[str] = CATEGORIES) -> list[tuple[str, str, int]]:
    """`crossingguard export-labels`: (text, category, label) per incident and category it was
    flagged for: closed -> 1 (a counselor confirmed it), dismissed -> 0 (a false positive).
    Other statuses are undecided and left out; so are incidents with no text or no category."""
    cats = set(categories)
    out = []
    for inc in incidents:
        if inc.status not in ("closed", "dismissed") or not inc.text.strip():
            continue
        for label in inc.labels:
            if label in cats:
                out.append((inc.text, label, 1 if inc.status == "closed" else 0))
    return out


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["BadFilter", "parse_filter", "parse_limit", "list_item", "detail_item", "highlight", "waited",
           "csv_cell", "export_csv", "label_rows", "iso", "FILTER_KEYS"]
