"""Pending alert deliveries, persisted in `home/alerts.db` (SQLite, 0600) so they survive a
restart of the proxy.

Why a file of its own, not the incident store: an alert must go out even when the incident
database is down (the incident itself is then in the spool), and it is local work of this proxy
host. Several proxy processes sharing --home share the outbox: a delivery is claimed with a
lease (`lease_until`), so exactly one process attempts it at a time, and a process that dies
mid-attempt leaves it to be picked up when the lease runs out.

One row per (incident, channel, target); enqueueing the same incident again is a no-op.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    channel TEXT NOT NULL,           -- webhook | email
    target TEXT NOT NULL,            -- URL, or the e-mail addresses joined by ", "
    payload TEXT NOT NULL,           -- the alert body (agent/alerts/message.py), never post text
    state TEXT NOT NULL,             -- pending | delivered | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    lease_until REAL,
    last_error TEXT,
    created REAL NOT NULL,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
"""


@dataclass(frozen=True)
class Delivery:
    id: str
    incident: str
    channel: str
    target: str
    payload: dict
    attempts: int
    created: float


class Outbox:
    def __init__(self, path: Path, busy_timeout: float = 10.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))   # private before any data
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), timeout=busy_timeout, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")   # a pending alert must survive a crash
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        self._conn.execute(stmt)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def enqueue(self, incident: str, channel: str, target: str, payload: dict, now: float | None = None) -> bool:
        """Persist one delivery (durable when this returns). False if it was already there."""
        now = time.time() if now is None else now
        key = f"{incident}|{channel}|{target}"
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO deliveries (id, incident, channel, target, payload, state, attempts, "
                "next_at, created) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
                (key, incident, channel, target, json.dumps(payload, sort_keys=True), now, now))
            return cur.rowcount == 1

    def claim_due(self, now: float | None = None, lease: float = 60.0, limit: int = 20) -> list[Delivery]:
        """Pending deliveries whose time has come and that nobody else holds; leased to us."""
        now = time.time() if now is None else now
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(
                    "SELECT id, incident, channel, target, payload, attempts, created FROM deliveries "
                    "WHERE state = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
                    "ORDER BY next_at LIMIT ?", (now, now, limit)).fetchall()
                self._conn.executemany("UPDATE deliveries SET lease_until = ? WHERE id = ?",
                                       [(now + lease, r[0]) for r in rows])
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return [Delivery(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    def delivered(self, delivery_id: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._conn.execute("UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, "
                               "lease_until = NULL, last_error = NULL, done_at = ? WHERE id = ?", (now, delivery_id))

    def retry(self, delivery_id: str, next_at: float, error: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE deliveries SET attempts = attempts + 1, next_at = ?, lease_until = NULL, "
                               "last_error = ? WHERE id = ?", (next_at, error[:500], delivery_id))

    def give_up(self, delivery_id: str, error: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._conn.execute("UPDATE deliveries SET state = 'failed', attempts = attempts + 1, lease_until = NULL, "
                               "last_error = ?, done_at = ? WHERE id = ?", (error[:500], now, delivery_id))

    def release(self, delivery_ids: list[str]) -> None:
        """Hand back leases we hold but will not attempt (shutting down)."""
        with self._lock:
            self._conn.executemany("UPDATE deliveries SET lease_until = NULL WHERE id = ? AND state = 'pending'",
                                   [(d,) for d in delivery_ids])

    def next_due(self) -> float | None:
        with self._lock:
            row = self._conn.execute("SELECT MIN(MAX(next_at, COALESCE(lease_until, 0))) FROM deliveries "
                                     "WHERE state = 'pending'").fetchone()
        return row[0]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
        return {state: n for state, n in rows}

    def rows(self) -> list[dict]:
        """Everything (tests, diagnostics)."""
        keys = ("id", "incident", "channel", "target", "state", "attempts", "last_error")
        with self._lock:
            return [dict(zip(keys, r)) for r in self._conn.execute(
                "SELECT " + ", ".join(keys) + " FROM deliveries ORDER BY created, id").fetchall()]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
