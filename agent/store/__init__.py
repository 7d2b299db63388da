"""Persistent state: teacher sessions, incidents and the audit trail (docs/interfaces.md).

SQLite under `--home` by default (WAL, file mode 0600: it holds student data), PostgreSQL for
larger districts through the same portable SQL (agent/store/dialect.py). While the database is
unavailable, incidents and audit entries are spooled under `home/spool/` and replayed later.
"""
from __future__ import annotations

from pathlib import Path

from agent.store.dialect import Unavailable, dialect_for
from agent.store.incident import Incident
from agent.store.store import Store, StoreUnavailable

__all__ = ["open_store", "Store", "Incident", "StoreUnavailable", "Unavailable"]


def open_store(url: str | None, home: Path, *, timeout: float = 5.0) -> Store:
    """Open (creating and migrating) the store. `timeout`: how long a write waits for a lock
    held by another process before the record is spooled instead."""
    return Store(dialect_for(url, Path(home), timeout), Path(home))
