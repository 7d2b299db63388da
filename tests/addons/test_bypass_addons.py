"""Regression tests for three filter bypasses a reviewer found (addon level, taddons/tflow):

1. unreadable bytes (neither TLS nor HTTP) in a tunnel to a platform were relayed raw;
2. WebSocket messages escaped read_only and the end of a teacher session;
3. an absolute-form URL inside a tunnel was judged by the tunnel's name only.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from mitmproxy import websocket
from mitmproxy.addons.next_layer import NextLayer as BuiltinNextLayer
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.proxy import commands, events, layer
from mitmproxy.proxy.layers import ClientTLSLayer, HttpLayer, ServerTLSLayer, TCPLayer
from mitmproxy.test import tutils
from mitmproxy.test import tflow
from wsproto.frame_protocol import Opcode

from agent.metrics import BLOCKS, COUNTERS, TUNNELS
from agent.policy import TeacherSession
from proxy_addons.tunnel import GuardedTunnel, RefusedTunnel, TunnelDecider, first_bytes_kind
from proxy_addons.verdict import KEY
from tests.addons.conftest import TEEN_IP, YOUNG_IP, make_flow
from tests.addons.test_passthrough_early import client_hello, nextlayer_for

WA_HANDSHAKE = b"WA\x06\x02\x00\x01noise-handshake-bytes"   # WhatsApp's own framing, not TLS
MQTT_CONNECT = b"\x10\x1a\x00\x04MQTT\x04\x02\x00<\x00\x0edevice-123456"


def tunnel(ip: str, data: bytes, host: str) -> layer.NextLayer:
    """The NextLayer after `CONNECT host:443` with `data` from the client (plain TCP: no ALPN)."""
    nl = nextlayer_for(ip, data, after_connect=host)
    nl.context.client.alpn = None
    return nl


@pytest.fixture
def decider(stack):
    d = TunnelDecider(stack.passthrough)
    d.placed = True
    return d


# ---------------------------------------------------------------- 1. unreadable tunnels
@pytest.mark.parametrize("data,kind", [
    (b"", "more"), (b"\x16", "more"), (b"\x16\x03", "more"), (b"\x16\x03\x01\x02\x00", "tls"),
    (b"\x16\x07\x01", "other"), (b"G", "more"), (b"POS", "more"), (b"GET / HTTP/1.1\r\n", "http"),
    (b"PRI * HTTP/2.0\r\n", "http"), (b"GET/", "other"), (b"GE T", "other"), (WA_HANDSHAKE, "other"),
    (MQTT_CONNECT, "other"), (b"SSH-2.0-OpenSSH_9.6\r\n", "other"), (b"A" * 17, "other"),
])
def test_first_bytes_kind(data, kind):
    assert first_bytes_kind(data) == kind


@pytest.mark.parametrize("ip,host,data", [
    (YOUNG_IP, "g.whatsapp.net", WA_HANDSHAKE),
    (TEEN_IP, "g.whatsapp.net", WA_HANDSHAKE),           # refused even where the platform is allowed
    (YOUNG_IP, "edge-mqtt.facebook.com", MQTT_CONNECT),
    (TEEN_IP, "www.instagram.com", b"SSH-2.0-x\r\n"),
    (TEEN_IP, "www.google.com", b"\x00\x00\x00\x01"),    # SafeSearch host: must be read too
])
def test_unreadable_bytes_to_a_name_we_must_inspect_are_refused(decider, ip, host, data):
    before = COUNTERS.values[(TUNNELS, ("refused",))]
    nl = tunnel(ip, data, host)
    decider.next_layer(nl)
    BuiltinNextLayer().next_layer(nl)   # mitmproxy's own choice comes after ours and must not override
    assert isinstance(nl.layer, RefusedTunnel)
    assert COUNTERS.values[(TUNNELS, ("refused",))] == before + 1


def test_refusing_a_blocked_platform_counts_a_block(stack, decider):
    f = stack.send(make_flow(YOUNG_IP, "web.whatsapp.com"))
    d = f.metadata[KEY].decision
    assert d.verdict == "block" and d.platform == "whatsapp"
    key = (BLOCKS, (d.platform, d.guideline or "none"))
    before = COUNTERS.values[key]
    decider.next_layer(tunnel(YOUNG_IP, WA_HANDSHAKE, "g.whatsapp.net"))
    assert COUNTERS.values[key] == before + 1


def test_refused_tunnel_closes_both_sides_and_relays_nothing(decider):
    nl = tunnel(YOUNG_IP, WA_HANDSHAKE, "g.whatsapp.net")
    decider.next_layer(nl)
    nl.context.server.state = nl.context.server.state.OPEN   # an eagerly opened server connection
    cmds = []
    for e in nl.events:
        cmds += list(nl.layer.handle_event(e))
    assert not any(isinstance(c, commands.SendData) for c in cmds)
    closed = [c.connection for c in cmds if isinstance(c, commands.CloseConnection)]
    assert closed == [nl.context.client, nl.context.server]


@pytest.mark.parametrize("host,data", [
    ("www.example.org", WA_HANDSHAKE),
    ("www.example.org", MQTT_CONNECT),
    ("mqtt.example.net", b"\x00"),
])
def test_ordinary_hosts_keep_raw_pass_through(decider, host, data):
    nl = tunnel(YOUNG_IP, data, host)
    decider.next_layer(nl)
    assert nl.layer is None
    BuiltinNextLayer().next_layer(nl)
    assert isinstance(nl.layer, TCPLayer)


def test_http_inside_a_platform_tunnel_gets_an_http_layer(decider):
    nl = nextlayer_for(YOUNG_IP, b"GET /p/x HTTP/1.1\r\nHost: www.instagram.com\r\n\r\n",
                       after_connect="www.instagram.com")
    decider.next_layer(nl)
    assert isinstance(nl.layer, HttpLayer)


def test_tls_to_a_platform_is_left_to_the_tls_layers(decider):
    nl = tunnel(YOUNG_IP, client_hello("www.instagram.com"), "www.instagram.com")
    decider.next_layer(nl)
    assert nl.layer is None   # mitmproxy builds the TLS layers; tls_clienthello decides


def test_server_speaking_first_to_a_platform_is_refused(decider):
    nl = tunnel(YOUNG_IP, b"", "g.whatsapp.net")
    nl.events = [events.Start(), events.DataReceived(nl.context.server, b"220 chat.example ESMTP\r\n")]
    decider.next_layer(nl)
    BuiltinNextLayer().next_layer(nl)
    assert isinstance(nl.layer, RefusedTunnel)


def test_server_speaking_first_to_an_ordinary_host_is_relayed(decider):
    nl = tunnel(YOUNG_IP, b"", "mail.example.org")
    nl.events = [events.Start(), events.DataReceived(nl.context.server, b"220 mail.example.org ESMTP\r\n")]
    decider.next_layer(nl)
    BuiltinNextLayer().next_layer(nl)
    assert isinstance(nl.layer, TCPLayer)


def guarded_after(decider, first: bytes):
    nl = tunnel(YOUNG_IP, first, "g.whatsapp.net")
    decider.next_layer(nl)
    BuiltinNextLayer().next_layer(nl)
    assert isinstance(nl.layer, GuardedTunnel)
    return nl, nl.layer


def feed(tunnel_layer, *evs) -> list:
    cmds = []
    for e in evs:
        cmds += list(tunnel_layer.handle_event(e))
    return cmds


@pytest.mark.parametrize("first", [b"W", b"WA", b"\x16", b"G"])
def test_too_few_bytes_are_held_then_refused_when_unreadable(decider, first):
    """mitmproxy alone picks raw TCP for fewer than 3 bytes; a platform tunnel waits instead."""
    nl, guarded = guarded_after(decider, first)
    client = nl.context.client
    assert feed(guarded, events.Start(), events.DataReceived(client, first)) == []
    cmds = feed(guarded, events.DataReceived(client, b"\x06\x02\x00\x01noise"))
    assert not any(isinstance(c, commands.SendData) for c in cmds)
    assert client in [c.connection for c in cmds if isinstance(c, commands.CloseConnection)]
    assert isinstance(guarded.child, RefusedTunnel)


def test_too_few_bytes_then_http_or_tls_continue_on_the_normal_stack(stack, decider):
    stack.tctx.master.addons.add(Proxyserver())   # the HTTP layer reads its options
    nl, guarded = guarded_after(decider, b"GE")
    client = nl.context.client
    feed(guarded, events.Start(), events.DataReceived(client, b"GE"))
    feed(guarded, events.DataReceived(client, b"T /p/x HTTP/1.1\r\nHost: www.instagram.com\r\n\r\n"))
    assert isinstance(guarded.child, HttpLayer)

    nl, guarded = guarded_after(decider, b"\x16")
    hello = client_hello("web.whatsapp.com")
    feed(guarded, events.Start(), events.DataReceived(nl.context.client, hello[:1]))
    cmds = feed(guarded, events.DataReceived(nl.context.client, hello[1:]))
    hooks = [c for c in cmds if isinstance(c, layer.NextLayerHook)]
    assert len(hooks) == 1 and hooks[0].data.data_client() == hello   # all bytes, one decision
    decider.next_layer(hooks[0].data)
    BuiltinNextLayer().next_layer(hooks[0].data)
    assert not isinstance(hooks[0].data.layer, TCPLayer)   # TLS layers: intercepted, not relayed


def test_held_tunnel_refuses_a_server_greeting(decider):
    nl, guarded = guarded_after(decider, b"W")
    feed(guarded, events.Start(), events.DataReceived(nl.context.client, b"W"))
    cmds = feed(guarded, events.DataReceived(nl.context.server, b"220 hello\r\n"))
    assert not any(isinstance(c, commands.SendData) for c in cmds)
    assert isinstance(guarded.child, RefusedTunnel)


def test_mitmproxys_raw_choice_is_replaced_when_the_decider_was_not_placed_first(stack):
    d = TunnelDecider(stack.passthrough)   # placed stays False: runs after mitmproxy's next_layer
    nl = tunnel(YOUNG_IP, WA_HANDSHAKE, "g.whatsapp.net")
    BuiltinNextLayer().next_layer(nl)
    assert isinstance(nl.layer, TCPLayer)
    d.next_layer(nl)
    assert isinstance(nl.layer, RefusedTunnel)


def test_a_failing_decision_refuses_unreadable_bytes(stack, decider, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("policy engine broke")
    monkeypatch.setattr(stack.passthrough, "decide_names", boom)
    nl = tunnel(YOUNG_IP, WA_HANDSHAKE, "www.example.org")
    decider.next_layer(nl)
    assert isinstance(nl.layer, RefusedTunnel)


# ---------------------------------------------------------------- 2. WebSocket messages
def ws_flow(stack, ip: str, host: str):
    """A WebSocket flow after its (allowed) upgrade GET went through our addons."""
    f = stack.send(make_flow(ip, host, path="/live"))
    assert f.response is None, "the upgrade itself must be allowed for this test"
    f.response = tutils.tresp(status_code=101)
    f.websocket = websocket.WebSocketData()
    return f


def send_ws(stack, f, content: bytes, from_client: bool = True) -> websocket.WebSocketMessage:
    m = websocket.WebSocketMessage(Opcode.TEXT, from_client, content)
    f.websocket.messages.append(m)
    stack.enforce.websocket_message(f)
    return m


def test_websocket_client_messages_are_writes_under_read_only(stack):
    f = ws_flow(stack, TEEN_IP, "www.youtube.com")
    d = f.metadata[KEY].decision
    assert d.action == "read_only"
    key = (BLOCKS, (d.platform, d.guideline or "none"))
    before = COUNTERS.values[key]
    first = send_ws(stack, f, b'{"comment":"hi"}')
    second = send_ws(stack, f, b'{"comment":"again"}')
    from_server = send_ws(stack, f, b'{"chat":"update"}', from_client=False)
    assert first.dropped and second.dropped
    assert not from_server.dropped          # reading stays allowed
    assert COUNTERS.values[key] == before + 1   # one block per socket, not per message


def test_websocket_messages_stop_when_the_teacher_session_ends(stack, district):
    _, roster, _ = district
    now = datetime.now(timezone.utc)
    stack.sessions.snapshot = (TeacherSession("s-ws", roster.teacher, roster.class_id, "youtube",
                                              now - timedelta(minutes=1), now + timedelta(minutes=30)),)
    f = ws_flow(stack, TEEN_IP, "www.youtube.com")
    assert not send_ws(stack, f, b'{"comment":"during class"}').dropped
    assert not send_ws(stack, f, b'{"comment":"still in class"}').dropped   # cached decision
    stack.sessions.snapshot = ()   # the teacher ended the session
    assert send_ws(stack, f, b'{"comment":"after class"}').dropped


def test_websocket_messages_outside_the_catalog_pass(stack):
    f = ws_flow(stack, YOUNG_IP, "chat.example.org")
    assert not send_ws(stack, f, b"hello").dropped


def test_websocket_guard_clauses(stack):
    f = ws_flow(stack, TEEN_IP, "www.youtube.com")
    m = websocket.WebSocketMessage(Opcode.TEXT, True, b"x")
    m.drop()
    f.websocket.messages.append(m)
    stack.enforce.websocket_message(f)       # already dropped (by someone): left alone, no error
    plain = tflow.tflow()
    stack.enforce.websocket_message(plain)   # not a WebSocket flow
    undecided = ws_flow(stack, TEEN_IP, "www.youtube.com")
    undecided.metadata[KEY].decision = None
    assert not send_ws(stack, undecided, b"x").dropped


def test_websocket_decision_failure_drops_student_messages(stack, monkeypatch):
    f = ws_flow(stack, TEEN_IP, "www.youtube.com")

    def boom(*a, **k):
        raise RuntimeError("policy engine broke")
    monkeypatch.setattr(stack.core.state.engine, "decide", boom)
    assert send_ws(stack, f, b"x").dropped


# ---------------------------------------------------------------- 3. absolute-form targets
def absolute_in_tunnel(ip: str, tunnel_host: str, url_host: str, method: str = "POST"):
    """What mitmproxy's transparent HTTP layer makes of `METHOD http://url_host/... HTTP/1.1` with
    `Host: tunnel_host` inside `CONNECT tunnel_host:80`: request.host is the tunnel's name, the
    URL's host is only in request.authority."""
    req = tutils.treq(host=tunnel_host, port=80, scheme=b"http", method=method.encode(),
                      authority=url_host.encode() + b":80", path=b"/api/v1/web/comments/1/add/",
                      content=b"comment_text=hello")
    req.headers.clear()
    req.headers["Host"] = tunnel_host
    f = tflow.tflow(req=req)
    f.client_conn.peername = (ip, 40000)
    f.client_conn.sni = None
    return f


@pytest.mark.parametrize("ip,method", [(YOUNG_IP, "POST"), (YOUNG_IP, "GET"), (TEEN_IP, "POST")])
def test_absolute_form_url_host_is_judged(stack, ip, method):
    f = stack.send(absolute_in_tunnel(ip, "www.example.org", "www.instagram.com", method))
    d = f.metadata[KEY].decision
    assert d.platform == "instagram" and d.verdict == "block"
    assert f.response is not None and f.response.status_code == 403


def test_absolute_form_to_an_ordinary_host_is_not_blocked(stack):
    f = stack.send(absolute_in_tunnel(YOUNG_IP, "www.example.org", "www.example.org"))
    assert f.response is None and f.metadata[KEY].decision.verdict == "allow"
    f = stack.send(absolute_in_tunnel(YOUNG_IP, "www.example.org", "docs.example.org"))
    assert f.response is None


def test_host_header_naming_a_platform_is_still_judged(stack):
    """The reverse: URL names an ordinary host, Host header names Instagram."""
    f = absolute_in_tunnel(YOUNG_IP, "www.example.org", "www.example.org")
    f.request.headers["Host"] = "www.instagram.com"
    stack.send(f)
    assert f.metadata[KEY].decision.platform == "instagram" and f.response.status_code == 403


# ---------------------------------------------------------------- 1b. inside the TLS we intercepted
def inside_tls(ip: str, data: bytes, host: str, sni: str | None) -> layer.NextLayer:
    """The NextLayer after `CONNECT host:443` and a TLS handshake we intercepted (client SNI `sni`)."""
    nl = tunnel(ip, b"", host)
    context = nl.context
    ServerTLSLayer(context)
    ClientTLSLayer(context)
    context.client.sni = sni
    nl.events = [events.Start(), events.DataReceived(context.client, data)]
    return nl


@pytest.mark.parametrize("host,sni,data", [
    ("edge-mqtt.facebook.com", "edge-mqtt.facebook.com", MQTT_CONNECT),
    ("127.0.0.1", "g.whatsapp.net", WA_HANDSHAKE),                  # the SNI names the platform
    ("www.instagram.com", "www.instagram.com", client_hello("www.instagram.com")),   # TLS in TLS
])
def test_decrypted_bytes_that_are_not_http_are_refused(decider, host, sni, data):
    nl = inside_tls(YOUNG_IP, data, host, sni)
    decider.next_layer(nl)
    BuiltinNextLayer().next_layer(nl)
    assert isinstance(nl.layer, RefusedTunnel)


def test_decrypted_http_is_read_and_ordinary_decrypted_bytes_untouched(decider):
    nl = inside_tls(YOUNG_IP, b"GET / HTTP/1.1\r\nHost: www.instagram.com\r\n\r\n", "www.instagram.com",
                    "www.instagram.com")
    decider.next_layer(nl)
    assert isinstance(nl.layer, HttpLayer)
    nl = inside_tls(YOUNG_IP, MQTT_CONNECT, "mqtt.example.org", "mqtt.example.org")
    decider.next_layer(nl)
    assert nl.layer is None   # not a name we must read (e.g. intercepted for a reason of mitmproxy's)
