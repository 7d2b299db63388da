"""Policy files for tests: the shipped ENSATSD policy with some top-level sections replaced."""
from __future__ import annotations

from pathlib import Path

import yaml

from agent.context import DEFAULT_POLICY


def policy_with(path: Path, **sections) -> Path:
    """Write the shipped policy to `path` with these top-level keys set (e.g. store={"url": ...},
    alerts={...}); comments are not kept."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data.update(sections)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
