"""proxy_addons/framing.py: which requests need framing, and the `request` hook (taddons)."""
from __future__ import annotations

import pytest
from mitmproxy.test import taddons, tflow

from proxy_addons.framing import Framing, unframed_for_http1


def request(version: str, headers: dict, body: bytes | None = b"hello"):
    f = tflow.tflow()
    f.request.http_version = version
    f.request.headers.clear()
    for k, v in headers.items():
        f.request.headers[k] = v
    f.request.raw_content = body
    return f


@pytest.mark.parametrize("version, headers, unframed", [
    ("HTTP/2.0", {}, True),
    ("HTTP/3", {}, True),
    ("HTTP/2.0", {"content-length": "5"}, False),
    ("HTTP/2.0", {"transfer-encoding": "chunked"}, False),
    ("HTTP/1.1", {}, False),            # HTTP/1.1 without a length has no body: framed by definition
    ("HTTP/1.0", {}, False),
])
def test_unframed_for_http1(version, headers, unframed):
    assert unframed_for_http1(request(version, headers).request) is unframed


def run_request_hook(f):
    addon = Framing()
    with taddons.context(addon):
        addon.request(f)
    return f


def test_a_buffered_http2_body_gets_its_length():
    f = run_request_hook(request("HTTP/2.0", {"content-type": "application/json"}, b'{"text": "hi"}'))
    assert f.request.headers["content-length"] == "14"


@pytest.mark.parametrize("case", ["no body", "empty body", "streamed", "declared", "http1", "answered"])
def test_the_request_hook_leaves_the_rest_alone(case):
    f = request("HTTP/1.1" if case == "http1" else "HTTP/2.0",
                {"content-length": "5"} if case == "declared" else {},
                None if case in ("no body", "streamed") else b"" if case == "empty body" else b"hello")
    if case == "streamed":
        f.request.stream = True
    if case == "answered":
        f.response = tflow.tresp()
    before = list(f.request.headers.fields)
    run_request_hook(f)
    assert list(f.request.headers.fields) == before
