"""Bounded Content-Encoding decoding.

Never produces more than `max_bytes` of output: a decompression bomb ends in TooLarge,
not in memory exhaustion on the proxy. Encodings are undone in reverse order of the header.
"""
from __future__ import annotations

import io
import zlib

import brotli
import zstandard

from classifiers.extract.result import ExtractError, TooLarge

# brotli 1.1 (pinned by mitmproxy 11) has no output limit, so input is fed in small
# chunks and the output checked after each: measured, one input byte can expand to 8 MiB
# at most, so a 32-byte step bounds the transient overshoot to a few tens of MiB.
_BROTLI_STEP = 32


def decode_body(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    if not encoding:
        return body
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            body = _zlib(body, 16 + zlib.MAX_WBITS, max_bytes)
        elif coding == "deflate":
            try:
                body = _zlib(body, zlib.MAX_WBITS, max_bytes)
            except ExtractError:
                body = _zlib(body, -zlib.MAX_WBITS, max_bytes)   # raw deflate, as some clients send it
        elif coding == "br":
            body = _brotli(body, max_bytes)
        elif coding == "zstd":
            body = _zstd(body, max_bytes)
        else:
            raise ExtractError("bad_encoding", coding[:40])
    return body


def _zlib(data: bytes, wbits: int, max_bytes: int) -> bytes:
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise ExtractError("bad_encoding", str(exc)) from None
    if len(out) > max_bytes or d.unconsumed_tail:
        raise TooLarge()
    if not d.eof:
        raise ExtractError("bad_encoding", "truncated stream")
    return out


def _brotli(data: bytes, max_bytes: int) -> bytes:
    d = brotli.Decompressor()
    parts: list[bytes] = []
    total = 0
    try:
        for i in range(0, len(data), _BROTLI_STEP):
            chunk = d.process(data[i:i + _BROTLI_STEP])
            total += len(chunk)
            if total > max_bytes:
                raise TooLarge()
            parts.append(chunk)
        finished = d.is_finished()
    except brotli.error as exc:
        raise ExtractError("bad_encoding", str(exc)) from None
    if not finished:
        raise ExtractError("bad_encoding", "truncated stream")
    return b"".join(parts)


def _zstd(data: bytes, max_bytes: int) -> bytes:
    try:
        # max_window_size bounds the decoder's own memory; read() bounds the output.
        dctx = zstandard.ZstdDecompressor(max_window_size=1 << 23)
        with dctx.stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
            out = reader.read(max_bytes + 1)
    except zstandard.ZstdError as exc:
        raise ExtractError("bad_encoding", str(exc)) from None
    if len(out) > max_bytes:
        raise TooLarge()
    if not out and data:
        raise ExtractError("bad_encoding", "empty zstd output")
    return out
