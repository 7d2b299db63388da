"""The bounded scanner that reads padded posts (issue 11, classifiers/extract/scan.py): each value
capped, the shape kept, unreadable bodies still errors, and time/memory bounded on hostile input."""
from __future__ import annotations

import gzip
import json
import time
import tracemalloc

import pytest

from classifiers.extract import extract_request, read_within_limit
from classifiers.extract.result import ExtractError, TooLarge
from classifiers.extract.multipart import parse_multipart
from classifiers.extract.scan import FIELD_CAP, compact, compact_form, compact_json, compact_multipart

LIMIT = 1_000_000
YT = "https://www.youtube.com/youtubei/v1/comment/create_comment"
THREAT = "I will shoot up the school tomorrow"
PAD = "x" * 2_000_000
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}

READ = [   # (name, body, headers, the commentText the extractor must see)
    ("json_pad_after", {"commentText": THREAT, "pad": PAD}, JSON, THREAT),
    ("json_pad_before", {"pad": PAD, "commentText": THREAT}, JSON, THREAT),
    ("json_pad_inside_nested", {"ctx": {"client": {"pad": PAD, "n": [1, 2.5e3, True, None]}},
                                "commentText": THREAT}, JSON, THREAT),
    ("json_pad_of_escaped_quotes", {"pad": '\\"' * 700_000, "commentText": THREAT}, JSON, THREAT),
    ("json_escapes_in_the_text", {"pad": PAD, "commentText": 'he said "I will \\ hurt" \u00e9\U0001F52B'},
     JSON, 'he said "I will \\ hurt" \u00e9\U0001F52B'),
    ("json_huge_number", '{"pad": ' + "9" * 1_500_000 + ', "commentText": "' + THREAT + '"}', JSON, THREAT),
    ("form_pad_after", f"commentText={THREAT.replace(' ', '+')}&pad={PAD}", FORM, THREAT),
    ("form_pad_before", f"pad={PAD}&commentText={THREAT.replace(' ', '%20')}", FORM, THREAT),
    ("form_labelled_json", f"pad={PAD}&commentText={THREAT.replace(' ', '+')}", JSON, THREAT),
]


def _bytes(body) -> bytes:
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


@pytest.mark.parametrize("name,body,headers,text", READ, ids=[r[0] for r in READ])
def test_a_padded_post_is_read_within_bounds(name, body, headers, text):
    raw = _bytes(body)
    assert len(raw) > LIMIT
    result = extract_request("POST", YT, headers, raw, platform="youtube", max_bytes=LIMIT)
    assert result.error is None and result.skipped is None, result
    assert [p.text for p in result.posts] == [text]


def test_gzip_small_on_the_wire_is_read():
    raw = gzip.compress(_bytes({"pad": PAD, "commentText": THREAT}))
    assert len(raw) < 10_000
    result = extract_request("POST", YT, {**JSON, "content-encoding": "gzip"}, raw, platform="youtube")
    assert [p.text for p in result.posts] == [THREAT]


def test_each_value_is_capped_and_the_shape_kept():
    out = compact_json(_bytes({"a": {"b": ["y" * 100_000, 7]}, "t": "hi"}), LIMIT)
    data = json.loads(out)
    assert data["a"]["b"][0] == "y" * FIELD_CAP and data["a"]["b"][1] == 7 and data["t"] == "hi"
    assert len(out) < FIELD_CAP + 100


@pytest.mark.parametrize("tail", ["\\", "\\\\", "\\u00", "\\u00e9", "\u00e9", "\U0001F52B", "\\ud83d\\udd2b"])
def test_a_cap_never_cuts_an_escape_or_a_character(tail):
    # put every possible tail across the cap boundary
    for shift in range(0, 13):
        value = "a" * (FIELD_CAP - shift) + tail * 4 + "z" * 10
        out = compact_json(json.dumps({"v": value}, ensure_ascii=False).encode(), LIMIT)
        kept = json.loads(out)["v"]                 # still valid JSON
        assert value.startswith(kept) or value.startswith(kept.encode("utf-16", "surrogatepass")
                                                          .decode("utf-16", "replace")[:-1])
        assert len(kept.encode("utf-8", "surrogatepass")) <= FIELD_CAP


def test_form_cap_never_cuts_a_percent_escape():
    for shift in range(0, 4):
        body = b"t=" + b"a" * (FIELD_CAP - shift) + b"%41" * 5
        out = compact_form(body, LIMIT)
        assert not out.endswith((b"%", b"%4"))
        assert len(out) <= FIELD_CAP + 2


UNREADABLE = [
    ("truncated_in_a_padded_string", b'{"commentText": "' + THREAT.encode() + b'", "pad": "' + b"x" * 1_500_000, JSON,
     "malformed_json"),
    ("truncated_after_the_padding", b'{"pad": "' + b"x" * 1_500_000 + b'", "commentText": "hi', JSON, "malformed_json"),
    ("unclosed_object", b'{"pad": "' + b"x" * 1_500_000 + b'", "commentText": "hi"', JSON, "malformed_json"),
    ("adversarial_nesting", b"[" * 1_500_000 + b"]" * 1_500_000, JSON, "malformed_json"),
    ("not_json_at_all", b'{"pad": ' + b"@" * 1_500_000 + b"}", JSON, "malformed_json"),
    ("padding_of_many_small_fields", json.dumps({"commentText": THREAT, "p": [1] * 600_000}).encode(), JSON,
     "too_many_fields"),
    ("many_capped_fields", json.dumps({f"p{i}": "x" * 100_000 for i in range(20)}).encode(), JSON, "too_many_fields"),
    ("many_form_fields", b"&".join([b"a=1"] * 400_000), FORM, "too_many_fields"),
]


@pytest.mark.parametrize("name,body,headers,reason", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_what_cannot_be_read_is_still_an_error(name, body, headers, reason):
    assert len(body) > LIMIT
    result = extract_request("POST", YT, headers, body, platform="youtube", max_bytes=LIMIT)
    assert result.posts == [] and result.error == reason, result


@pytest.mark.parametrize("mime,body", [("image/jpeg", b"\xff\xd8" + b"x" * 1_200_000),
                                       ("text/plain", b"just words " * 120_000)])
def test_other_large_bodies_are_not_compacted(mime, body):
    with pytest.raises(TooLarge):
        read_within_limit(body, {"content-type": mime}, LIMIT)


def test_decoded_beyond_the_scan_bound_is_too_large():
    raw = gzip.compress(_bytes({"commentText": THREAT, "pad": "x" * 5_000_000}))
    result = extract_request("POST", YT, {**JSON, "content-encoding": "gzip"}, raw, platform="youtube")
    assert result.skipped == "too_large" and result.posts == []


def test_compacted_body_never_exceeds_the_limit():
    for body in (_bytes({f"k{i}": "v" * 70_000 for i in range(14)}), _bytes({"a": PAD}),
                 f"a={PAD[:1_500_000]}&b={PAD[:1_500_000]}".encode()):
        out = read_within_limit(body, JSON, LIMIT)
        assert len(out) <= LIMIT


HOSTILE = [
    b"[" * 4_000_000,
    b'["' + b"\\\\" * 2_000_000 + b'"]',
    b'{"a":' + b'"\\"' * 1_300_000,
    b"[" + b"1," * 2_000_000 + b"1]",
    b'{"a":"' + b"\\u00" * 1_000_000,
    b"a=" + b"%" * 4_000_000,
    b"=&" * 2_000_000,
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_are_bounded_in_time_and_memory(body):
    def run():
        try:
            compact(body, "application/json", LIMIT)
        except (ExtractError, TooLarge):
            pass
    started = time.process_time()
    run()
    cpu = time.process_time() - started
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # generous bounds (shared 2-core machine): quadratic behaviour would take minutes
    assert cpu < 3, cpu
    assert peak < 3 * LIMIT, peak      # the output (at most LIMIT) and a capped value or two, never a body copy


# -- property: compaction keeps the shape and every value's prefix ------------------------------
from hypothesis import given, settings, strategies as st   # noqa: E402

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.booleans())
def test_compaction_round_trips_small_values(value, ascii_only):
    doc = {"data": value, "pad": "p" * 100}
    raw = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        out = compact_json(raw, len(raw) + 10)
    except ExtractError:
        pytest.fail("a well-formed body was refused")
    assert json.loads(out) == json.loads(raw)       # values under the cap come back unchanged


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30), st.integers(0, 40))
def test_a_capped_value_is_a_prefix(chunk, extra):
    value = (chunk * (FIELD_CAP // max(len(chunk.encode("utf-8", "surrogatepass")), 1) + extra + 2))
    raw = json.dumps({"v": value}).encode()
    kept = json.loads(compact_json(raw, len(raw)))["v"]
    assert len(kept.encode("utf-8", "surrogatepass")) <= FIELD_CAP
    assert value.startswith(kept[:-1])             # a cut surrogate pair may leave its half, never more


# Multipart past the limit (scan.compact_multipart): a file part no longer carries a text field
# past the classifiers unread.
MP_TYPE = "multipart/form-data; boundary=cgB0undary"


def multipart(parts) -> bytes:
    """parts: (name, filename or None, content type or None, data)."""
    out = b""
    for name, filename, ctype, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += b"--cgB0undary\r\nContent-Disposition: " + disposition.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + b"--cgB0undary--\r\n"


PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 6_000          # 1.5 MB "JPEG"


@pytest.mark.parametrize("name,parts", [
    ("text_then_a_big_file", [("commentText", None, None, THREAT.encode()), ("f", "a.jpg", "image/jpeg", PHOTO)]),
    ("a_big_file_then_text", [("f", "a.jpg", "image/jpeg", PHOTO), ("commentText", None, None, THREAT.encode())]),
    ("a_padded_text_part", [("commentText", None, "text/plain", THREAT.encode() + b" " + b"x" * 1_500_000)]),
])
def test_a_large_multipart_post_is_read_within_bounds(name, parts):
    body = multipart(parts)
    assert len(body) > LIMIT
    out = read_within_limit(body, {"content-type": MP_TYPE}, LIMIT)
    assert len(out) <= LIMIT
    fields = {p.name: p.data for p in parse_multipart(out, MP_TYPE)}
    assert fields["commentText"].startswith(THREAT.encode()) and len(fields["commentText"]) <= FIELD_CAP
    result = extract_request("POST", YT, {"content-type": MP_TYPE}, body, platform="youtube", max_bytes=LIMIT)
    assert result.error is None and result.skipped is None, result
    assert any(p.text.startswith(THREAT) for p in result.posts), result.posts


def test_multipart_files_that_fit_are_kept_whole_and_the_rest_left_out():
    small = b"\x89PNG" + b"\x01" * 10_000
    body = multipart([("caption", None, None, b"hello"), ("big", "a.jpg", "image/jpeg", PHOTO),
                      ("small", "b.png", "image/png", small)])
    parts = parse_multipart(compact_multipart(body, MP_TYPE, LIMIT), MP_TYPE)
    assert [(p.name, p.filename, p.content_type, p.data) for p in parts] == \
        [("caption", None, None, b"hello"), ("small", "b.png", "image/png", small)]


@pytest.mark.parametrize("name,body,reason", [
    ("text_parts_over_the_limit_even_capped",
     multipart([(f"t{i}", None, None, b"y" * 100_000) for i in range(20)]), "too_much_text"),
    ("truncated", b"--cgB0undary\r\n\r\n" + b"x" * 1_200_000, "truncated_multipart"),
    ("too_many_parts", multipart([("f", "a.jpg", "image/jpeg", PHOTO)] + [(f"p{i}", None, None, b"x")
                                                                          for i in range(300)]), "too_many_parts"),
])
def test_a_large_multipart_body_that_cannot_be_read_is_an_error(name, body, reason):
    assert len(body) > LIMIT
    result = extract_request("POST", YT, {"content-type": MP_TYPE}, body, platform="youtube", max_bytes=LIMIT)
    assert result.posts == [] and result.error == reason, result
