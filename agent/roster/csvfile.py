"""Reading one OneRoster CSV file: columns by header name, real line numbers.

OneRoster exports come from many student information systems, so we accept what
they actually produce: a UTF-8 byte-order mark, CRLF line ends, columns in any
order, header names in any case, and extra (vendor) columns, which are ignored.
What we do not guess at is a row whose field count differs from the header's:
an unquoted comma in a name shifts every later column (role, orgs), so such a
row is reported and skipped rather than read.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from agent.errors import ConfigError


@dataclass
class Row:
    line: int                 # physical line the record starts on (1 = header)
    values: dict[str, str]    # lower-cased header -> stripped value
    width_error: str | None   # set when the field count does not match the header


def read_text(path: Path) -> str:
    """The whole file as text; a non-UTF-8 byte is a ConfigError at its line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), None, "file", f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(str(path), line, "encoding",
                          f"byte 0x{data[exc.start]:02x} is not UTF-8; export the file as UTF-8") from None


def read_rows(path: Path, required: tuple[str, ...]) -> Iterator[Row]:
    """Yield the data rows of `path`; ConfigError if a required header is missing."""
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ConfigError(str(path), 1, "header", "file is empty; expected a header row")
        names = [h.strip().lower() for h in header]
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                raise ConfigError(str(path), 1, name, "column appears twice in the header")
            seen.add(name)
        for col in required:
            if col.lower() not in seen:
                raise ConfigError(str(path), 1, col,
                                  f"missing required column; header has: {', '.join(h for h in names if h)}")
        width = len(names)
        last = reader.line_num
        for fields in reader:
            start, last = last + 1, reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            err = None
            if len(fields) != width:
                err = f"{len(fields)} fields but the header has {width} (an unquoted comma?)"
            elif any("\x00" in f for f in fields):
                err = "contains a NUL byte"
            values = {names[i]: fields[i].strip() for i in range(min(width, len(fields))) if names[i]}
            yield Row(start, values, err)
    except csv.Error as exc:
        raise ConfigError(str(path), reader.line_num, "csv", str(exc)) from None
