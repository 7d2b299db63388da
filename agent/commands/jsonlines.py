"""Reading one JSON object per input line (the `extract` and `classify` contracts)."""
from __future__ import annotations

import json


class LineError(ValueError):
    """A malformed input line; the command reports it with its line number and goes on."""


def json_object(line: str) -> dict:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise LineError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise LineError("not a JSON object")
    return obj
