"""A strict, bounded multipart/form-data reader.

Strict on purpose: a body without its closing boundary is a truncated upload, and the
caller reports it as an error instead of guessing at half a part.
"""
from __future__ import annotations

from dataclasses import dataclass

from classifiers.extract.result import ExtractError

MAX_PARTS = 200


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    def text(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise ExtractError("undecodable", f"multipart part {self.name!r}") from None


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary":
            value = value.strip().strip('"')
            if value:
                return value
    raise ExtractError("multipart_no_boundary")


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    delim = b"--" + boundary_of(content_type).encode("latin-1", "replace")
    start = body.find(delim)
    if start < 0:
        raise ExtractError("truncated_multipart", "no boundary in body")
    parts: list[Part] = []
    pos = start + len(delim)
    while True:
        if body.startswith(b"--", pos):
            return parts                     # closing delimiter
        if len(parts) >= MAX_PARTS:
            raise ExtractError("too_many_parts")
        nxt = body.find(b"\r\n" + delim, pos)
        if nxt < 0:
            raise ExtractError("truncated_multipart", "no closing boundary")
        parts.append(_part(body[pos:nxt]))
        pos = nxt + 2 + len(delim)


def _part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):
        raw = raw[2:]
    head, sep, data = raw.partition(b"\r\n\r\n")
    if not sep:
        if raw.startswith(b"\r\n"):          # part with no headers
            head, data = b"", raw[2:]
        else:
            raise ExtractError("truncated_multipart", "part without header end")
    name, filename, ctype = "", None, None
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-disposition":
            params = _params(value)
            name = params.get("name", "")
            filename = params.get("filename")
        elif key == "content-type":
            ctype = value.strip()
    return Part(name, filename, ctype, data)


def _params(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(";")[1:]:
        key, _, val = item.strip().partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"')
        out[key.strip().lower()] = val
    return out
