"""proxy_addons/upstream.py: the page for a site that cannot be reached, and the mitmproxy internals
it relies on (this file fails loudly when a mitmproxy upgrade changes them)."""
from __future__ import annotations

import hashlib
import inspect

import pytest
from mitmproxy import flow as mflow
from mitmproxy import version
from mitmproxy.proxy.layers import http as http_layer
from mitmproxy.proxy.layers.http import _http1, _http2, _http3
from mitmproxy.test import tflow

from proxy_addons import upstream
from proxy_addons.upstream import PAGE_KEY, UpstreamPages
from proxy_addons.verdict import KEY

# sha256 (first 16 hex digits) of the mitmproxy 11.0.2 sources upstream.py mirrors or replaces.
# A change means: read the new source, update upstream.py to match, then these hashes.
MIRRORED = {
    "HttpStream.handle_protocol_error": (lambda: upstream._installed.get("handle_protocol_error")
                                         or http_layer.HttpStream.handle_protocol_error, "59fc3b2eeeabf63a"),
    "_http1.make_error_response": (lambda: upstream._installed.get("make_error_response")
                                   or _http1.make_error_response, "03ce75ab62e8e78b"),
}


def test_the_mitmproxy_version_is_the_one_upstream_py_was_checked_against():
    assert version.VERSION == upstream.CHECKED_MITMPROXY, (
        f"mitmproxy {version.VERSION}: re-check proxy_addons/upstream.py's layer patch "
        f"(written against {upstream.CHECKED_MITMPROXY}), then update CHECKED_MITMPROXY")


@pytest.mark.parametrize("name", sorted(MIRRORED))
def test_the_mirrored_mitmproxy_sources_are_unchanged(name):
    get, expected = MIRRORED[name]
    digest = hashlib.sha256(inspect.getsource(get()).encode()).hexdigest()[:16]
    assert digest == expected, f"mitmproxy's {name} changed: re-check proxy_addons/upstream.py"


def test_install_patches_once_and_uninstall_restores():
    upstream.uninstall()
    original = http_layer.HttpStream.handle_protocol_error
    try:
        upstream.install()
        upstream.install()   # idempotent
        assert http_layer.HttpStream.handle_protocol_error is upstream._handle_protocol_error
        assert _http1.make_error_response is upstream._make_error_response
        assert _http2.version.MITMPROXY == _http3.version.MITMPROXY == "CrossingGuard"
        upstream.uninstall()
        assert http_layer.HttpStream.handle_protocol_error is original
        assert _http2.version is version
    finally:
        upstream.install()


def test_mitmproxy_error_response_names_no_software():
    upstream.install()
    raw = _http1.make_error_response(400, "Bad request <x>")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"server:" not in head.lower()
    assert b"mitmproxy" not in raw.lower() and b"&lt;x&gt;" in body


def test_error_hook_prepares_the_page_with_the_request_id(stack):
    addon = UpstreamPages(stack.core, stack.passthrough)
    f = tflow.tflow()
    f.request.headers["accept"] = "text/html"
    f.error = mflow.Error("[Errno 111] Connect call failed ('127.0.0.1', 9)")
    addon.error(f)
    page = f.metadata[PAGE_KEY]
    text = page.get_text()
    assert page.status_code == 502 and f.metadata[KEY].request_id in text
    assert "did not accept the connection" in text and "mitmproxy" not in text.lower()
    assert "server" not in page.headers


def test_error_hook_leaves_killed_flows_and_answered_flows_alone(stack):
    addon = UpstreamPages(stack.core, stack.passthrough)
    killed = tflow.tflow()
    killed.error = mflow.Error(mflow.Error.KILLED_MESSAGE)
    addon.error(killed)
    answered = tflow.tflow(resp=True)
    answered.error = mflow.Error("peer closed connection")
    addon.error(answered)
    assert PAGE_KEY not in killed.metadata and PAGE_KEY not in answered.metadata


def test_requests_on_a_connection_whose_site_refused_get_the_page(stack):
    addon = UpstreamPages(stack.core, stack.passthrough)
    f = tflow.tflow()
    stack.passthrough.mark_unreachable(f.client_conn, "Connection refused")
    addon.requestheaders(f)
    assert f.response is not None and f.response.status_code == 502
    assert f.response.headers["connection"] == "close"
    other = tflow.tflow()
    addon.requestheaders(other)
    assert other.response is None
