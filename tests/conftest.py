"""Shared pytest setup: keep minimal. Reusable helpers live in tests/support (an importable package).

A test that cannot run because a system tool is missing skips with a reason starting
"MISSING <tool>:" (tests/metrics/promtool.py, tests/support/browser.py). Such skips are easy to
overlook in pytest's one-line summary, so the terminal summary ends with a block naming each
missing tool, how many tests it kept from running, and how to install it.
"""
from __future__ import annotations

import re

# `postgres_cluster` / `postgres_url`: a throw-away PostgreSQL cluster (skips without PostgreSQL).
pytest_plugins = ("tests.support.postgres",)

_MISSING = re.compile(r"MISSING ([\w.+-]+): (.*)")


def missing_tools(skipped_reports) -> dict[str, tuple[int, str]]:
    """tool -> (skipped tests, reason) from pytest's skipped reports (any order, xdist or not)."""
    found: dict[str, tuple[int, str]] = {}
    for report in skipped_reports:
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
        m = _MISSING.search(reason)
        if m is None:
            continue
        tool, why = m.group(1), m.group(2)
        count, _ = found.get(tool, (0, why))
        found[tool] = (count + 1, why)
    return found


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    found = missing_tools(terminalreporter.stats.get("skipped", []))
    if not found:
        return
    terminalreporter.section("SKIPPED: system tools missing", sep="!", red=True, bold=True)
    for tool, (count, why) in sorted(found.items()):
        terminalreporter.write_line(f"{count} test(s) did not run: {tool} is missing ({why})",
                                    red=True, bold=True)
