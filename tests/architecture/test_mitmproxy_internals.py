"""What we rely on inside mitmproxy (and the standard library), item by item as listed in
docs/mitmproxy-internals.md. A failure here names the item an upgrade changed: re-check it against
the new source before changing the code that uses it."""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import inspect
import logging
import multiprocessing
import os

import pytest
from mitmproxy import addonmanager, certs, exceptions, master, options, tls
from mitmproxy.version import VERSION

from tests.addons.test_passthrough_early import client_hello

# Every version the items below were checked against (docs/mitmproxy-internals.md).
CHECKED_VERSIONS = ("11.0.2",)


def params(fn) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def test_the_installed_mitmproxy_is_one_we_checked():
    assert VERSION in CHECKED_VERSIONS, (
        f"mitmproxy {VERSION} is installed; docs/mitmproxy-internals.md was checked against "
        f"{', '.join(CHECKED_VERSIONS)}. Re-check every item there, then add {VERSION} to CHECKED_VERSIONS.")


class _Decider:
    name = "internals_probe"

    def next_layer(self, nextlayer):
        pass


def _lean_master():
    """The lean master `crossingguard run` builds, with a probe addon (items 1-3, 7, 8)."""
    from proxy_addons.master import CachedDispatch, master_class
    probe = _Decider()

    async def build():
        return master_class([probe])(options.Options())

    return asyncio.run(build()), probe, CachedDispatch


def test_1_2_the_addon_manager_class_swap_and_its_internals():
    m, probe, cached = _lean_master()
    assert type(m.addons) is cached and isinstance(m.addons, addonmanager.AddonManager)
    assert isinstance(m.addons.chain, list) and probe in m.addons.chain
    assert params(addonmanager.AddonManager._iter_hooks) == ["addon", "event"]
    for name in ("register", "add", "remove", "clear", "trigger_event", "get"):
        assert callable(getattr(addonmanager.AddonManager, name)), name
    with addonmanager.safecall():   # a context manager that logs addon errors
        pass
    assert issubclass(exceptions.AddonHalt, Exception)
    from mitmproxy.proxy.layer import NextLayerHook
    event = NextLayerHook(object())
    assert event.name == "next_layer" and len(event.args()) == 1
    assert [(a, f.__name__) for a, f in m.addons._iter_hooks(probe, event)] == [(probe, "next_layer")]
    # the cached dispatch finds our handler, in chain order, through mitmproxy's _iter_hooks
    assert any(getattr(f, "__self__", None) is probe for f in m.addons._handlers_for(event))


def test_3_the_chain_can_be_reordered_before_the_builtin_nextlayer():
    from mitmproxy.addons.next_layer import NextLayer
    from proxy_addons.tunnel import place_before
    m, probe, _ = _lean_master()
    builtin = m.addons.get("nextlayer")
    assert isinstance(builtin, NextLayer)
    assert m.addons.chain.index(probe) > m.addons.chain.index(builtin)   # built-ins come first
    assert place_before(m.addons, probe, "nextlayer")
    assert m.addons.chain.index(probe) == m.addons.chain.index(builtin) - 1


def test_4_the_http_stream_layer_is_matched_by_name_and_carries_the_flow():
    from mitmproxy.proxy.layers.http import HttpStream
    assert HttpStream.__name__ == "HttpStream"
    assert "flow" in HttpStream.__annotations__


def test_5_proxy_layers_commands_and_events():
    from mitmproxy.proxy import commands, events, layer
    from mitmproxy.proxy.layers import ClientTLSLayer, HttpLayer, ServerTLSLayer, TCPLayer, modes
    from mitmproxy.proxy.layers.http import HTTPMode
    assert params(layer.Layer.__init__) == ["context"]
    assert callable(layer.Layer._handle_event)
    for name in ("data_client", "data_server", "_handle_event"):
        assert callable(getattr(layer.NextLayer, name)), name
    from mitmproxy.proxy.context import Context
    from mitmproxy.test import tflow
    context = Context(tflow.tclient_conn(), options.Options())
    nl = layer.NextLayer(context)
    assert nl.layer is None and nl.context is context and nl.data_client() == b"" and nl.data_server() == b""
    assert isinstance(context.layers, list)
    assert params(TCPLayer.__init__) == ["context", "ignore"]
    assert params(HttpLayer.__init__) == ["context", "mode"] and HTTPMode.transparent
    for cls in (ClientTLSLayer, ServerTLSLayer, modes.HttpProxy, modes.HttpUpstreamProxy, modes.TransparentProxy,
                modes.Socks5Proxy):
        assert issubclass(cls, layer.Layer), cls
    assert params(events.DataReceived)[:2] == ["connection", "data"]
    for cls in (events.Start, events.ConnectionClosed, commands.OpenConnection, commands.SendData,
                commands.CloseConnection):
        assert inspect.isclass(cls), cls
    from mitmproxy.connection import Client, Server
    for attr in ("sni", "transport_protocol"):
        assert attr in Client.__annotations__ or hasattr(Client, attr), attr
    for attr in ("address", "connected"):
        assert attr in Server.__annotations__ or hasattr(Server, attr), attr


def test_6_tls_helpers():
    from mitmproxy.net.tls import starts_like_tls_record
    from mitmproxy.proxy.layers.tls import parse_client_hello
    hello = client_hello("www.example.org")
    assert starts_like_tls_record(hello) and not starts_like_tls_record(b"GET / HTTP/1.1\r\n")
    assert parse_client_hello(hello).sni == "www.example.org"
    assert parse_client_hello(hello[:40]) is None                 # incomplete: wait for more
    with pytest.raises(ValueError):
        parse_client_hello(b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00")   # not a ClientHello
    assert {"context", "client_hello", "ignore_connection"} <= {f.name for f in dataclasses.fields(tls.ClientHelloData)}


def test_7_proxyauth_validator_and_authenticated():
    m, _, _ = _lean_master()
    pa = m.addons.get("proxyauth")
    assert hasattr(pa, "validator") and pa.validator is None      # set by configure from --proxyauth
    assert hasattr(pa.authenticated, "get")
    from mitmproxy.addons.proxyauth import SingleUser
    assert SingleUser("user:pass")("user", "pass") is True        # validators: (username, password) -> bool


def test_8_master_options_and_the_command_line():
    from mitmproxy import addons
    from mitmproxy.tools import cmdline, main
    assert params(master.Master.__init__) == ["opts", "event_loop", "with_termlog"]
    assert options.Options().deferred == {}
    assert params(main.run) == ["master_cls", "make_parser", "arguments", "extra"]
    assert params(cmdline.common_options) == ["parser", "opts"]
    assert all(callable(getattr(a, "load", None)) or not hasattr(a, "load") for a in addons.default_addons())


def test_9_leaf_lifetime_and_ca_naming():
    assert isinstance(certs.CERT_EXPIRY, dt.timedelta)
    assert {"path", "basename", "key_size", "organization", "cn"} <= set(params(certs.CertStore.create_store))


def test_10_proxy_core_loggers():
    from mitmproxy.proxy import server
    from proxy_addons.leanlog import PROXY_CORE_LOGGERS
    assert any(server.logger.name.startswith(prefix) for prefix in PROXY_CORE_LOGGERS)
    assert isinstance(server.logger, logging.Logger)


def test_11_a_started_process_pool_lists_its_processes():
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        pid = pool.submit(os.getpid).result(timeout=120)
        processes = getattr(pool, "_processes", None)
        assert isinstance(processes, dict) and pid in processes
        assert callable(processes[pid].kill)
    finally:
        pool.shutdown(wait=True)


# sha256 (first 16 hex digits) of the 11.0.2 HttpStream methods item 13 wraps or relies on.
ITEM_13_SOURCES = {
    "check_body_size": "7244b3db5fa1cf2c",             # wrapped; its step 3 (late switch) mirrored
    "start_request_stream": "46f03368a2a54362",        # called to switch to streaming
    "state_consume_request_body": "45459c1bbd8bdb1a",  # buffers, calls check_body_size(True) per chunk
    "check_killed": "5579a3ec180e72a1",                # error hook + close, after we kill the flow
    "state_stream_request_body": "eb2bdc50e91774f7",   # where the replayed buffer and later chunks go
    "start_response_stream": "b0de9e9a5ee27276",       # the same for a response without a length
    "state_consume_response_body": "5323db61dfc7e2e1",
    "state_stream_response_body": "775b73b1b5601af0",
}


@pytest.mark.parametrize("method", sorted(ITEM_13_SOURCES))
def test_13_the_http_stream_body_buffer_and_its_late_switch(method):
    import hashlib
    from mitmproxy.proxy.layers import http as http_layer
    from mitmproxy.proxy.layers.http import RequestData
    from proxy_addons import bodies, streamread
    source = bodies._installed.get(method) or streamread._installed.get(method) \
        or getattr(http_layer.HttpStream, method)                                     # the original
    digest = hashlib.sha256(inspect.getsource(source).encode()).hexdigest()[:16]
    assert digest == ITEM_13_SOURCES[method], \
        f"mitmproxy's HttpStream.{method} changed: re-check proxy_addons/bodies.py install()"
    assert params(source) == {"check_body_size": ["request"], "check_killed": ["emit_error_hook"],
                              "state_consume_request_body": ["event"],
                              "state_stream_request_body": ["event"], "state_consume_response_body": ["event"],
                              "state_stream_response_body": ["event"]}.get(method, [])
    assert params(RequestData)[:2] == ["stream_id", "data"]
    from mitmproxy.proxy.layers.http import ResponseData
    assert params(ResponseData)[:2] == ["stream_id", "data"]
    for attr in ("request_body_buf", "response_body_buf", "flow", "stream_id", "handle_event", "client_state"):
        assert attr in http_layer.HttpStream.__annotations__ or hasattr(http_layer.HttpStream, attr) \
            or attr in inspect.getsource(http_layer.HttpStream.__init__), attr


def test_13_install_wraps_check_body_size_once_and_uninstall_restores():
    from mitmproxy.proxy.layers import http as http_layer
    from proxy_addons import bodies
    bodies.uninstall()
    original = http_layer.HttpStream.check_body_size
    try:
        bodies.install(lambda flow, size: True)
        wrapped = http_layer.HttpStream.check_body_size
        assert wrapped is not original
        bodies.install(lambda flow, size: False)       # a second addon instance: same wrapper, new handler
        assert http_layer.HttpStream.check_body_size is wrapped
        bodies.uninstall()
        assert http_layer.HttpStream.check_body_size is original
    finally:
        bodies.uninstall()


# sha256 (first 16 hex digits) of the 11.0.2 HTTP/1 client method item 14 wraps.
ITEM_14_SEND = "35d961e20d481204"


def test_14_the_http1_client_frames_by_the_flows_own_request_headers():
    """Item 14: Http1Client.send converts an HTTP/2 request from `event.request` for the head and
    reads `self.request.headers["transfer-encoding"]` (the same object) for each chunk and the end."""
    import hashlib
    from mitmproxy.proxy.layers.http import RequestHeaders
    from mitmproxy.proxy.layers.http._http1 import Http1Client
    from proxy_addons import framing
    source = framing._installed.get("send") or Http1Client.send
    assert hashlib.sha256(inspect.getsource(source).encode()).hexdigest()[:16] == ITEM_14_SEND, \
        "mitmproxy's Http1Client.send changed: re-check proxy_addons/framing.py install()"
    assert params(source) == ["event"]
    assert params(RequestHeaders)[:3] == ["stream_id", "request", "end_stream"]


def test_14_install_wraps_the_http1_client_once_and_uninstall_restores():
    from mitmproxy.proxy.layers.http._http1 import Http1Client
    from proxy_addons import framing
    framing.uninstall()
    original = Http1Client.send
    try:
        framing.install()
        wrapped = Http1Client.send
        assert wrapped is not original
        framing.install()
        assert Http1Client.send is wrapped
        framing.uninstall()
        assert Http1Client.send is original
    finally:
        framing.uninstall()
# sha256 (first 16 hex digits) of the 11.0.2 HttpStream methods item 15 replaces, mirrors or calls
# (state_stream_request_body and check_killed are item 13's too: the same hashes).
ITEM_15_SOURCES = {
    "state_stream_request_body": "eb2bdc50e91774f7",   # replaced for StreamedPost flows; its end mirrored
    "send_response": "d581bc106152e369",              # sends the hold page, then flow_done
    "flow_done": "ad9969744785c572",                  # the end mirrored for a passed post
    "check_killed": "5579a3ec180e72a1",                # no page: error hook + close
    "state_consume_request_body": "45459c1bbd8bdb1a",  # the buffered hold we mirror (response set by a hook)
}


@pytest.mark.parametrize("method", sorted(ITEM_15_SOURCES))
def test_15_the_end_of_a_streamed_request(method):
    import hashlib
    from mitmproxy.proxy.layers import http as http_layer
    from proxy_addons import bodies, streamread
    source = streamread._installed.get(method) or bodies._installed.get(method) \
        or getattr(http_layer.HttpStream, method)
    digest = hashlib.sha256(inspect.getsource(source).encode()).hexdigest()[:16]
    assert digest == ITEM_15_SOURCES[method], \
        f"mitmproxy's HttpStream.{method} changed: re-check proxy_addons/streamread.py install()"
    from mitmproxy.proxy.layers.http import (HttpRequestHook, HttpResponseHeadersHook, RequestData,
                                             RequestEndOfMessage, RequestProtocolError, RequestTrailers, SendHttp)
    assert params(RequestProtocolError)[:3] == ["stream_id", "message", "code"]
    assert params(SendHttp)[:2] == ["event", "connection"]
    assert params(HttpRequestHook) == ["flow"] and params(HttpResponseHeadersHook) == ["flow"]
    assert params(RequestEndOfMessage) == ["stream_id"] and params(RequestTrailers)[:2] == ["stream_id", "trailers"]
    assert params(RequestData)[:2] == ["stream_id", "data"]
    for attr in ("client_state", "server_state", "state_done", "state_errored", "state_wait_for_response_headers",
                 "stream_id", "context", "flow"):
        assert attr in http_layer.HttpStream.__annotations__ or hasattr(http_layer.HttpStream, attr) \
            or attr in inspect.getsource(http_layer.HttpStream.__init__), attr
    # HTTP/1 to the site: a RequestProtocolError closes the connection (the body never completes)
    from mitmproxy.proxy.layers.http import _http1
    from proxy_addons import framing
    assert "if isinstance(event, RequestProtocolError):\n            yield commands.CloseConnection(self.conn)" \
        in inspect.getsource(framing._installed.get("send") or _http1.Http1Client.send)   # item 14 wraps it


def test_15_the_stream_callable_is_called_per_chunk_and_with_nothing_at_the_end():
    """What StreamedPost relies on in mitmproxy's own method: `stream(data)` per RequestData, then
    `stream(b"")` and the `request` hook before the end of message is sent."""
    from mitmproxy.proxy.layers import http as http_layer
    from proxy_addons import streamread
    source = inspect.getsource(streamread._installed.get("state_stream_request_body")
                               or http_layer.HttpStream.state_stream_request_body)
    assert source.index("self.flow.request.stream(event.data)") < source.index('self.flow.request.stream(b"")') \
        < source.index("yield HttpRequestHook(self.flow)") < source.index("yield SendHttp(event, self.context.server)")


def test_15_install_replaces_once_and_uninstall_restores():
    from mitmproxy.proxy.layers import http as http_layer
    from proxy_addons import streamread
    streamread.uninstall()
    original = http_layer.HttpStream.state_stream_request_body
    try:
        streamread.install()
        wrapped = http_layer.HttpStream.state_stream_request_body
        assert wrapped is not original
        streamread.install()
        assert http_layer.HttpStream.state_stream_request_body is wrapped
        streamread.uninstall()
        assert http_layer.HttpStream.state_stream_request_body is original
    finally:
        streamread.uninstall()
