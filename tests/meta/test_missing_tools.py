"""The end-of-run block naming missing system tools (tests/conftest.py)."""
from __future__ import annotations

from types import SimpleNamespace

from tests.conftest import missing_tools


def skipped(reason: str):
    return SimpleNamespace(longrepr=("tests/x.py", 3, f"Skipped: {reason}"))


def test_missing_tools_are_counted_per_tool_with_the_install_hint():
    reports = [skipped("MISSING promtool: not installed; Debian package `prometheus`"),
               skipped("MISSING promtool: not installed; Debian package `prometheus`"),
               skipped("MISSING chromium: headless-browser test not run; install Debian's chromium"),
               skipped("nft -c needs CAP_NET_ADMIN here"),          # not a missing tool
               SimpleNamespace(longrepr=None)]
    found = missing_tools(reports)
    assert found == {"promtool": (2, "not installed; Debian package `prometheus`"),
                     "chromium": (1, "headless-browser test not run; install Debian's chromium")}


def test_nothing_missing_means_no_block():
    assert missing_tools([skipped("some other reason")]) == {}
