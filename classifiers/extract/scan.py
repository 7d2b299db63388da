"""Reading a padded post within bounds (issue 11: "posts that can't be read pass unjudged").

A student can hide a threat by padding the post past the extraction limit, e.g.
`{"text": "<threat>", "pad": "<2 MB of x>"}`, a form with a huge padding field, or the padding
placed before the text. Holding every such post as unreadable stops the post but loses what it
said (no incident, no threat label). The rule, decided here: a JSON or URL-encoded body over the
limit is scanned once, field by field, and rewritten as a compact body of the SAME shape (same
keys, same nesting) in which every string value keeps only its first FIELD_CAP bytes and every
number its first few digits; the rest of each value is skipped by position, never copied. The
platform extractors then read the compact body exactly as they read a small one, and the post is
judged by what it says.

Bounds: the scan is one left-to-right pass over the (already bounded, decompressed) body with
C-level regexes (possessive quantifiers: no backtracking), so time is linear in the body; memory
is the body plus the compact output, which never exceeds `max_bytes`. A body whose capped fields
still do not fit (or that has more than MAX_TOKENS tokens), nesting deeper than MAX_DEPTH, a string
never closed, or a byte that is not JSON is "cannot be read": ExtractError, which the proxy holds for students (fail
closed, agent.incidents.unreadable_hold). Other body types (text, binary) are not compacted:
TooLarge, as before.

Multipart (`compact_multipart`): a form with a file part is how a caption travels with a photo, and
a file part is also how a student can push a text field past the limit. Past the limit the parts
are read (the strict, bounded reader: at most 200 parts, the closing boundary required), every
text part (no filename) kept with its first FIELD_CAP bytes, then file parts kept whole in order
while they fit; a file part that does not fit is left out (its text, if any, is not what the
classifiers read; an attachment left out has no image hash in the incident). Text parts that do
not fit even capped, or a body the reader refuses, cannot be read: ExtractError (held for
students). Only what the proxy buffered is read: a body streamed past crossingguard_stream_bodies
never reaches this (proxy_addons/bodies.py).
"""
from __future__ import annotations

import re

from classifiers.extract.multipart import boundary_of, parse_multipart
from classifiers.extract.result import ExtractError, TooLarge

FIELD_CAP = 64 * 1024        # bytes kept of each string value (a post's text is far shorter)
KEY_CAP = 1024               # bytes kept of each form key
NUMBER_CAP = 64              # a longer number is padding: kept as 0
MAX_DEPTH = 256              # deeper nesting is not a post (the JSON parser would refuse it anyway)
MAX_TOKENS = 200_000         # bounds the work per body (each token is one step of the Python loop)

_WS = re.compile(rb"[ \t\r\n]*+")
_STRING_REST = re.compile(rb'(?:[^"\\]++|\\.)*+"', re.S)       # after the opening quote, up to the closing one
_NUMBER = re.compile(rb"-?[0-9][0-9.eE+\-]*+")
_LITERAL = re.compile(rb"true|false|null")
_PARTIAL_PERCENT = re.compile(rb"%[0-9a-fA-F]?$")


def compact_kind(body: bytes, mime: str) -> str | None:
    """json | form | None (not compactable), like Request.kind for a body too large to parse whole."""
    head = body[:64].lstrip()[:1]
    if "form-urlencoded" in mime:
        return "form"
    declared_json = mime.endswith("json")
    if head in (b"{", b"["):
        return "json" if declared_json or mime in ("", "text/plain", "application/octet-stream") else None
    if (declared_json or mime in ("", "text/plain")) and b"=" in body[:KEY_CAP + 1]:
        return "form"                # a form labelled JSON (or untyped) is read as a form
    return None


def compact(body: bytes, mime: str, max_bytes: int) -> bytes:
    """The body rewritten within `max_bytes` (module doc). Raises TooLarge for a body type that is
    not compacted and ExtractError for a body that cannot be read."""
    kind = compact_kind(body, mime)
    if kind == "json":
        return compact_json(body, max_bytes)
    if kind == "form":
        return compact_form(body, max_bytes)
    raise TooLarge()


def encode_part(delim: bytes, part, data: bytes | None = None) -> bytes:
    """One multipart part as the compaction writes it (its name, filename and type kept), with
    `data` in place of the part's own bytes when given (a capped field). The streaming reader
    (multipart_stream.py) writes its text parts the same way."""
    disposition = f'form-data; name="{_quote(part.name)}"'
    if part.filename is not None:
        disposition += f'; filename="{_quote(part.filename)}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if part.content_type:
        head += f"Content-Type: {part.content_type}\r\n"
    return delim + b"\r\n" + head.encode("utf-8", "replace") + b"\r\n" + (part.data if data is None else data) + b"\r\n"


def compact_multipart(body: bytes, content_type: str, max_bytes: int) -> bytes:
    """A multipart body rewritten within `max_bytes` with the same boundary (module doc); raises
    ExtractError when its text cannot be read within the limit."""
    delim = b"--" + boundary_of(content_type).encode("latin-1", "replace")
    parts = parse_multipart(body, content_type)

    def encode(part, data: bytes) -> bytes:
        return encode_part(delim, part, data)

    closing = delim + b"--\r\n"
    out = [encode(p, _cap_utf8(p.data, FIELD_CAP)) if p.filename is None else None for p in parts]
    size = len(closing) + sum(len(o) for o in out if o is not None)
    if size > max_bytes:
        raise ExtractError("too_much_text", "multipart text parts over the limit even when capped")
    for i, p in enumerate(parts):
        if p.filename is not None:
            encoded = encode(p, p.data)
            if size + len(encoded) <= max_bytes:
                out[i] = encoded
                size += len(encoded)
    return b"".join(o for o in out if o is not None) + closing


def _quote(value: str) -> str:
    return value.replace('"', '\\"').replace("\r", " ").replace("\n", " ")   # as multipart._params reads it


def _cap_utf8(data: bytes, cap: int) -> bytes:
    """The first `cap` bytes, not cutting a UTF-8 character in two."""
    if len(data) <= cap:
        return data
    cut = data[:cap]
    for back in range(1, 4):                    # drop a lead byte whose character was cut off
        if len(cut) >= back and cut[-back] & 0xC0 == 0xC0:
            need = 2 if cut[-back] < 0xE0 else 3 if cut[-back] < 0xF0 else 4
            return cut[:-back] if back < need else cut
        if cut[-back] & 0xC0 != 0x80:
            break
    return cut


def _cap_string(raw: bytes, cap: int) -> bytes:
    """The first `cap` bytes of a JSON string's raw (still escaped) content, cut on a boundary:
    never inside an escape (`\\`, `\\uXXXX`) nor inside a UTF-8 character."""
    if len(raw) <= cap:
        return raw
    cut = raw[:cap]
    # only the tail is looked at (a regex search would be quadratic on a long run of backslashes)
    end = len(cut)
    hexes = len(cut[-3:]) - len(cut[-3:].rstrip(b"0123456789abcdefABCDEF"))
    if cut[:end - hexes].endswith(b"u"):
        end -= hexes + 1                         # a possible unfinished \\uXXXX
    slashes = end - len(cut[:end].rstrip(b"\\"))
    if slashes % 2:                              # the last backslash opens an unfinished escape
        cut = cut[:end - 1]
    return cut.decode("utf-8", "ignore").encode("utf-8")   # drops a split trailing character


def compact_json(body: bytes, max_bytes: int) -> bytes:
    out = bytearray()                            # the output only: never more than max_bytes
    tokens = 0
    stack: list[int] = []                        # b"{"[0] or b"["[0] per open container
    n, i = len(body), 0
    while True:
        i = _WS.match(body, i).end()
        if i >= n:
            break
        c = body[i]
        if c == 0x22:                            # a string: a key or a value
            m = _STRING_REST.match(body, i + 1)
            if m is None:
                raise ExtractError("malformed_json", "unterminated string")
            raw = _cap_string(body[i + 1:min(m.end() - 1, i + 1 + FIELD_CAP + 8)], FIELD_CAP)
            token = b'"' + raw + b'"'
            i = m.end()
        elif c in b"{[":
            if len(stack) >= MAX_DEPTH:
                raise ExtractError("malformed_json", "nested too deeply")
            token = bytes((c,))
            stack.append(c)
            i += 1
        elif c in b"}]":
            if not stack or stack[-1] != (0x7B if c == 0x7D else 0x5B):
                raise ExtractError("malformed_json", "unbalanced brackets")
            token = bytes((c,))
            stack.pop()
            i += 1
        elif c in b",:":
            token = bytes((c,))
            i += 1
        else:
            m = _NUMBER.match(body, i) or _LITERAL.match(body, i)
            if m is None:
                raise ExtractError("malformed_json", f"unexpected byte at {i}")
            token = m.group(0) if m.end() - m.start() <= NUMBER_CAP else b"0"
            i = m.end()
        tokens += 1
        if len(out) + len(token) > max_bytes or tokens > MAX_TOKENS:
            # Spread over too many fields to read within bounds: fail closed rather than read a
            # prefix, or padding made of many small fields would hide the text after it.
            raise ExtractError("too_many_fields")
        out += token
    return bytes(out)     # an unclosed bracket stays unclosed: the JSON parser reports it


def compact_form(body: bytes, max_bytes: int) -> bytes:
    """`k=v&k2=v2...` with each value's first FIELD_CAP bytes (never cutting a %XX escape)."""
    out = bytearray()
    pairs = 0
    n, start = len(body), 0
    while start <= n:
        end = body.find(b"&", start)
        if end < 0:
            end = n
        eq = body.find(b"=", start, end)
        if eq < 0:
            key, value = body[start:min(end, start + KEY_CAP)], b""
        else:
            key = body[start:min(eq, start + KEY_CAP)]
            value = body[eq + 1:min(end, eq + 1 + FIELD_CAP)]
            m = _PARTIAL_PERCENT.search(value)
            if m and end > eq + 1 + FIELD_CAP:
                value = value[:m.start()]
        m = _PARTIAL_PERCENT.search(key)
        if m and (eq if eq >= 0 else end) - start > KEY_CAP:
            key = key[:m.start()]
        pair = key + b"=" + value if eq >= 0 else key
        if pair:
            pairs += 1
            if len(out) + len(pair) + 1 > max_bytes or pairs > MAX_TOKENS:
                raise ExtractError("too_many_fields")     # fail closed, as for JSON
            if out:
                out += b"&"
            out += pair
        start = end + 1
    return bytes(out)
