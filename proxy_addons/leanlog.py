"""Lean logging: mitmproxy's per-connection log records are not even built when nobody shows them.

mitmproxy puts the root logger at DEBUG and filters in its handlers, so every connection still builds
about 15 records ("client connect", "server connect", "half-closing ..."): each one walks the stack
for its caller, is formatted, and wakes the event loop to offer the deprecated `add_log` hook to
every addon. For a passed-through tunnel that was about a fifth of its CPU here. With
termlog_verbosity at warn (what `crossingguard run` sets), nothing below WARNING is ever shown, so
the proxy-core loggers get that level and the records are skipped at the first check.

Raising termlog_verbosity (e.g. `-- --set termlog_verbosity=debug` for troubleshooting) lowers the
level again. Side effect, written down here: scripts using the deprecated `add_log` hook no longer
see proxy-core records below the terminal's verbosity. (docs/mitmproxy-internals.md, item 10.)
"""
from __future__ import annotations

import logging

from mitmproxy import ctx

PROXY_CORE_LOGGERS = ("mitmproxy.proxy",)   # connection handler, layers and servers


class LeanLogging:
    name = "crossingguard_leanlog"

    def configure(self, updated) -> None:
        if "termlog_verbosity" not in updated:
            return
        verbosity = str(getattr(ctx.options, "termlog_verbosity", "") or "info").upper()
        level = logging.getLevelName(verbosity)
        if not isinstance(level, int):
            level = logging.INFO   # unknown name (e.g. mitmproxy's "alert" level): keep records
        level = min(level, logging.WARNING)   # warnings and errors always reach the handlers
        for name in PROXY_CORE_LOGGERS:
            logging.getLogger(name).setLevel(level)
