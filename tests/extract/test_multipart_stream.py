"""The streaming multipart reader (classifiers/extract/multipart_stream.py): what it forwards, what
it withholds, what it captures, and what it refuses, as a table. The fuzz test with chunk
boundaries at every position is in tests/addons/test_fuzz.py."""
from __future__ import annotations

import pytest

from classifiers.extract.multipart import parse_multipart
from classifiers.extract.multipart_stream import HEADER_CAP, StreamingMultipart, encode_text

B = "Bnd42"
CT = f"multipart/form-data; boundary={B}"


def text(name: str, value: str) -> bytes:
    return f'--{B}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def file(data: bytes, ctype: str = "image/jpeg", filename: str | None = "a.jpg", name: str = "f") -> bytes:
    disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    return f"--{B}\r\nContent-Disposition: {disp}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"


CLOSE = f"--{B}--\r\n".encode()


def run(body: bytes, step: int, ct: str = CT, **kw) -> tuple[StreamingMultipart, bytes, bytes, list[bool]]:
    r = StreamingMultipart(ct, **kw)
    out, readiness = b"", []
    for i in range(0, len(body), step):
        out += r.feed(body[i:i + step])
        readiness.append(r.ready)
    return r, out, r.finish(), readiness


READABLE = [
    ("caption_then_photo", text("caption", "hello") + file(b"\xff\xd8" * 5000) + CLOSE, {"caption": "hello"}),
    ("two_texts_then_video", text("a", "one") + text("b", "two") + file(b"v" * 9000, "video/mp4") + CLOSE,
     {"a": "one", "b": "two"}),
    ("photo_only", file(b"x" * 7000) + CLOSE, {}),
    ("empty_form", CLOSE, {}),
    ("preamble_and_epilogue_blank", b"preamble\r\n" + text("t", "hi") + CLOSE[:-2] + b"\r\n  \r\n", {"t": "hi"}),
    ("media_part_without_filename_is_a_file", text("t", "x") + file(b"y" * 300, "video/mp4", None) + CLOSE,
     {"t": "x"}),
    ("part_without_headers", f"--{B}\r\n\r\nbare\r\n".encode() + CLOSE, {"": "bare"}),
    ("padding_after_delimiter", f"--{B}  \r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n".encode() + CLOSE,
     {"p": "v"}),
    ("boundary_like_bytes_inside_a_file", text("t", "ok") + file(f"\r\n--{B}X not a delimiter".encode() * 3) + CLOSE,
     None),   # "\r\n--B" followed by "X" is not a delimiter line: malformed (strict), checked below
]


@pytest.mark.parametrize("step", [1, 2, 5, 64, 4096, 1 << 20])
@pytest.mark.parametrize("name,body,texts", [r for r in READABLE if r[2] is not None], ids=lambda x: x if isinstance(x, str) else "")
def test_forwarded_plus_tail_is_the_body_and_the_tail_holds_the_closing_delimiter(name, body, texts, step):
    r, out, tail, _ = run(body, step)
    assert r.error is None, r.error
    assert out + tail == body
    assert tail.lstrip(b"\r\n").startswith(f"--{B}--".encode())        # the closing delimiter is withheld
    assert {p.name: p.data.decode() for p in r.take_text()} == texts
    assert r.closed


def test_the_captured_text_reads_like_the_buffered_reader():
    body = text("caption", "a caption") + text("payload_json", '{"content": "hi"}') + file(b"z" * 3000) + CLOSE
    r, _, _, _ = run(body, 7)
    small = encode_text(r.delim, r.take_text())
    assert [(p.name, p.data) for p in parse_multipart(small, CT)] == \
        [(p.name, p.data) for p in parse_multipart(body, CT) if p.filename is None]


def test_judgment_is_ready_when_the_file_starts_not_at_the_end():
    body = text("caption", "x") + file(b"q" * 50_000) + CLOSE
    r, _, _, readiness = run(body, 1000)
    first = readiness.index(True)
    assert first < 5, "ready once the file part's header is read, while the file still streams"


def test_each_text_part_is_capped_and_the_total_is_bounded():
    r, out, tail, _ = run(text("big", "a" * 100_000) + CLOSE, 4096, field_cap=1000)
    assert r.error is None and len(r.take_text()[0].data) == 1000
    r, *_ = run(text("a", "x" * 600) + text("b", "y" * 600) + CLOSE, 64, text_cap=1000)
    assert r.error == "too_much_text"


UNREADABLE = [
    ("no_boundary_parameter", text("t", "x") + CLOSE, "multipart/form-data", "multipart_no_boundary"),
    ("no_delimiter_in_body", b"just text " * 2000, CT, "truncated_multipart"),
    ("no_closing_delimiter", text("t", "x") + file(b"y" * 100), CT, "truncated_multipart"),
    ("header_over_the_bound", f"--{B}\r\nX-Pad: {'p' * (HEADER_CAP + 10)}\r\n\r\nv\r\n".encode() + CLOSE, CT,
     "malformed_multipart"),
    ("folded_header_line", f"--{B}\r\nContent-Disposition: form-data;\r\n name=\"t\"\r\n\r\nv\r\n".encode() + CLOSE, CT,
     "malformed_multipart"),
    ("stray_delimiter_in_header", f"--{B}\r\nContent-Type: image/png\r\n--{B}\r\n\r\nv\r\n".encode() + CLOSE, CT,
     "malformed_multipart"),
    ("repeated_disposition", f'--{B}\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n'
                             f'Content-Disposition: form-data; name="t"\r\n\r\nv\r\n'.encode() + CLOSE, CT,
     "malformed_multipart"),
    ("junk_after_delimiter", f"--{B}junk\r\n\r\nv\r\n".encode() + CLOSE, CT, "malformed_multipart"),
    ("text_after_the_closing_delimiter", text("t", "x") + CLOSE + text("t", "hidden") + CLOSE, CT,
     "malformed_multipart"),
    ("too_many_parts", b"".join(text(f"f{i}", "x") for i in range(201)) + CLOSE, CT, "too_many_parts"),
    ("late_text", file(b"y" * 5000) + text("t", "late") + CLOSE, CT, "late_text"),
]


@pytest.mark.parametrize("step", [1, 3, 100, 1 << 20])
@pytest.mark.parametrize("name,body,ct,reason", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_what_cannot_be_read_is_an_error_and_the_rest_is_not_sent(name, body, ct, reason, step):
    r, out, tail, _ = run(body, step, ct, late_after=4000 if reason == "late_text" else None)
    assert r.error == reason
    assert tail == b"" and body.startswith(out) and len(out) < len(body)
    assert not out.endswith(CLOSE)


def test_a_delimiter_split_across_chunks_is_never_sent_before_it_is_resolved():
    body = text("t", "x") + CLOSE
    r = StreamingMultipart(CT)
    cut = body.index(b"\r\n--" + B.encode() + b"--")
    sent = r.feed(body[:cut + 5])
    assert body.startswith(sent) and len(sent) <= cut   # "\r\n--Bn" held back: it may be the closing one
    more = r.feed(body[cut + 5:])
    assert sent + more == body[:cut]
    assert r.finish() == body[cut:]


def test_memory_is_the_window_not_the_body():
    r = StreamingMultipart(CT)
    r.feed(text("t", "x") + file(b"", "image/jpeg")[:-2])
    for _ in range(200):
        r.feed(b"\x00" * 65536)
        assert len(r._buf) < 100
