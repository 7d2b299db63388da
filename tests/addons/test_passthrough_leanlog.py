"""LeanLogging: proxy-core records below the terminal's verbosity are skipped, warnings never are."""
from __future__ import annotations

import io
import logging

import pytest
from mitmproxy.addons.termlog import TermLog
from mitmproxy.test import taddons

from proxy_addons.leanlog import PROXY_CORE_LOGGERS, LeanLogging


@pytest.fixture
def restore_levels():
    saved = {name: logging.getLogger(name).level for name in (*PROXY_CORE_LOGGERS, "")}
    logging.getLogger().setLevel(logging.DEBUG)   # as mitmproxy's main() does
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("verbosity,info_kept,warning_kept", [
    ("warn", False, True),
    ("error", False, True),     # warnings and errors always reach the handlers
    ("info", True, True),
    ("debug", True, True),
])
def test_proxy_core_level_follows_termlog_verbosity(restore_levels, verbosity, info_kept, warning_kept):
    lean = LeanLogging()
    with taddons.context(TermLog(out=io.StringIO()), lean) as tctx:
        tctx.configure(lean, termlog_verbosity=verbosity)
        server_log = logging.getLogger("mitmproxy.proxy.server")   # where "client connect" is logged
        assert server_log.isEnabledFor(logging.INFO) is info_kept
        assert server_log.isEnabledFor(logging.WARNING) is warning_kept
        assert server_log.isEnabledFor(logging.ERROR)


def test_other_loggers_are_untouched(restore_levels):
    lean = LeanLogging()
    ours = logging.getLogger("crossingguard.identity")
    before = ours.getEffectiveLevel()
    with taddons.context(TermLog(out=io.StringIO()), lean) as tctx:
        tctx.configure(lean, termlog_verbosity="warn")
        assert ours.getEffectiveLevel() == before
