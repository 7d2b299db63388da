"""A streaming multipart reader: reads the text parts of an upload as it passes through, within
bounds, while the file bytes go on (issue 11: a multipart body over the proxy's stream limit used
to pass unread, so a 2 MB file part carried any caption past the filter).

`StreamingMultipart.feed(chunk)` takes the body as it arrives and returns the bytes that may be
sent on now; `finish()` is called at the end and returns the tail that was WITHHELD. What is
withheld is at least the closing delimiter (`\\r\\n--boundary--`) and everything after it, so a site
never receives a complete body before the caller has judged the text and released the tail; and
while parsing, the few bytes at the end of a chunk that might start a delimiter (resolved by the
next chunk). Memory: the unsent window (a chunk, a part header up to HEADER_CAP, an epilogue up to
EPILOGUE_CAP) plus the captured text (at most `text_cap`, each part at most `field_cap`, as the
buffered reader caps a padded form: classifiers/extract/scan.py).

A text part is a part without a filename whose Content-Type is not image/video/audio (what
Request.multipart_fields reads); every other part is a file: forwarded, never captured.
`ready` turns true whenever text parts have completed since the last `take_text()` and no more can
follow before a file part starts, or at the end: the caller starts its judgment then (text-first is
what browsers and apps send, so the judgment runs while the file streams).

Strict on purpose (a site's parser and ours must not read different parts): any of these is an
error (`error` holds a reason word; the caller holds a student's post as unreadable) and nothing
more is forwarded: no delimiter within PREAMBLE_CAP bytes, a delimiter line with anything but
whitespace after it, a part header over HEADER_CAP or with a line that is not `name: value` (folded
lines, a stray delimiter), a repeated Content-Disposition or Content-Type, more than `max_parts`
parts, text past `text_cap`, a text part that starts after `late_after` bytes of body (below), an
epilogue that is not blank or over EPILOGUE_CAP, or a body that ends without its closing delimiter.

A text part that starts after `late_after` bytes (the caller passes its stream limit) is an error,
"late_text": a buffered body of that size would have been read whole, so text placed beyond it is
the padding trick's shape (a file put first to push the caption out of reach), and legitimate forms
send their text fields before the file.
"""
from __future__ import annotations

from classifiers.extract.multipart import MAX_PARTS, Part, _params, boundary_of
from classifiers.extract.result import ExtractError
from classifiers.extract.scan import _cap_utf8, encode_part

FIELD_CAP = 64 * 1024        # bytes kept of each text part (scan.FIELD_CAP)
HEADER_CAP = 8 * 1024        # one part's header block
PREAMBLE_CAP = 8 * 1024      # bytes before the first delimiter
EPILOGUE_CAP = 1024          # bytes after the closing delimiter (clients send "\r\n"; it must be blank)
PADDING_CAP = 64             # transport padding (spaces, tabs) after a delimiter
_MEDIA = ("image/", "video/", "audio/")

# states
_PREAMBLE, _AFTER_DELIM, _HEADERS, _BODY, _CLOSED, _FAILED = range(6)


class StreamingMultipart:
    def __init__(self, content_type: str, *, text_cap: int = 1_000_000, field_cap: int = FIELD_CAP,
                 max_parts: int = MAX_PARTS, late_after: int | None = None) -> None:
        self.error: str | None = None
        self.text_parts: list[Part] = []   # completed text parts, capped
        self.ready = False                 # text completed since take_text() (module doc)
        self.parts = 0
        self.text_size = 0                 # encoded size of the captured text (encode_text)
        self.text_cap, self.field_cap, self.max_parts, self.late_after = text_cap, field_cap, max_parts, late_after
        self._buf = bytearray()            # received, not yet sent on (or withheld)
        self._base = 0                     # body offset of _buf[0]
        self._i = 0                        # parse position in _buf
        self._mark = 0                     # _AFTER_DELIM: where the delimiter starts (maybe the closing one)
        self._state = _PREAMBLE
        self._capture: bytearray | None = None   # the current text part's data (None: a file part)
        self._part: tuple[str, str | None, str | None] | None = None
        self._unjudged = False             # a text part completed since take_text()
        try:
            self.delim = b"--" + boundary_of(content_type).encode("latin-1", "replace")
        except ExtractError as exc:
            self._fail(exc.reason)
            self.delim = b"--"
        self._crlf_delim = b"\r\n" + self.delim

    @property
    def closed(self) -> bool:
        """The closing delimiter was seen."""
        return self._state == _CLOSED

    def refuse(self, reason: str) -> None:
        """The caller knows the body cannot be read as it passes (e.g. compressed on the wire)."""
        self._fail(reason)

    def take_text(self) -> list[Part]:
        """The text parts so far; clears `ready`."""
        self.ready = self._unjudged = False
        return list(self.text_parts)

    def feed(self, chunk: bytes) -> bytes:
        """The bytes that may be sent on now (module doc); b"" once failed."""
        if self._state == _FAILED:
            return b""
        self._buf += chunk
        try:
            self._parse()
        except ExtractError as exc:
            self._fail(exc.reason)
            return b""
        safe = self._safe()
        if safe <= 0:
            return b""
        out = bytes(self._buf[:safe])
        del self._buf[:safe]
        self._base += safe
        self._i -= safe
        self._mark -= safe
        return out

    def finish(self) -> bytes:
        """The end of the body: the withheld tail (b"" when failed; `error` says why)."""
        if self._state == _FAILED:
            return b""
        if self._state != _CLOSED:
            self._fail("truncated_multipart")
            return b""
        tail = bytes(self._buf)
        self._buf.clear()
        if tail[len(self._crlf_delim if tail.startswith(b"\r\n") else self.delim) + 2:].strip(b" \t\r\n"):
            # the epilogue must be empty: a site's parser that read parts after the closing
            # delimiter would read text we did not (module doc: strict)
            self._fail("malformed_multipart")
            return b""
        if self._unjudged:
            self.ready = True
        return tail

    # ---------------------------------------------------------------- internals

    def _fail(self, reason: str) -> None:
        self.error = self.error or reason
        self._state = _FAILED
        self._buf = bytearray()
        self._capture = None

    def _safe(self) -> int:
        """How much of _buf is resolved and not part of a (possible) closing delimiter."""
        s = self._state
        if s == _PREAMBLE:
            return max(0, len(self._buf) - (len(self.delim) - 1))
        if s == _AFTER_DELIM or s == _CLOSED:
            return self._mark
        return self._i       # _HEADERS: the part's start; _BODY: the data resolved so far

    def _parse(self) -> None:
        buf = self._buf
        while True:
            s = self._state
            if s == _PREAMBLE:
                j = buf.find(self.delim)
                if j < 0:
                    if self._base + len(buf) > PREAMBLE_CAP + len(self.delim):
                        raise ExtractError("truncated_multipart", "no boundary in body")
                    return
                if self._base + j > PREAMBLE_CAP:
                    raise ExtractError("truncated_multipart", "no boundary in body")
                self._mark, self._i, self._state = j, j + len(self.delim), _AFTER_DELIM
            elif s == _AFTER_DELIM:
                i = self._i
                if len(buf) - i < 2:
                    return
                if buf[i:i + 2] == b"--":
                    self._state = _CLOSED          # withheld from _mark on, whatever follows
                    self._i = i + 2
                    continue
                k = buf.find(b"\r\n", i, i + PADDING_CAP + 2)
                if k < 0:
                    if len(buf) - i >= PADDING_CAP + 2:
                        raise ExtractError("malformed_multipart", "delimiter line")
                    return
                if buf[i:k].strip(b" \t"):
                    raise ExtractError("malformed_multipart", "delimiter line")
                self._i = self._mark = k + 2       # a separator, not the end: resolved
                self._state = _HEADERS
            elif s == _HEADERS:
                i = self._i
                if buf[i:i + 2] == b"\r\n":
                    head, start = b"", i + 2        # a part with no header lines
                else:
                    k = buf.find(b"\r\n\r\n", i, i + HEADER_CAP + 4)
                    if k < 0:
                        if len(buf) - i >= HEADER_CAP + 4:
                            raise ExtractError("malformed_multipart", "part header too large")
                        return
                    head, start = bytes(buf[i:k]), k + 4
                self._begin_part(head, self._base + i)
                self._i, self._state = start, _BODY
            elif s == _BODY:
                i = self._i
                j = buf.find(self._crlf_delim, i)
                end = j if j >= 0 else max(i, len(buf) - (len(self._crlf_delim) - 1))
                if self._capture is not None and end > i:
                    room = self.field_cap - len(self._capture)
                    if room > 0:
                        self._capture += buf[i:min(end, i + room)]
                self._i = end
                if j < 0:
                    return
                self._end_part()
                self._mark, self._i, self._state = j, j + len(self._crlf_delim), _AFTER_DELIM
            elif s == _CLOSED:
                if len(buf) - self._mark > EPILOGUE_CAP + len(self._crlf_delim) + 2:
                    raise ExtractError("malformed_multipart", "epilogue too large")
                return
            else:
                return

    def _begin_part(self, head: bytes, offset: int) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise ExtractError("too_many_parts")
        name, filename, ctype, seen = "", None, None, set()
        for line in head.decode("utf-8", "replace").split("\r\n") if head else ():
            key, colon, value = line.partition(":")
            key = key.strip().lower()
            if not colon or not key or key != line.partition(":")[0].lower() or " " in key or "\t" in key:
                raise ExtractError("malformed_multipart", "part header line")
            if key in ("content-disposition", "content-type"):
                if key in seen:
                    raise ExtractError("malformed_multipart", f"repeated {key}")
                seen.add(key)
            if key == "content-disposition":
                params = _params(value)
                name = params.get("name", "")
                filename = params.get("filename", params.get("filename*"))
            elif key == "content-type":
                ctype = value.strip()
        is_text = filename is None and not (ctype or "").lower().startswith(_MEDIA)
        if is_text and self.late_after is not None and offset > self.late_after:
            raise ExtractError("late_text", "a text part after the file data")
        if not is_text and self._unjudged:
            self.ready = True                   # the text before this file is complete: judge it now
        self._part = (name, filename, ctype)
        self._capture = bytearray() if is_text else None

    def _end_part(self) -> None:
        if self._capture is None:
            return
        name, filename, ctype = self._part
        part = Part(name, filename, ctype, _cap_utf8(bytes(self._capture), self.field_cap))
        self._capture = None
        self.text_size += len(encode_part(self.delim, part))
        if self.text_size + len(self.delim) + 4 > self.text_cap:
            raise ExtractError("too_much_text", "multipart text parts over the limit even when capped")
        self.text_parts.append(part)
        self._unjudged = True


def encode_text(delim: bytes, parts: list[Part]) -> bytes:
    """The captured text parts as a small multipart body with the same boundary: what a classifier
    worker reads for a streamed upload (the file parts left out, as scan.compact_multipart leaves
    out files that do not fit)."""
    return b"".join(encode_part(delim, p) for p in parts) + delim + b"--\r\n"


