"""Schema and migrations, applied on open.

Each migration is a list of portable statements (no engine-specific types: timestamps are
fixed-width UTC ISO strings, JSON is TEXT). `schema_version` holds the versions applied; a
database newer than this code is refused rather than guessed at.
"""
from __future__ import annotations

MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE teacher_sessions (
            id TEXT PRIMARY KEY,
            teacher TEXT NOT NULL,
            class_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            starts TEXT NOT NULL,
            ends TEXT NOT NULL,
            closed TEXT,
            created TEXT NOT NULL
        )""",
        "CREATE INDEX teacher_sessions_ends ON teacher_sessions (ends)",
        """CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            user_id TEXT NOT NULL,
            platform TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            labels TEXT NOT NULL,
            scores TEXT NOT NULL,
            evidence TEXT NOT NULL,
            severity TEXT NOT NULL,
            guidelines TEXT NOT NULL,
            status TEXT NOT NULL,
            request_id TEXT,
            school TEXT
        )""",
        "CREATE INDEX incidents_created ON incidents (created)",
        "CREATE INDEX incidents_status ON incidents (status)",
        # Append-only audit trail; `prev` is the SHA-256 of the previous row (its `hash`),
        # `hash` covers this row's fields and `prev`. entry_id makes a spool replay idempotent.
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL UNIQUE,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        # The chain head, updated in the same transaction as each append, so deleting the
        # newest rows (which no later row would vouch for) is detectable too.
        """CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        )""",
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')",
    ]),
    # ---- review app (issue 9): the incident lifecycle, its history, staff accounts. ----
    # Kept in one block of its own (version 3; version 2 is left to the alerts/PostgreSQL work)
    # so branches merge without touching each other's statements.
    (3, [
        "ALTER TABLE incidents ADD COLUMN assignee TEXT",
        "ALTER TABLE incidents ADD COLUMN updated TEXT",
        # The queue walks one severity at a time, newest first (agent/store/lifecycle.py), so
        # each of these serves a keyset page without sorting: by severity alone, or with the
        # most common equality filters in front.
        "CREATE INDEX incidents_queue ON incidents (severity, created, id)",
        "CREATE INDEX incidents_status_queue ON incidents (status, severity, created, id)",
        "CREATE INDEX incidents_school_queue ON incidents (school, severity, created, id)",
        "CREATE INDEX incidents_user ON incidents (user_id, created)",
        """CREATE TABLE incident_history (
            id TEXT PRIMARY KEY,
            incident_id TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        )""",
        "CREATE INDEX incident_history_incident ON incident_history (incident_id, at)",
        # Staff accounts of the review app. schools: JSON list of org ids (counselors);
        # password_hash: argon2 (NULL: the account signs in through OIDC only).
        """CREATE TABLE accounts (
            username TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            schools TEXT NOT NULL,
            password_hash TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL
        )""",
    ]),
]
# ---- version 4: where an incident's post came from (the device and how its student was known).
MIGRATIONS.append((4, [
    "ALTER TABLE incidents ADD COLUMN device TEXT",
    "ALTER TABLE incidents ADD COLUMN identified_by TEXT",
]))
MIGRATIONS.sort(key=lambda m: m[0])

LATEST = MIGRATIONS[-1][0]
