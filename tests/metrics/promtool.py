"""Locating Debian's promtool/prometheus: skip locally when absent, fail in CI (CI=true)."""
import os
import shutil

import pytest


def require(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/bin/{tool}" if os.path.exists(f"/usr/bin/{tool}") else None)
    if path:
        return path
    message = (f"MISSING {tool}: not installed; Debian package `prometheus` "
               "(apt-get install -y prometheus; .ci/run installs it)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " and CI=true: the check cannot be skipped in CI")
    pytest.skip(message)
