"""Scrape-time gauges read from the incident store: open, overdue and oldest-open incidents by
severity (and the spool depth, when the store has not registered its own).

The store is not read inside the scrape: a small daemon thread takes a snapshot every
`interval` seconds (with its own store handle, so no SQLite connection crosses threads and no
query ever runs on the proxy's event loop), and the STATE sources return the last snapshot.
Before the first snapshot they return None, and the exporter skips them rather than export
a made-up 0. If the store fails, the previous snapshot stays (stale but true) and the failure
is logged; the spool depth, read from files, keeps updating.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from agent.metrics import STATE, StateSources
from agent import metrics as x

log = logging.getLogger(__name__)

SEVERITIES = ("low", "medium", "high", "critical")
# How long an incident may stay "open" (not yet picked up by a counselor) before it is overdue.
# Critical matches the 15-minute alert rule in deploy/prometheus/rules/crossingguard-alerts.yml.
ACK_SLA = {"critical": timedelta(minutes=15), "high": timedelta(hours=1),
           "medium": timedelta(hours=24), "low": timedelta(hours=72)}
UNACKNOWLEDGED = "open"   # agent.store.incident.INCIDENT_STATUSES: "reviewing" and later = picked up


@dataclass
class Snapshot:
    open: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    oldest_open: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0.0))


def snapshot(store, now: datetime | None = None) -> Snapshot:
    """Pure function of the store's contents at `now` (tests call it directly)."""
    now = now or datetime.now(timezone.utc)
    snap = Snapshot()
    for inc in store.incidents(status=UNACKNOWLEDGED):
        sev = inc.severity if inc.severity in ACK_SLA else "low"
        snap.open[sev] += 1
        created = inc.created if inc.created.tzinfo else inc.created.replace(tzinfo=timezone.utc)
        if now - created > ACK_SLA[sev]:
            snap.overdue[sev] += 1
        ts = created.timestamp()
        # 0 means "none open" (the alert rule ignores 0); otherwise the oldest creation time.
        if snap.oldest_open[sev] == 0.0 or ts < snap.oldest_open[sev]:
            snap.oldest_open[sev] = ts
    return snap


def spool_depth(spool_dir: Path) -> int:
    """Records waiting for replay: lines in home/spool/*.jsonl (the rejected file excluded)."""
    total = 0
    try:
        files = [p for p in Path(spool_dir).glob("*.jsonl") if p.name != "rejected.jsonl"]
    except OSError:
        return 0
    for path in files:
        try:
            with open(path, "rb") as fh:
                total += sum(1 for line in fh if line.strip())
        except OSError:
            continue   # consumed by a replayer between glob and open
    return total


class StoreGauges:
    """Registers the store gauges on `state` and refreshes them from a background thread."""

    def __init__(self, open_store: Callable[[], object], spool_dir: Path | None = None, *,
                 interval: float = 15.0, state: StateSources | None = None):
        self.open_store, self.spool_dir, self.interval = open_store, spool_dir, interval
        self.state = state if state is not None else STATE
        self.snap: Snapshot | None = None
        self._store = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._registered: list[tuple[str, Callable]] = []

    def refresh(self) -> None:
        try:
            if self._store is None:
                self._store = self.open_store()
            self.snap = snapshot(self._store)
        except Exception:
            log.warning("metrics: store snapshot failed; keeping the previous one", exc_info=True)

    def register(self) -> None:
        def by_sev(attr):
            return lambda: None if self.snap is None else dict(getattr(self.snap, attr))
        sources = [
            (x.INCIDENTS_OPEN, "Incidents not yet picked up by a counselor (status open), by severity.",
             by_sev("open")),
            (x.INCIDENTS_OVERDUE, "Open incidents older than their acknowledgement target "
             "(critical 15m, high 1h, medium 24h, low 72h), by severity.", by_sev("overdue")),
            (x.INCIDENTS_OLDEST_OPEN, "Creation time (Unix seconds) of the oldest open incident, by "
             "severity; 0 when none is open.", by_sev("oldest_open")),
        ]
        if self.spool_dir is not None and x.SPOOL_DEPTH not in self.state.sources:
            # The store may register its own (exact) spool depth; this file count is the fallback.
            sources.append((x.SPOOL_DEPTH, "Records waiting in the store's spool for the database.",
                            lambda: spool_depth(self.spool_dir)))
        for name, help_text, fn in sources:
            if name in self.state.sources:
                continue   # an owner registered it already: theirs wins
            self.state.register(name, help_text, fn, "gauge")
            self._registered.append((name, fn))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.interval)
        self._close()   # in the thread that opened it (SQLite connections are per thread)

    def _close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:
                pass

    def start(self) -> "StoreGauges":
        self.register()
        self._thread = threading.Thread(target=self._loop, name="metrics-store-gauges", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for name, fn in self._registered:
            entry = self.state.sources.get(name)
            if entry is not None and entry[2] is fn:   # re-registered by its owner since: keep theirs
                self.state.unregister(name)
        self._registered.clear()
        self._close()   # only when no thread ran (tests calling refresh() directly)
