"""Spool replayer: incidents and audit entries spooled while the database was down are written
to it as soon as it is back, even when no new incident comes along to trigger a replay.

A worker thread (never the event loop: replay touches disk and the database) looks at the spool
every `crossingguard_spool_replay_ms` milliseconds and, when there is something in it, asks the
proxy's store to replay it. Replays are idempotent (incidents keyed by id, audit entries by
entry id), so several proxy processes sharing one --home may race here safely: the spool's file
locks hand each file to one of them, and a record applied twice is stored once.
"""
from __future__ import annotations

import logging
import threading

from agent.metrics import ADDON_ERRORS, COUNTERS

log = logging.getLogger("crossingguard.spool")


class SpoolReplayer:
    name = "crossingguard_spool_replay"

    def __init__(self, core) -> None:
        self.core = core
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self, loader) -> None:
        loader.add_option("crossingguard_spool_replay_ms", int, 5000,
                          "Milliseconds between checks for spooled incidents to write to the database "
                          "once it is reachable again.")

    def configure(self, updated) -> None:
        if "crossingguard_spool_replay_ms" not in updated:
            return
        from mitmproxy import ctx, exceptions
        if ctx.options.crossingguard_spool_replay_ms < 100:
            raise exceptions.OptionsError("crossingguard_spool_replay_ms must be at least 100")

    def running(self) -> None:
        if self._thread is not None or self.core.state is None:
            return
        from mitmproxy import ctx
        interval = ctx.options.crossingguard_spool_replay_ms / 1000
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="crossingguard-spool",
                                        daemon=True)
        self._thread.start()

    def done(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def _run(self, interval: float) -> None:
        from agent.store import StoreUnavailable
        from agent.store.spool import Spool
        while not self._stop.wait(interval):
            state = self.core.state
            if state is None:
                continue
            # Look at the files first: opening the store (and the database) only when needed.
            if not Spool(state.home / "spool").files():
                continue
            try:
                n = state.context.store.replay_spool()
                if n:
                    log.info("crossingguard: %d spooled records written to the database", n)
            except StoreUnavailable:
                continue   # still down: try again next round, the records stay spooled
            except Exception:
                COUNTERS.inc(ADDON_ERRORS, "spool")
                log.exception("crossingguard: replaying the spool failed; kept for the next attempt")
