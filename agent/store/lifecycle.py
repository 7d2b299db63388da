"""The incident lifecycle and the review app's accounts (issue 9), as a mixin of `Store`.

Kept out of store.py so the review work and the PostgreSQL/alerts work change different files.
Everything here goes through the same seams as the rest of the store: `self._read`,
`self._write` (one write transaction), `self._append_audit` (the hash chain) and the dialect's
placeholders and `lock_suffix`, so it runs unchanged on SQLite and PostgreSQL.

Availability: lifecycle actions are NOT spooled. A counselor closing an incident must see at
once whether it happened; a spooled close that lands minutes later would let two counselors
act on a stale state. When the database is down, actions raise `StoreUnavailable` (the app
answers 503) and nothing is half-done (history, status and audit commit together).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from agent.store import audit as auditchain
from agent.store.dialect import Unavailable
from agent.store.incident import COLUMN_LIST, INCIDENT_STATUSES, Incident, from_row, iso, new_id, parse_iso, utc

# Queue order: the most severe first (critical before high ...), newest first within one.
SEVERITIES_DESC = ("critical", "high", "medium", "low")
ACTIONS = ("assign", "note", "escalate", "close", "dismiss", "reopen")
ROLES = ("counselor", "admin", "auditor", "it")
# Incidents the `it` role handles: traffic that went around the proxy, and the system's own.
IT_KINDS = ("bypass", "system")
# Where each action may start from, and where it leads (None: the status does not change,
# except that a first touch of an `open` incident acknowledges it as `reviewing`).
_OPEN_STATES = ("open", "reviewing", "escalated")
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "assign": (_OPEN_STATES, None),
    "note": (INCIDENT_STATUSES, None),
    "escalate": (("open", "reviewing"), "escalated"),
    "close": (_OPEN_STATES, "closed"),
    "dismiss": (_OPEN_STATES, "dismissed"),
    # A human reopened it, so it is being looked at: reviewing, not back in the unacknowledged pile.
    "reopen": (("closed", "dismissed"), "reviewing"),
}

_COLS = COLUMN_LIST + ", assignee"


class ActionRefused(ValueError):
    """The action does not apply to the incident as it stands (e.g. closing a closed one)."""


class NotFound(LookupError):
    """No such incident (or account)."""


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    schools: tuple[str, ...]
    password_hash: str | None
    disabled: bool
    created: datetime

    def to_json(self) -> dict:
        return {"username": self.username, "role": self.role, "schools": list(self.schools),
                "disabled": self.disabled, "created": iso(self.created),
                "password": self.password_hash is not None}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    detail: dict

    def to_json(self) -> dict:
        return {"at": iso(self.at), "actor": self.actor, "action": self.action, "detail": self.detail}


@dataclass(frozen=True)
class IncidentFilter:
    """What a queue page or an export narrows to. `schools`/`kinds` None: no restriction (the
    caller's role decides these; the user's own filters are the single-valued fields)."""
    schools: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    exclude_kinds: tuple[str, ...] = ()
    school: str | None = None
    status: str | None = None
    severity: str | None = None
    category: str | None = None
    platform: str | None = None
    user: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_json(self) -> dict:
        out = {}
        for k in ("school", "status", "severity", "category", "platform", "user"):
            v = getattr(self, k)
            if v:
                out[k] = v
        if self.since:
            out["since"] = iso(self.since)
        if self.until:
            out["until"] = iso(self.until)
        return out


def encode_cursor(severity: str, created: str, incident_id: str) -> str:
    raw = json.dumps([severity, created, incident_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str, str]:
    """ValueError on anything that is not a cursor we issued (shape-wise)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sev, created, inc = json.loads(raw)
    except Exception as exc:  # noqa: BLE001 - any garbage is one kind of error to the caller
        raise ValueError("cursor: not a cursor this server issued") from exc
    if sev not in SEVERITIES_DESC or not isinstance(created, str) or not isinstance(inc, str):
        raise ValueError("cursor: not a cursor this server issued")
    return sev, created, inc


def _row_incident(r) -> Incident:
    return from_row(r[:-1], assignee=r[-1])


def _where(f: IncidentFilter) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    if f.schools is not None:
        if not f.schools:
            where.append("1 = 0")  # a counselor with no school sees nothing
        else:
            where.append("school IN (" + ", ".join("?" * len(f.schools)) + ")")
            params += list(f.schools)
    if f.kinds is not None:
        where.append("kind IN (" + ", ".join("?" * len(f.kinds)) + ")")
        params += list(f.kinds)
    if f.exclude_kinds:
        where.append("kind NOT IN (" + ", ".join("?" * len(f.exclude_kinds)) + ")")
        params += list(f.exclude_kinds)
    for col, value in (("school", f.school), ("status", f.status), ("platform", f.platform),
                       ("user_id", f.user)):
        if value:
            where.append(f"{col} = ?")
            params.append(value)
    if f.category:
        # labels is a JSON list of plain identifiers, so the quoted name matches exactly one label.
        where.append("labels LIKE ?")
        params.append('%"' + f.category.replace("%", "").replace("_", "\\_") + '"%')
        where[-1] += " ESCAPE '\\'"
    if f.since is not None:
        where.append("created >= ?")
        params.append(iso(f.since))
    if f.until is not None:
        where.append("created < ?")
        params.append(iso(f.until))
    return where, params


class LifecycleMixin:
    """Queue reads, the incident history, actions and accounts. Mixed into `Store`."""

    # ------------------------------------------------------------------ reads
    def incident(self, incident_id: str) -> Incident | None:
        rows = self._read(f"SELECT {_COLS} FROM incidents WHERE id = ?", (incident_id,))
        return _row_incident(rows[0]) if rows else None

    def incident_page(self, f: IncidentFilter, limit: int = 50,
                      cursor: str | None = None) -> tuple[list[Incident], str | None]:
        """One page of the queue: critical first, then high, medium, low; newest first within a
        severity. Keyset paging (no OFFSET): each severity is one index range walk
        (incidents_queue and friends), so page 2,000 costs what page 1 costs."""
        limit = max(1, min(int(limit), 500))
        sevs = SEVERITIES_DESC
        after = cursor_sev = None
        if cursor:
            cursor_sev, created, inc = decode_cursor(cursor)
            sevs = SEVERITIES_DESC[SEVERITIES_DESC.index(cursor_sev):]
            after = (created, inc)
        if f.severity:
            sevs = tuple(s for s in sevs if s == f.severity)
        base_where, base_params = _where(f)
        out: list[Incident] = []
        for sev in sevs:
            where = ["severity = ?"] + base_where
            params = [sev] + base_params
            if after is not None and sev == cursor_sev:
                # A row-value comparison, so both engines use it as the index range itself
                # (the equivalent OR form is only a filter on PostgreSQL: 50 ms vs 1 ms deep).
                where.append("(created, id) < (?, ?)")
                params += [after[0], after[1]]
            want = limit + 1 - len(out)
            # LIMIT as a parameter: one statement text per filter shape, which psycopg prepares
            # after a few uses (planning was 3 ms of each PostgreSQL query).
            rows = self._read(f"SELECT {_COLS} FROM incidents WHERE " + " AND ".join(where)
                              + " ORDER BY created DESC, id DESC LIMIT ?", tuple(params) + (int(want),))
            out += [_row_incident(r) for r in rows]
            if len(out) > limit:
                break
        if len(out) > limit:
            last = out[limit - 1]
            return out[:limit], encode_cursor(last.severity, iso(last.created), last.id)
        return out, None

    def unacknowledged(self, f: IncidentFilter, severity: str = "critical",
                       limit: int = 20) -> tuple[list[Incident], int]:
        """Incidents of this severity nobody has touched yet (status `open`), oldest first, and
        how many there are in all."""
        where, params = _where(f)
        where = ["status = ?", "severity = ?"] + where
        params = ["open", severity] + params
        clause = " AND ".join(where)
        count = self._read("SELECT COUNT(*) FROM incidents WHERE " + clause, tuple(params))[0][0]
        rows = self._read(f"SELECT {_COLS} FROM incidents WHERE {clause} ORDER BY created, id LIMIT ?",
                          tuple(params) + (int(limit),))
        return [_row_incident(r) for r in rows], int(count)

    def user_incidents(self, user: str, *, before: Incident | None = None, f: IncidentFilter | None = None,
                       limit: int = 20) -> list[Incident]:
        """The student's other incidents (newest first), within what the viewer may see."""
        where, params = _where(f or IncidentFilter())
        where = ["user_id = ?"] + where
        params = [user] + params
        if before is not None:
            where.append("id <> ?")
            params.append(before.id)
        rows = self._read(f"SELECT {_COLS} FROM incidents WHERE " + " AND ".join(where)
                          + f" ORDER BY created DESC, id DESC LIMIT {int(limit)}", tuple(params))
        return [_row_incident(r) for r in rows]

    def history(self, incident_id: str) -> list[HistoryEntry]:
        rows = self._read("SELECT at, actor, action, detail FROM incident_history WHERE incident_id = ? "
                          "ORDER BY at, id", (incident_id,))
        return [HistoryEntry(parse_iso(r[0]), r[1], r[2], json.loads(r[3])) for r in rows]

    # ------------------------------------------------------------------ actions
    def apply_action(self, incident_id: str, action: str, actor: str, *, assignee: str | None = None,
                     note: str | None = None, at: datetime | None = None) -> Incident:
        """Apply one review action: status/assignee, a history row and an audit entry in one
        transaction. NotFound, ActionRefused (ValueError) or StoreUnavailable."""
        if action not in TRANSITIONS:
            raise ActionRefused(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
        if action == "assign" and not assignee:
            raise ActionRefused("assign needs an assignee")
        if action == "note" and not (note and note.strip()):
            raise ActionRefused("note needs a text")
        if note is not None and len(note) > 10_000:
            raise ActionRefused("note: at most 10,000 characters")
        when = iso(utc(at or datetime.now(timezone.utc)))
        d = self.dialect

        def write(conn):
            row = conn.execute(d.sql(f"SELECT {_COLS} FROM incidents WHERE id = ?" + d.lock_suffix),
                               (incident_id,)).fetchone()
            if row is None:
                raise NotFound(incident_id)
            inc = _row_incident(row)
            allowed_from, to = TRANSITIONS[action]
            if inc.status not in allowed_from:
                raise ActionRefused(f"cannot {action} an incident that is {inc.status}")
            new_status = to or ("reviewing" if inc.status == "open" else inc.status)
            new_assignee = assignee if action == "assign" else inc.assignee
            conn.execute(d.sql("UPDATE incidents SET status = ?, assignee = ?, updated = ? WHERE id = ?"),
                         (new_status, new_assignee, when, incident_id))
            detail = {"from": inc.status, "to": new_status}
            if action == "assign":
                detail["assignee"] = new_assignee
            hist = dict(detail)
            if note:
                hist["note"] = note
            conn.execute(d.sql("INSERT INTO incident_history (id, incident_id, at, actor, action, detail) "
                               "VALUES (?, ?, ?, ?, ?, ?)"),
                         (new_id("his"), incident_id, when, actor, action,
                          json.dumps(hist, ensure_ascii=False, sort_keys=True)))
            # The audit trail says who did what to which incident, never the note's words: a
            # note may quote the post, and auditors must never receive post text.
            if note:
                detail["note_chars"] = len(note)
            self._append_audit(conn, new_id("aud"), when, actor, f"incident.{action}", incident_id,
                               auditchain.canonical_detail(detail))
            return inc

        self._write_unspooled(write, "the action was not recorded")
        out = self.incident(incident_id)
        assert out is not None
        return out

    # ------------------------------------------------------------------ accounts
    def add_account(self, username: str, role: str, schools: tuple[str, ...] = (),
                    password_hash: str | None = None, actor: str = "cli") -> Account:
        if role not in ROLES:
            raise ValueError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        now = datetime.now(timezone.utc)
        d = self.dialect

        def write(conn):
            if conn.execute(d.sql("SELECT 1 FROM accounts WHERE username = ?"), (username,)).fetchone():
                raise ValueError(f"account {username!r} already exists")
            conn.execute(d.sql("INSERT INTO accounts (username, role, schools, password_hash, disabled, created) "
                               "VALUES (?, ?, ?, ?, 0, ?)"),
                         (username, role, json.dumps(list(schools)), password_hash, iso(now)))
            self._append_audit(conn, new_id("aud"), iso(now), actor, "account.add", username,
                               auditchain.canonical_detail({"role": role, "schools": list(schools)}))

        self._write_unspooled(write, "nothing was changed")
        return self.account(username)

    def set_account(self, username: str, *, disabled: bool | None = None, password_hash: str | None = None,
                    actor: str = "cli") -> Account:
        now = iso(datetime.now(timezone.utc))
        d = self.dialect

        def write(conn):
            if not conn.execute(d.sql("SELECT 1 FROM accounts WHERE username = ?" + d.lock_suffix),
                                (username,)).fetchone():
                raise NotFound(username)
            changes = {}
            if disabled is not None:
                conn.execute(d.sql("UPDATE accounts SET disabled = ? WHERE username = ?"),
                             (1 if disabled else 0, username))
                changes["disabled"] = disabled
            if password_hash is not None:
                conn.execute(d.sql("UPDATE accounts SET password_hash = ? WHERE username = ?"),
                             (password_hash, username))
                changes["password"] = "changed"
            self._append_audit(conn, new_id("aud"), now, actor, "account.change", username,
                               auditchain.canonical_detail(changes))

        self._write_unspooled(write, "nothing was changed")
        return self.account(username)

    def _write_unspooled(self, write, consequence: str) -> None:
        """Run `write` in one transaction behind anything spooled (so the audit trail stays in
        order). Lifecycle and account changes are NOT spooled: with the database down the caller
        gets StoreUnavailable and nothing is half-done (a counselor sees the error and retries)."""
        from agent.store.store import StoreUnavailable
        with self._lock:
            try:
                self._replay()
                self._write(write)
            except Unavailable as exc:
                raise StoreUnavailable(f"database unavailable, {consequence}: {exc}") from exc

    def account(self, username: str) -> Account | None:
        rows = self._read("SELECT username, role, schools, password_hash, disabled, created FROM accounts "
                          "WHERE username = ?", (username,))
        return self._account(rows[0]) if rows else None

    def accounts(self) -> list[Account]:
        rows = self._read("SELECT username, role, schools, password_hash, disabled, created FROM accounts "
                          "ORDER BY username")
        return [self._account(r) for r in rows]

    @staticmethod
    def _account(r) -> Account:
        return Account(r[0], r[1], tuple(json.loads(r[2])), r[3], bool(r[4]), parse_iso(r[5]))

    # ------------------------------------------------------------------ audit reads
    def audit_page(self, *, since: datetime | None = None, actor: str | None = None,
                   limit: int = 100, before_seq: int | None = None) -> list[dict]:
        """Newest entries first, for the audit trail page and /api/audit; `before_seq` pages
        back through older entries (seq is the primary key, so each page is an index range)."""
        where, params = [], []
        if before_seq is not None:
            where.append("seq < ?")
            params.append(int(before_seq))
        if since is not None:
            where.append("at >= ?")
            params.append(iso(since))
        if actor:
            where.append("actor = ?")
            params.append(actor)
        sql = "SELECT seq, at, actor, action, target, detail FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._read(sql + f" ORDER BY seq DESC LIMIT {max(1, min(int(limit), 1000))}", tuple(params))
        return [{"seq": r[0], "at": r[1], "actor": r[2], "action": r[3], "target": r[4],
                 "detail": json.loads(r[5])} for r in rows]
