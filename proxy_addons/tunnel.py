"""The tunnel layer: recognise a pass-through tunnel before mitmproxy builds HTTP/TLS layers,
and refuse tunnels to inspected names that we cannot read. The decision itself ("intercept?")
is `proxy_addons/passthrough.py`'s; this module only applies it, as early as possible.

Relies on mitmproxy internals (layer classes, the addon chain): docs/mitmproxy-internals.md.

Where it is decided, earliest first (a tunnel costs less the earlier it is recognised):
  1. `next_layer` on an explicit proxy's first bytes (TunnelDecider.DirectTunnel): a complete
     `CONNECT name:port` to a host NAME that passes through for everyone (not pinned, not in the
     catalog, search platforms included) is answered by us; we read the ClientHello, check its SNI, and
     relay raw bytes. No HTTP layer, no flow, no TLS layer: the ~8 hook rounds of a CONNECT flow
     and the per-chunk HTTP/TLS wrapping are skipped. If the SNI needs interception, or the bytes
     are not a TLS ClientHello (plain HTTP inside CONNECT is inspected), the connection continues
     on mitmproxy's normal stack exactly as after its own CONNECT handling.
     Not used when proxyauth is configured (mitmproxy checks the credentials on the CONNECT flow,
     which this path would skip) nor in upstream/transparent modes.
  2. `next_layer` after a CONNECT, or on a transparent/SOCKS connection: the ClientHello is already
     in the buffer; if it passes through, a raw TCP layer is chosen and no TLS layer is built.
     (Never for TLS spoken to the proxy itself: reverse proxy, HTTPS to the proxy port.)
  3. `tls_clienthello` (the layer built by mitmproxy anyway, e.g. a ClientHello split over several
     reads, or the decider not placed before mitmproxy's own next_layer addon): same decision.
An IP-literal CONNECT therefore always waits for the SNI (steps 2/3), so an app that connects to an
address and names instagram.com in its ClientHello is intercepted like any Instagram connection.

Why a name alone may decide (step 1): a CONNECT by name reaches whatever that name resolves to, and
SNI is still checked against the policy before any byte is relayed. What remains possible is what
pass-through of ordinary sites allows anyway: someone who controls an ordinary domain can run any
service behind it. That is the accepted cost of not decrypting ordinary sites.

Costs measured here (bench/bench_proxy.py, 2 CPUs): an intercepted visit (new connection, TLS
handshake, 4 requests) ~12 ms of proxy CPU; a tunnelled one ~4.5 ms with mitmproxy's HTTP and TLS
layers and ~2 ms via step 1 (with leanlog.py). What remains is mitmproxy's per-connection machinery
(about 6 hook rounds over ~47 addons at ~70 us each, asyncio transports, tasks); a bare asyncio
relay does the same visit in ~0.8 ms.

Tunnels we cannot read (FAIL CLOSED, decided in `next_layer`): a tunnel to a name that must be
inspected (passthrough.py's intercept answer: catalog platform, DoH resolver, blocked host, search
platform) whose client does not start with a TLS ClientHello or an HTTP request line is refused: both
connections are closed, nothing is relayed, and it is counted (TUNNELS "refused"; BLOCKS with the
platform and guideline when the policy blocks the platform for that subject). mitmproxy would
otherwise relay such bytes raw (its `rawtcp` fallback), e.g. WhatsApp's own protocol after
`CONNECT g.whatsapp.net:443`, unseen by the policy. The same rule applies to the bytes inside
TLS we intercepted for such a name (e.g. MQTT over TLS to a platform host: decrypted, not HTTP),
and when the server speaks first (no client byte yet, a server greeting): refused. Bytes that
do not tell yet (fewer than 3 bytes, or the first letters of a request line) are held until they
do (GuardedTunnel); HTTP goes to an HTTP layer chosen by us (not mitmproxy's `tcp_hosts`/raw
fallback), TLS to the TLS layers and `tls_clienthello`. If deciding the name raises, the name
counts as one to inspect (so TLS and HTTP are inspected and anything else is refused). The cost:
nobody, staff included, can use a platform's own non-web protocol through the proxy (WhatsApp's
native app, MQTT push); its web version works as before. Ordinary hosts keep raw pass-through.

"""
from __future__ import annotations

import logging
import re

from mitmproxy import ctx
from mitmproxy.net.tls import starts_like_tls_record
from mitmproxy.proxy import commands, events, layer
from mitmproxy.proxy.layers import ClientTLSLayer, HttpLayer, ServerTLSLayer, TCPLayer, modes
from mitmproxy.proxy.layers.http import HTTPMode
from mitmproxy.proxy.layers.tls import parse_client_hello

from agent.metrics import COUNTERS, TUNNELS
from proxy_addons.failmode import guarded
from proxy_addons.limits import mark_progress
from proxy_addons.passthrough import DOT_PORT, Passthrough, _norm, connection_names, is_ip_literal

log = logging.getLogger("crossingguard.passthrough")

MAX_CLIENT_HELLO = 64 * 1024   # bytes buffered while waiting for a complete ClientHello; then: normal stack
MAX_CONNECT_HEAD = 8 * 1024     # a longer CONNECT head is left to mitmproxy's own parser
# "CONNECT host:port HTTP/1.x" - strict on purpose; anything unusual goes the normal (slower) way.
_CONNECT_LINE = re.compile(rb"CONNECT ([A-Za-z0-9.-]{1,253}):([0-9]{1,5}) (HTTP/1\.[01])\r\n")


MAX_METHOD = 16                 # an HTTP method longer than this is not HTTP


def first_bytes_kind(data: bytes) -> str:
    """What a client's first bytes in a tunnel are: "tls" (a TLS record), "http" (a request line:
    letters then a space), "more" (too few bytes to tell) or "other"."""
    if not data:
        return "more"
    if data[0] == 0x16:
        if starts_like_tls_record(data):
            return "tls"
        return "more" if len(data) < 3 and data == b"\x16\x03"[:len(data)] else "other"
    n = 0
    while n < len(data) and n <= MAX_METHOD and (65 <= data[n] <= 90 or 97 <= data[n] <= 122):
        n += 1
    if n == len(data):
        return "more" if n <= MAX_METHOD else "other"
    return "http" if 3 <= n <= MAX_METHOD and data[n] == 0x20 else "other"


def parse_connect_head(data: bytes) -> tuple[str, int, str, int] | None:
    """(host, port, http_version, head length) of a complete, plain `CONNECT name:port` request head
    (any headers), or None when the bytes are anything else (incomplete, odd, an IP literal...)."""
    end = data.find(b"\r\n\r\n", 0, MAX_CONNECT_HEAD)
    if end < 0:
        return None
    m = _CONNECT_LINE.match(data)
    if m is None:
        return None
    host, port = m.group(1).decode("ascii").lower().rstrip("."), int(m.group(2))
    if not host or not 0 < port < 65536 or is_ip_literal(host) or ".." in host:
        return None
    return host, port, m.group(3).decode("ascii"), end + 4


class DirectTunnel(layer.Layer):
    """Answers an explicit proxy's `CONNECT name:port` itself, then relays raw bytes once the
    ClientHello's SNI is known to pass; otherwise continues on mitmproxy's normal stack.

    Replaces, for ordinary sites only, what mitmproxy's HTTP layer does for a CONNECT (eager
    server connection, "200 Connection established"). When the site cannot be reached, the tunnel
    is still accepted and then intercepted, so the browser shows the upstream failure page.
    """

    def __init__(self, context, passthrough: Passthrough, host: str, port: int, version: str, head_len: int):
        super().__init__(context)
        self.passthrough = passthrough
        self.host, self.port, self.version = host, port, version
        self.head_left = head_len       # CONNECT head bytes not consumed yet
        self.buffer = b""               # client bytes after the head, before a decision
        self.pending: list[events.Event] = []   # events after the head, replayed to the chosen layer
        self.state = "head"             # head -> connecting -> hello -> (child) | closed
        self.child: layer.Layer | None = None

    def _handle_event(self, event: events.Event) -> layer.CommandGenerator[None]:
        if self.child is not None:
            yield from self.child.handle_event(event)
            return
        if self.state == "closed":
            return
        client = self.context.client
        if isinstance(event, events.ConnectionClosed):
            # Either side leaving before a decision ends the tunnel (nothing was relayed yet).
            self.state = "closed"
            yield commands.CloseConnection(client)
            if self.context.server.connected:
                yield commands.CloseConnection(self.context.server)
            return
        if not isinstance(event, events.DataReceived):
            return   # Start: nothing to do until the CONNECT head is complete
        if event.connection != client:
            # The server spoke first (not a TLS client): mitmproxy's normal stack decides.
            self.pending.append(event)
            yield from self._choose(relay=False)
            return
        data = event.data
        if self.head_left:
            taken = min(self.head_left, len(data))
            self.head_left -= taken
            data = data[taken:]
        if data:
            self.buffer += data
            self.pending.append(events.DataReceived(client, data))
        if self.state == "head" and not self.head_left:
            self.state = "connecting"
            yield from self._connect()
        if self.state == "hello":
            yield from self._check_hello()

    def _connect(self) -> layer.CommandGenerator[None]:
        server, client = self.context.server, self.context.client
        server.address = (self.host, self.port)
        err = yield commands.OpenConnection(server)
        if err:
            # The site cannot be reached. A browser never shows a page sent in answer to a
            # CONNECT ("tunnel connection failed"), so the tunnel is accepted and intercepted only
            # to show the district's page; the site is not tried again on this connection
            # (proxy_addons/upstream.py).
            self.passthrough.mark_unreachable(client, str(err))
        yield commands.SendData(client, f"{self.version} 200 Connection established\r\n\r\n".encode())
        self.state = "hello"

    def _check_hello(self) -> layer.CommandGenerator[None]:
        data = self.buffer
        if not data:
            return
        if len(data) < 3 and data == b"\x16\x03"[:len(data)]:
            return   # too little to tell yet
        relay = False
        if starts_like_tls_record(data):
            try:
                hello = parse_client_hello(data)
            except ValueError:
                hello = None   # not a valid ClientHello: the normal stack decides (and logs) it
            else:
                if hello is None and len(data) < MAX_CLIENT_HELLO:
                    return   # wait for the rest of the ClientHello
            if hello is not None:
                relay = self._sni_passes(hello.sni)
        yield from self._choose(relay)

    def _choose(self, relay: bool) -> layer.CommandGenerator[None]:
        if relay:
            COUNTERS.inc(TUNNELS, "passthrough")
            self.child = TCPLayer(self.context, ignore=True)
        else:
            # SNI needs interception, or not TLS: continue exactly as after mitmproxy's own CONNECT
            # handling (next_layer, TLS layers, tls_clienthello, HTTP layer and our request hooks).
            self.child = layer.NextLayer(self.context)
        pending, self.pending, self.buffer = _coalesce(self.pending), [], b""
        yield from self.child.handle_event(events.Start())
        for event in pending:
            yield from self.child.handle_event(event)

    def _sni_passes(self, sni: str | None) -> bool:
        try:
            names = connection_names(sni, self.host)
            intercept, _ = self.passthrough.decide_names(names, self.context.client)
            return not intercept
        except Exception:   # fail towards inspection (module doc)
            log.exception("crossingguard: deciding a direct tunnel failed; intercepting it")
            return False


def _coalesce(pending: list) -> list:
    """Adjacent data from the same side as one event (one write to the other side, not several)."""
    out: list = []
    for event in pending:
        if out and out[-1].connection == event.connection:
            out[-1] = events.DataReceived(event.connection, out[-1].data + event.data)
        else:
            out.append(event)
    return out


class RefusedTunnel(layer.Layer):
    """Closes both sides at once; nothing is relayed (module doc: tunnels we cannot read)."""

    def __init__(self, context):
        super().__init__(context)
        self.closed = False

    def _handle_event(self, event: events.Event) -> layer.CommandGenerator[None]:
        if self.closed:
            return   # whatever else arrives is dropped
        self.closed = True
        yield commands.CloseConnection(self.context.client)
        if self.context.server.connected:
            yield commands.CloseConnection(self.context.server)


class GuardedTunnel(layer.Layer):
    """A tunnel to a name that must be inspected whose first bytes do not tell the protocol yet:
    holds every event until they do, then continues on the layer for what they are (module doc).
    Never relays anything itself; a server speaking first, or the client leaving, ends it."""

    def __init__(self, context, passthrough: Passthrough, names: list[str]):
        super().__init__(context)
        self.passthrough, self.names = passthrough, names
        self.data = b""                          # client bytes so far
        self.child: layer.Layer | None = None

    def _handle_event(self, event: events.Event) -> layer.CommandGenerator[None]:
        if self.child is not None:
            yield from self.child.handle_event(event)
            return
        client = self.context.client
        if isinstance(event, events.ConnectionClosed):
            yield from self._refuse(event)
            return
        if not isinstance(event, events.DataReceived):
            return   # Start: nothing to do until bytes arrive
        if event.connection == client:
            self.data += event.data
            kind = first_bytes_kind(self.data)
            if kind == "more":
                return
        else:
            kind = "other"   # the server spoke first
        if kind == "other":
            self.passthrough.count_refused(self.names, client)
            yield from self._refuse(event)
            return
        # TLS goes back to the normal stack (TLS layers, tls_clienthello); HTTP to an HTTP layer.
        # Either way the child sees the bytes as ONE event, so it decides on all of them.
        self.child = HttpLayer(self.context, HTTPMode.transparent) if kind == "http" \
            else layer.NextLayer(self.context)
        data, self.data = self.data, b""
        yield from self.child.handle_event(events.Start())
        yield from self.child.handle_event(events.DataReceived(client, data))

    def _refuse(self, event: events.Event) -> layer.CommandGenerator[None]:
        self.child = RefusedTunnel(self.context)
        yield from self.child.handle_event(event)


class TunnelDecider:
    """`next_layer`: recognises tunnels before mitmproxy builds HTTP/TLS layers (module doc, 1-2).

    Must run before mitmproxy's own `nextlayer` addon (which builds the TLS layers, with side
    effects on the connection, and never overrides a choice already made). Built-in addons come
    first in the chain, so on `running` this addon moves itself in front of it; if that is not
    possible (a changed mitmproxy API), it stays where it is and does nothing: `tls_clienthello`
    still decides (correct, only slower).
    """
    name = "crossingguard_tunnel_decider"

    def __init__(self, passthrough: Passthrough) -> None:
        self.passthrough = passthrough
        self.core = passthrough.core   # for @guarded
        self.placed = False

    def running(self) -> None:
        self.placed = place_before(ctx.master.addons, self, "nextlayer")
        if not self.placed:
            log.info("crossingguard: could not place the tunnel decider before mitmproxy's next_layer; "
                     "tunnels are decided on the ClientHello instead")

    @guarded("passthrough")
    def next_layer(self, nextlayer) -> None:
        context = nextlayer.context
        if context.client.transport_protocol != "tcp":
            return
        if nextlayer.layer is not None or not self.placed:
            # Placed after mitmproxy's next_layer (or another addon chose): only make sure a tunnel
            # we must read is not relayed raw.
            if isinstance(nextlayer.layer, TCPLayer) or nextlayer.layer is None:
                self._unreadable_tunnel(nextlayer, override=True)
            return
        data = nextlayer.data_client()
        stack = context.layers
        if not data:
            if nextlayer.data_server():
                self._unreadable_tunnel(nextlayer)   # the server spoke first
            return
        if len(stack) == 1 and type(stack[0]) is modes.HttpProxy:
            self._explicit_proxy_start(nextlayer, data)
        elif context.server.address and starts_like_tls_record(data) and _tunnel_position(stack):
            self._tls_start(nextlayer, data)
        else:
            self._unreadable_tunnel(nextlayer)

    def _unreadable_tunnel(self, nextlayer, override: bool = False) -> None:
        """A tunnel to a name that must be inspected, whose bytes are neither TLS nor HTTP: refused
        (module doc). Right after the CONNECT / on a transparent connection, and inside the TLS we
        intercepted there (decrypted bytes that are not HTTP would otherwise be relayed unread)."""
        context = nextlayer.context
        if not context.server.address:
            return
        inner = _inside_intercepted_tls(context.layers)
        if not inner and not _tunnel_position(context.layers):
            return
        data = nextlayer.data_client()
        kind = first_bytes_kind(data)
        if kind == "tls":
            if not inner:
                return   # the TLS layers and tls_clienthello decide
            kind = "other"   # TLS inside the TLS we opened: nothing we can read
        names = connection_names(context.client.sni if inner else None, context.server.address[0])
        asked = _connect_name(context.layers)
        if asked and asked not in names:
            names.append(asked)   # an addon may have re-addressed the server; the client's name counts
        if not self.passthrough.must_inspect(names, context.client):
            return
        if override and nextlayer.layer is not None and nextlayer.layer in context.layers:
            context.layers.remove(nextlayer.layer)   # replacing mitmproxy's raw TCP choice
        if kind == "http":
            nextlayer.layer = HttpLayer(context, HTTPMode.transparent)
            return
        if kind == "more" and not nextlayer.data_server():
            if any(isinstance(x, GuardedTunnel) for x in context.layers):
                return   # cannot happen (GuardedTunnel replays complete bytes); never stack two
            nextlayer.layer = GuardedTunnel(context, self.passthrough, names)
            return
        self.passthrough.count_refused(names, context.client)
        nextlayer.layer = RefusedTunnel(context)

    def _explicit_proxy_start(self, nextlayer, data: bytes) -> None:
        if getattr(ctx.options, "proxyauth", None):
            return   # credentials are checked on mitmproxy's CONNECT flow (module doc)
        head = parse_connect_head(data)
        if head is None:
            return
        host, port, version, head_len = head
        if port == DOT_PORT or not self.passthrough.passes_by_name(host):
            return
        mark_progress(nextlayer.context.client)   # a complete CONNECT head (limits.py header timeout)
        nextlayer.layer = DirectTunnel(nextlayer.context, self.passthrough, host, port, version, head_len)

    def _tls_start(self, nextlayer, data: bytes) -> None:
        try:
            hello = parse_client_hello(data)
        except ValueError:
            return   # mitmproxy's TLS layer will report the broken ClientHello
        if hello is None:
            return   # incomplete: let the TLS layer wait for it; tls_clienthello decides
        context = nextlayer.context
        names = connection_names(hello.sni, context.server.address[0])
        if not names:
            return
        intercept, reason = self.passthrough.decide_names(names, context.client)
        if intercept:
            return   # mitmproxy builds the TLS layers; tls_clienthello counts it
        COUNTERS.inc(TUNNELS, reason)
        mark_progress(context.client)   # a complete ClientHello (limits.py header timeout)
        nextlayer.layer = TCPLayer(context, ignore=True)


def _connect_name(stack: list) -> str:
    """The host of the CONNECT request that opened this tunnel (mitmproxy's HTTP stream layer
    keeps that flow; our DirectTunnel keeps the name it answered), or "" when there is none
    (transparent mode). The client's name matters: an addon may have re-addressed the server, and
    a tunnel is only nameless when the CLIENT named no host."""
    for x in stack:
        if isinstance(x, DirectTunnel):
            return _norm(x.host)
        flow = getattr(x, "flow", None)
        request = getattr(flow, "request", None)
        if request is not None and request.method == "CONNECT":
            return _norm(request.host)
    return ""


def _inside_intercepted_tls(stack: list) -> bool:
    """Whether this is the first layer inside TLS we intercepted at a tunnel position (module doc)."""
    stack = [x for x in stack if not isinstance(x, GuardedTunnel)]
    return len(stack) >= 3 and isinstance(stack[-2], ServerTLSLayer) and \
        isinstance(stack[-1], ClientTLSLayer) and _tunnel_position(_without_http_streams(stack[:-2]))


def _without_http_streams(stack: list) -> list:
    """The stack without mitmproxy's per-request HTTP stream layers (a CONNECT leaves one)."""
    return [x for x in stack if type(x).__name__ != "HttpStream"]


def _tunnel_position(stack: list) -> bool:
    """Whether a ClientHello at this point of the layer stack is a client's TLS to a site: right after
    an explicit proxy's CONNECT (or our DirectTunnel), or on a transparent/SOCKS connection. Not a
    reverse proxy's own TLS, not TLS spoken to the proxy itself, not inside an intercepted TLS layer."""
    stack = [x for x in stack if not isinstance(x, GuardedTunnel)]
    if not stack or any(isinstance(x, (ServerTLSLayer, ClientTLSLayer)) for x in stack):
        return False
    first = type(stack[0])
    if first in (modes.HttpProxy, modes.HttpUpstreamProxy):
        return len(stack) >= 2 and isinstance(stack[1], (HttpLayer, DirectTunnel))
    return len(stack) == 1 and first in (modes.TransparentProxy, modes.Socks5Proxy)


def place_before(manager, addon, builtin_name: str) -> bool:
    """Move `addon` (already registered) in `manager.chain` to just before the named built-in."""
    chain = getattr(manager, "chain", None)
    if not isinstance(chain, list) or addon not in chain:
        return False
    try:
        target = manager.get(builtin_name)
    except Exception:
        return False
    if target is None or target not in chain:
        return False
    chain.remove(addon)
    chain.insert(chain.index(target), addon)
    return True
