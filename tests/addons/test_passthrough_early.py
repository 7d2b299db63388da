"""The early pass-through decision: CONNECT heads, names, next_layer choices and the direct tunnel layer."""
from __future__ import annotations

import ssl

import pytest
from mitmproxy import ctx as mctx
from mitmproxy.connection import ConnectionState
from mitmproxy.addons.next_layer import NextLayer as BuiltinNextLayer
from mitmproxy.addons.proxyauth import ProxyAuth
from mitmproxy.proxy import commands, events, layer
from mitmproxy.proxy import context as proxy_context
from mitmproxy.proxy.layers import HttpLayer, TCPLayer, modes
from mitmproxy.proxy.layers.http import HTTPMode
from mitmproxy.test import taddons, tflow

from agent.metrics import COUNTERS, TUNNELS
from proxy_addons.passthrough import connection_names
from proxy_addons.tunnel import DirectTunnel, TunnelDecider, parse_connect_head, place_before
from tests.addons.conftest import TEACHER_IP, TEEN_IP, YOUNG_IP


def client_hello(sni: str | None) -> bytes:
    """The first flight of a real TLS client (Python's ssl), with `sni` in it (or none)."""
    c = ssl.create_default_context()
    c.check_hostname = False
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = c.wrap_bio(incoming, outgoing, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def head(target: str, extra: str = "") -> bytes:
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n".encode()


# ---------------------------------------------------------------- pure functions
@pytest.mark.parametrize("data,expected", [
    (head("www.example.org:443"), ("www.example.org", 443, "HTTP/1.1", len(head("www.example.org:443")))),
    (head("WWW.Example.ORG.:8443"), ("www.example.org", 8443, "HTTP/1.1", len(head("WWW.Example.ORG.:8443")))),
    (b"CONNECT a.example:443 HTTP/1.0\r\n\r\n\x16\x03\x01", ("a.example", 443, "HTTP/1.0", 34)),  # pipelined
    (head("127.0.0.1:443"), None),               # IP literal: wait for the SNI
    (head("[::1]:443"), None),
    (head("www.example.org:0"), None),
    (head("www.example.org:99999"), None),
    (head("www.example.org"), None),             # no port
    (head("www..example.org:443"), None),
    (b"CONNECT www.example.org:443 HTTP/1.1\r\nHost: x\r\n", None),   # incomplete head
    (b"connect www.example.org:443 HTTP/1.1\r\n\r\n", None),
    (b"CONNECT www.example.org:443 HTTP/2\r\n\r\n", None),
    (b"GET http://www.example.org/ HTTP/1.1\r\n\r\n", None),
    (b"CONNECT www.example.org:443 HTTP/1.1\r\n" + b"X: y\r\n" * 2000 + b"\r\n", None),  # oversized
    (b"", None),
])
def test_parse_connect_head(data, expected):
    assert parse_connect_head(data) == expected


@pytest.mark.parametrize("sni,host,expected", [
    ("www.example.org", "www.example.org", ["www.example.org"]),
    ("www.instagram.com", "127.0.0.1", ["www.instagram.com", "127.0.0.1"]),  # an address counts too (DoH by IP)
    ("www.instagram.com", "www.example.org", ["www.instagram.com", "www.example.org"]),
    ("WWW.Example.org.", "www.example.org", ["www.example.org"]),
    (None, "127.0.0.1", ["127.0.0.1"]),                                  # nothing else to go by
    (None, "www.example.org", ["www.example.org"]),
    (None, None, []),
])
def test_connection_names(sni, host, expected):
    assert connection_names(sni, host) == expected


# ---------------------------------------------------------------- next_layer
@pytest.fixture
def decider(stack):
    d = TunnelDecider(stack.passthrough)
    d.placed = True   # as after `running` moved it before mitmproxy's next_layer (tested below)
    return d


def nextlayer_for(ip: str, data: bytes, *, after_connect: str | None = None, mode=modes.HttpProxy,
                  destination: str | None = None) -> layer.NextLayer:
    """A NextLayer as mitmproxy asks about it: at the top of an explicit proxy, after a CONNECT to
    `after_connect` (host), or at the top of another mode with a known `destination`."""
    client = tflow.tclient_conn()
    client.peername = (ip, 40000)
    context = proxy_context.Context(client, mctx.options)
    mode(context)                                  # registers itself in context.layers
    if after_connect is not None:
        HttpLayer(context, HTTPMode.regular)       # the HTTP layer that handled the CONNECT
        context.server.address = (after_connect, 443)
    if destination is not None:
        context.server.address = (destination, 443)
    nl = layer.NextLayer(context)
    nl.events = [events.Start(), events.DataReceived(client, data)]
    return nl


@pytest.mark.parametrize("ip,target,direct", [
    (TEEN_IP, "www.example.org:443", True),
    (YOUNG_IP, "docs.example.org:443", True),
    (TEEN_IP, "www.instagram.com:443", False),     # catalog: mitmproxy's CONNECT handling, then intercept
    (TEEN_IP, "scontent.cdninstagram.com:443", False),
    (TEEN_IP, "www.google.com:443", False),        # SafeSearch depends on the subject: normal path
    (TEACHER_IP, "www.youtube.com:443", False),
    (TEEN_IP, "api.push.apple.com:443", False),    # pinned: http_connect may refuse it for the subject
    (TEEN_IP, "127.0.0.1:8443", False),            # IP literal: wait for the SNI
])
def test_explicit_connect_to_an_ordinary_name_gets_the_direct_tunnel(decider, ip, target, direct):
    nl = nextlayer_for(ip, head(target))
    decider.next_layer(nl)
    assert isinstance(nl.layer, DirectTunnel) is direct
    if not direct:
        assert nl.layer is None   # left to mitmproxy's own next_layer


def test_no_direct_tunnel_when_proxy_auth_is_required(stack, decider):
    pa = ProxyAuth()
    stack.tctx.master.addons.add(pa)
    stack.tctx.configure(pa, proxyauth="any")
    nl = nextlayer_for(TEEN_IP, head("www.example.org:443"))
    decider.next_layer(nl)
    assert nl.layer is None       # credentials are checked on mitmproxy's CONNECT flow


def test_nothing_is_decided_unless_placed_before_mitmproxys_next_layer(stack):
    d = TunnelDecider(stack.passthrough)
    nl = nextlayer_for(TEEN_IP, head("www.example.org:443"))
    d.next_layer(nl)
    assert nl.layer is None


def test_a_layer_chosen_by_someone_else_is_kept(decider):
    nl = nextlayer_for(TEEN_IP, head("www.example.org:443"))
    chosen = TCPLayer(nl.context)
    nl.layer = chosen
    decider.next_layer(nl)
    assert nl.layer is chosen


@pytest.mark.parametrize("ip,sni,connect_host,tunnel,reason", [
    (TEEN_IP, "www.example.org", "www.example.org", True, "passthrough"),
    (TEEN_IP, "www.example.org", "127.0.0.1", True, "passthrough"),
    (YOUNG_IP, "www.instagram.com", "127.0.0.1", False, None),          # IP literal + platform SNI
    (YOUNG_IP, "www.instagram.com", "www.example.org", False, None),    # fronting shape: stricter wins
    (YOUNG_IP, "www.example.org", "www.instagram.com", False, None),
    (TEEN_IP, "www.google.com", "www.google.com", False, None),          # SafeSearch for students
    (TEACHER_IP, "www.example.org", "www.example.org", True, "passthrough"),
    (TEEN_IP, "api.push.apple.com", "api.push.apple.com", True, "ignored"),
    (TEEN_IP, None, "127.0.0.1", False, None),      # no name at all: intercepted for students (issue 11)
    (TEEN_IP, None, "2130706433", False, None),     # the same address in decimal
    (TEACHER_IP, None, "127.0.0.1", False, None),   # a staff device by address alone has student rights
    (TEEN_IP, "www.example.org", "157.240.1.35", False, None),           # Meta's published range
    (TEEN_IP, "www.example.org", "64:ff9b::9df0:123", False, None),      # ... through NAT64
])
def test_tls_after_connect_is_tunnelled_without_tls_layers_when_it_passes(decider, ip, sni, connect_host,
                                                                         tunnel, reason):
    before = COUNTERS.values[(TUNNELS, (reason,))] if reason else None
    nl = nextlayer_for(ip, client_hello(sni), after_connect=connect_host)
    decider.next_layer(nl)
    if tunnel:
        assert isinstance(nl.layer, TCPLayer) and nl.layer.flow is None   # ignore=True: no flow, no hooks
        assert COUNTERS.values[(TUNNELS, (reason,))] == before + 1
    else:
        assert nl.layer is None   # mitmproxy builds the TLS layers; tls_clienthello counts it


def test_transparent_connections_are_decided_on_the_client_hello(decider):
    nl = nextlayer_for(TEEN_IP, client_hello("www.example.org"), mode=modes.TransparentProxy,
                       destination="93.184.215.14")
    decider.next_layer(nl)
    assert isinstance(nl.layer, TCPLayer)
    nl = nextlayer_for(YOUNG_IP, client_hello("www.instagram.com"), mode=modes.TransparentProxy,
                       destination="157.240.1.174")
    decider.next_layer(nl)
    assert nl.layer is None


@pytest.mark.parametrize("mode", [modes.ReverseProxy, modes.HttpProxy, modes.HttpUpstreamProxy])
def test_tls_spoken_to_the_proxy_itself_is_never_tunnelled(decider, mode):
    """A reverse proxy's TLS, or TLS to the proxy's own port (secure web proxy), is mitmproxy's."""
    nl = nextlayer_for(TEEN_IP, client_hello("www.example.org"), mode=mode, destination="www.example.org")
    decider.next_layer(nl)
    assert nl.layer is None


def test_an_incomplete_or_broken_client_hello_is_left_to_mitmproxy(decider):
    hello = client_hello("www.example.org")
    for data in (hello[:40], b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\xff\xff\xff\xff"):
        nl = nextlayer_for(TEEN_IP, data, after_connect="www.example.org")
        decider.next_layer(nl)
        assert nl.layer is None


def test_tls_clienthello_judges_the_connect_name_too(stack):
    """SNI says example.org, the CONNECT said instagram: intercepted (the stricter answer)."""
    from tests.addons.test_failmode_passthrough_core import client_hello_data
    data = client_hello_data("www.example.org", YOUNG_IP)
    data.context.server.address = ("www.instagram.com", 443)
    stack.passthrough.tls_clienthello(data)
    assert data.ignore_connection is False


def test_running_places_the_decider_before_mitmproxys_next_layer(stack):
    builtin = BuiltinNextLayer()
    d = TunnelDecider(stack.passthrough)
    with taddons.context(builtin, d) as tctx:
        chain = tctx.master.addons.chain
        assert chain.index(d) > chain.index(builtin)
        d.running()
        assert d.placed and chain.index(d) == chain.index(builtin) - 1


def test_place_before_reports_failure_instead_of_raising():
    class Manager:
        chain = ["a", "b"]

        def get(self, name):
            return None
    assert place_before(Manager(), "b", "nextlayer") is False
    assert place_before(object(), "b", "nextlayer") is False


# ---------------------------------------------------------------- the direct tunnel layer
def direct_tunnel(stack, ip: str, target: str = "www.example.org:443") -> tuple[DirectTunnel, bytes]:
    data = head(target)
    nl = nextlayer_for(ip, data)
    host, port, version, head_len = parse_connect_head(data)
    return DirectTunnel(nl.context, stack.passthrough, host, port, version, head_len), data


def open_server(tunnel: DirectTunnel, data: bytes) -> None:
    assert list(tunnel.handle_event(events.Start())) == []
    cmds = list(tunnel.handle_event(events.DataReceived(tunnel.context.client, data)))
    assert len(cmds) == 1 and isinstance(cmds[0], commands.OpenConnection)
    server = tunnel.context.server
    assert server.address == ("www.example.org", 443)
    server.timestamp_start = 1.0   # what the connection handler records once connected
    done = list(tunnel.handle_event(events.OpenConnectionCompleted(cmds[0], None)))
    assert [type(c) for c in done] == [commands.SendData]
    assert done[0].data == b"HTTP/1.1 200 Connection established\r\n\r\n"


def test_direct_tunnel_relays_raw_bytes_when_the_sni_passes(stack):
    t, data = direct_tunnel(stack, TEEN_IP)
    open_server(t, data)
    hello = client_hello("www.example.org")
    cmds = list(t.handle_event(events.DataReceived(t.context.client, hello[:20])))
    assert cmds == [] and t.child is None            # waits for the whole ClientHello
    cmds = list(t.handle_event(events.DataReceived(t.context.client, hello[20:])))
    assert isinstance(t.child, TCPLayer)
    assert [(type(c), c.connection, c.data) for c in cmds] == [(commands.SendData, t.context.server, hello)]
    cmds = list(t.handle_event(events.DataReceived(t.context.server, b"server bytes")))
    assert [(c.connection, c.data) for c in cmds] == [(t.context.client, b"server bytes")]


def test_direct_tunnel_hands_a_platform_sni_to_the_normal_stack(stack):
    t, data = direct_tunnel(stack, YOUNG_IP)
    open_server(t, data)
    cmds = list(t.handle_event(events.DataReceived(t.context.client, client_hello("www.instagram.com"))))
    assert isinstance(t.child, layer.NextLayer)
    assert any(type(c).__name__ == "NextLayerHook" for c in cmds)   # mitmproxy decides: TLS layers


def test_direct_tunnel_hands_plain_text_to_the_normal_stack(stack):
    t, data = direct_tunnel(stack, TEEN_IP)
    open_server(t, data)
    list(t.handle_event(events.DataReceived(t.context.client, b"GET / HTTP/1.1\r\nHost: www.instagram.com\r\n\r\n")))
    assert isinstance(t.child, layer.NextLayer)


def test_direct_tunnel_to_an_unreachable_site_is_accepted_and_intercepted_for_the_page(stack):
    """A browser never shows a page sent in answer to a CONNECT: the tunnel is accepted, marked,
    and its TLS intercepted (even for an ordinary name) so the upstream failure page can be shown."""
    t, data = direct_tunnel(stack, TEEN_IP)
    list(t.handle_event(events.Start()))
    cmds = list(t.handle_event(events.DataReceived(t.context.client, data)))
    out = list(t.handle_event(events.OpenConnectionCompleted(cmds[0], "Connection refused")))
    assert [type(c) for c in out] == [commands.SendData]
    assert out[0].data == b"HTTP/1.1 200 Connection established\r\n\r\n"
    assert stack.passthrough.unreachable[t.context.client.id] == "Connection refused"
    assert stack.passthrough.decide_names(["www.example.org"], t.context.client) == (True, "intercepted")
    list(t.handle_event(events.DataReceived(t.context.client, client_hello("www.example.org"))))
    assert isinstance(t.child, layer.NextLayer)         # TLS layers: intercepted, not relayed
    stack.passthrough.client_disconnected(t.context.client)
    assert t.context.client.id not in stack.passthrough.unreachable


def test_direct_tunnel_closes_when_the_client_leaves_before_deciding(stack):
    t, data = direct_tunnel(stack, TEEN_IP)
    open_server(t, data)
    t.context.server.state = ConnectionState.OPEN
    cmds = list(t.handle_event(events.ConnectionClosed(t.context.client)))
    assert [c.connection for c in cmds] == [t.context.client, t.context.server]


def test_direct_tunnel_keeps_bytes_pipelined_after_the_connect_head(stack):
    t, data = direct_tunnel(stack, TEEN_IP)
    hello = client_hello("www.example.org")
    list(t.handle_event(events.Start()))
    cmds = list(t.handle_event(events.DataReceived(t.context.client, data + hello)))
    assert isinstance(cmds[0], commands.OpenConnection)
    t.context.server.timestamp_start = 1.0
    out = list(t.handle_event(events.OpenConnectionCompleted(cmds[0], None)))
    assert [(c.connection, c.data) for c in out] == [
        (t.context.client, b"HTTP/1.1 200 Connection established\r\n\r\n"), (t.context.server, hello)]


def test_direct_tunnel_lets_mitmproxy_decide_when_the_server_speaks_first(stack):
    t, data = direct_tunnel(stack, TEEN_IP, "www.example.org:443")
    open_server(t, data)
    cmds = list(t.handle_event(events.DataReceived(t.context.server, b"220 mail.example.org ESMTP\r\n")))
    assert isinstance(t.child, layer.NextLayer)
    assert any(type(c).__name__ == "NextLayerHook" for c in cmds)
    assert t.child.data_server() == b"220 mail.example.org ESMTP\r\n"   # nothing lost


def test_direct_tunnel_closes_the_client_when_the_server_leaves_first(stack):
    t, data = direct_tunnel(stack, TEEN_IP)
    open_server(t, data)
    cmds = list(t.handle_event(events.ConnectionClosed(t.context.server)))
    assert t.context.client in [c.connection for c in cmds if isinstance(c, commands.CloseConnection)]
