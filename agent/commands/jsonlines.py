"""Reading one JSON object per input line (the `extract` and `classify` contracts).

Hostile or broken input fails its own line, never the run: a line that is not JSON, not an object,
nested too deeply for the parser (200,000 brackets raise RecursionError inside `json`), or longer
than MAX_LINE_CHARS is reported with its number and skipped; the next line is read as usual. An
over-long line is not held in memory: it is read and dropped in chunks up to its newline.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TextIO

MAX_LINE_CHARS = 8_000_000   # a 1 MB body base64-encoded with its headers is well under this
_CHUNK = 1 << 20


class LineError(ValueError):
    """A malformed input line; the command reports it with its line number and goes on."""


def json_object(line: str) -> dict:
    try:
        obj = json.loads(line)
    except RecursionError:
        raise LineError("nested too deeply to read") from None
    except ValueError as exc:
        raise LineError(f"not JSON ({getattr(exc, 'msg', exc)} at column {getattr(exc, 'colno', '?')})") from None
    if not isinstance(obj, dict):
        raise LineError("not a JSON object")
    return obj


def numbered_lines(stream: TextIO, max_chars: int = MAX_LINE_CHARS) -> Iterator[tuple[int, str | LineError]]:
    """(line number, the line) for each line, or (line number, LineError) for one longer than
    `max_chars` (its text is skipped without being kept)."""
    lineno = 0
    while True:
        line = stream.readline(max_chars + 1)
        if not line:
            return
        lineno += 1
        if len(line) > max_chars and not line.endswith("\n"):
            while True:   # drop the rest of this line, a chunk at a time
                rest = stream.readline(_CHUNK)
                if not rest or rest.endswith("\n"):
                    break
            yield lineno, LineError(f"line longer than {max_chars} characters; skipped")
            continue
        yield lineno, line
