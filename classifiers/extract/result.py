"""The record extraction hands back to its caller (docs/interfaces.md, classifiers section)."""
from __future__ import annotations

from dataclasses import dataclass, field

from classifiers.types import Post


@dataclass
class Extraction:
    platform: str | None
    posts: list[Post] = field(default_factory=list)
    error: str | None = None      # a reason word when the body could not be read; the caller counts it
    skipped: str | None = None    # why nothing was read on purpose (too_large, not_a_write, binary, ...)

    def to_json(self) -> dict:
        """The `crossingguard extract` output line (DESIGN.md)."""
        return {"platform": self.platform, "posts": [p.to_json() for p in self.posts]}


class ExtractError(Exception):
    """A body that cannot be read. `reason` is a short word safe for a metric label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class TooLarge(Exception):
    """The body (or what it decompresses to) is over the configured maximum."""
