"""Teacher sessions for the policy engine, refreshed from the store off the event loop.

A worker thread opens the store (SQLite connections stay in the thread that made them) and replaces
`self.snapshot` with the sessions active now. Hooks read the snapshot (one attribute read): never a
database call on the event loop.

When it reloads: the worker asks the store for its cheap change token (`Store.sessions_token()`:
SQLite's `PRAGMA data_version`, which changes when another process commits; elsewhere a count over
the sessions table) and reloads only when the token changed. When it asks:
- SQLite (the embedded default): when the database changes. An inotify watch on the database's
  `-wal` and main file (proxy_addons/filewatch.py) wakes the worker when any process commits, so a
  session opened or closed with `crossingguard session open/close` reaches the proxy within
  milliseconds, and an idle proxy does not wake at all for it. With `run --workers N` that was N
  threads each taking SQLite's locks five times a second for nothing.
- PostgreSQL: when notified. `session open/close` send `NOTIFY crossingguard_sessions` in their
  transaction, from whichever machine runs them; each proxy process LISTENs on one extra connection
  (proxy_addons/pgnotify.py).
- Where neither works (no inotify, the listening connection cannot be made or broke): every
  `crossingguard_session_check_ms` (200) milliseconds, so a change arrives within about 0.2 s; the
  listener is tried again every full reload.
A full reload also runs every `crossingguard_session_refresh_ms` (3000) milliseconds whatever the
token says, as a safety net.

Fail choice: when the store cannot be read, the last snapshot stays in force; sessions in it still
end on time because the engine checks `active_at` for each request. With no snapshot at all nobody
has a session, i.e. students stay read-only (fail closed for posting).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from agent.metrics import ADDON_ERRORS, COUNTERS, SESSIONS_ACTIVE, STATE

log = logging.getLogger("crossingguard.sessions")

# Seconds between two checks woken by database changes. Every commit wakes the watch, including
# this process's own incident writes; during a burst of them the cache checks the token at most ten
# times a second (the old poll did five); after a quiet spell a change is checked at once.
MIN_GAP = 0.1


class SessionCache:
    name = "crossingguard_sessions"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, core) -> None:
        self.core = core
        self.snapshot: tuple = ()
        self.refreshed_at: float | None = None
        self.reloads = 0        # full reads of the sessions (tests: an unchanged store is not re-read)
        self.checks = 0         # change-token reads (tests: an idle SQLite store wakes nobody)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._generation = -1
        self._watch = None          # FileWatch of the SQLite database while the worker runs
        self.event_driven = False   # True while changes arrive by inotify rather than polling

    def load(self, loader) -> None:
        # mitmproxy options have no float type: milliseconds.
        loader.add_option("crossingguard_session_refresh_ms", int, 3000,
                          "Milliseconds between full reloads of teacher sessions from the store.")
        loader.add_option("crossingguard_session_check_ms", int, 200,
                          "Milliseconds between checks of the store's change token; a change "
                          "(a session opened or closed) reloads the sessions at once.")

    def running(self) -> None:
        self.start()

    def configure(self, updated) -> None:
        if self._thread is None and self.refreshed_at is None and self.core.state is not None:
            self._first_snapshot(self.core.state)
        # A reloaded policy may point at another store: restart the worker.
        if self._thread is not None and self.core.generation != self._generation:
            self.stop()
            self.start()

    def start(self) -> None:
        if self._thread is not None or self.core.state is None:
            return
        from mitmproxy import ctx
        try:
            interval = ctx.options.crossingguard_session_refresh_ms / 1000
            check = ctx.options.crossingguard_session_check_ms / 1000
        except (AttributeError, KeyError):
            interval, check = 3.0, 0.2
        self._generation = self.core.generation
        self._stop.clear()
        self._thread = threading.Thread(target=self._run,
                                        args=(self.core.state, max(interval, 0.2), min(max(check, 0.05), interval)),
                                        name="crossingguard-sessions", daemon=True)
        self._thread.start()
        STATE.register(SESSIONS_ACTIVE, "Teacher sessions active now.", self.active_count, "gauge")

    def _first_snapshot(self, state) -> None:
        """Read the sessions once, synchronously, while mitmproxy configures its addons -- before
        its listeners are up -- so a (re)started process (a worker the supervisor restarted
        mid-lesson) never answers students in an open teacher session with read-only blocks while
        its worker thread is still connecting. Bounded by the store's connect timeout; on failure
        the fail-closed default above applies until the worker thread succeeds."""
        try:
            from agent.store import open_store
            store = open_store(state.policy.store_url, state.home)
            try:
                self.snapshot = tuple(store.sessions(active_at=datetime.now(timezone.utc)))
                self.refreshed_at = datetime.now(timezone.utc).timestamp()
            finally:
                store.close()
        except Exception:
            COUNTERS.inc(ADDON_ERRORS, "sessions")
            log.warning("crossingguard: teacher sessions not readable at start; the worker thread retries",
                        exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._poke()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def done(self) -> None:
        self.stop()
        STATE.unregister(SESSIONS_ACTIVE)

    def refresh_now(self) -> None:
        """Ask the worker for an immediate reload (tests, admin hooks)."""
        self._poke()

    def _poke(self) -> None:
        self._wake.set()
        watch = self._watch
        if watch is not None:
            watch.poke()

    def active(self, at: datetime) -> tuple:
        return tuple(s for s in self.snapshot if s.active_at(at))

    def active_count(self) -> int:
        return len(self.active(datetime.now(timezone.utc)))

    def _run(self, state, interval: float, check: float = 0.2) -> None:
        store = None
        failures = 0
        token = None
        next_full = 0.0
        last_check = 0.0
        next_watch_try = 0.0
        while not self._stop.is_set():
            try:
                if store is None:
                    from agent.store import open_store
                    store = open_store(state.policy.store_url, state.home)
                if self._watch is None and time.monotonic() >= next_watch_try:
                    # Before the token is read: a change after this point wakes the watch.
                    next_watch_try = time.monotonic() + interval
                    self._open_watch(store)
                # The token is read BEFORE the sessions: a change between the two reads shows
                # as a new token on the next check and reloads again.
                now_token = store.sessions_token()
                self.checks += 1
                last_check = time.monotonic()
                if now_token != token or time.monotonic() >= next_full:
                    self.snapshot = tuple(store.sessions(active_at=datetime.now(timezone.utc)))
                    self.refreshed_at = datetime.now(timezone.utc).timestamp()
                    self.reloads += 1
                    token, next_full = now_token, time.monotonic() + interval
                failures = 0
            except Exception:
                COUNTERS.inc(ADDON_ERRORS, "sessions")
                if failures == 0:
                    log.exception("crossingguard: reading teacher sessions failed; keeping the last ones")
                failures += 1
                token = None   # reload once the store answers again
                if store is not None:
                    try:
                        store.close()
                    except Exception:
                        pass
                    store = None
            if self._watch is not None and failures == 0:
                # At most one check per MIN_GAP: changes during the pause stay queued in the
                # watch, so the first change after a quiet spell is seen at once.
                pause = MIN_GAP - (time.monotonic() - last_check)
                if pause > 0 and not self._wake.is_set():
                    self._wake.wait(pause)
                if not self._wake.is_set():
                    try:
                        self._watch.wait(max(0.0, next_full - time.monotonic()))
                    except Exception:   # the listening connection broke (pgnotify.ListenLost)
                        log.warning("crossingguard: lost the session change listener; polling until it is back")
                        self._close_watch()
                        token = None
            else:
                self._wake.wait(check if failures == 0 else interval)
            if self._wake.is_set():
                self._wake.clear()
                token = None   # refresh_now(): reload whatever the token says
        if store is not None:
            try:
                store.close()
            except Exception:
                pass
        self._close_watch()

    def _close_watch(self) -> None:
        watch, self._watch, self.event_driven = self._watch, None, False
        if watch is not None:
            watch.close()

    def _open_watch(self, store) -> None:
        """SQLite: watch the database's files; PostgreSQL: LISTEN for the sessions channel (module
        doc). Where neither works the cache polls."""
        dialect = getattr(store, "dialect", None)
        name = getattr(dialect, "name", None)
        if name == "sqlite":
            from proxy_addons.filewatch import FileWatch
            path = dialect.path
            self._watch = FileWatch.open(path.parent, {path.name, path.name + "-wal"})
        elif name == "postgresql":
            from proxy_addons.pgnotify import PgListen
            self._watch = PgListen.open(dialect.url, getattr(dialect, "timeout", 5.0))
        else:
            return
        self.event_driven = self._watch is not None
        if self._watch is None:
            log.info("crossingguard: teacher session changes cannot be watched here (%s); polling", name)
