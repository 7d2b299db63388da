"""Destinations addon: the proxy is not a way into its own machine or its network's private links.

A student who points a request at `127.0.0.1:9464` (the metrics port), `localhost`, a link-local
address (169.254.169.254, a cloud metadata service; fe80::/10) or one of the proxy machine's own
addresses would otherwise be connected there BY the proxy, from the proxy's side of the firewall.
Refused (403, crossingguard_refused_total{reason="local_destination"}) for every client except the
configured admin addresses (`crossingguard_admin_addresses`).

What is checked, twice:
  1. the destination the CLIENT names, in every form (the CONNECT target, the host of an
     absolute-form or Host-addressed request, numeric forms like 2130706433 or 0x7f.1 read as
     inet_aton reads them, IPv4-mapped and NAT64 IPv6): answered with a 403 before anything is
     connected;
  2. the address the proxy is about to CONNECT TO (`server_connect`): a name is resolved here and
     every address it resolves to is checked, so a public name that resolves to loopback, a link
     or this machine (DNS rebinding: `evil.example` -> 127.0.0.1) is refused too; the connection
     is then pinned to the address that was checked (mitmproxy would otherwise resolve the name
     again, and a rebinding server answers the second lookup differently). IPv4 first, then the
     resolver's order: one address is tried, not each in turn (docs/security.md 3.7).
     Exempt: the district's own upstream proxy of `--mode upstream:` (it resolves names itself,
     and may sit on loopback by design), and admin clients. A name that does not resolve is
     left alone (mitmproxy's own connect fails the same way).
Fail mode: connection-level, as guard.py says for http_connect (an error leaves the decision to the
request hooks, which fail closed for students); an error in the resolution check leaves the
connection as mitmproxy would make it (fail open: the firewall rule for the proxy user is the
second line) and is logged.

`crossingguard_local_destinations`: `refuse` (default) or `allow` (a lab setup that must reach
loopback services through the proxy, e.g. benchmarks connecting to a local origin by address).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from pathlib import Path

from mitmproxy import ctx, exceptions, http

from agent.metrics import COUNTERS, REFUSED
from agent.policy.catalog import normalize_address
from proxy_addons.failmode import guarded
from proxy_addons.verdict import verdict_of

log = logging.getLogger("crossingguard.destinations")

LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def own_addresses() -> frozenset[str]:
    """This machine's addresses (canonical text): every local IPv4 route entry and IPv6 address
    the kernel lists, and what the host name resolves to. Read once at configure."""
    found: set[str] = set()
    try:
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
        for prev, line in zip(lines, lines[1:]):
            if "/32 host LOCAL" in line:
                found.add(prev.strip().split()[-1])
    except OSError:
        pass
    try:
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            raw = line.split()[0]
            found.add(str(ipaddress.IPv6Address(int(raw, 16))))
    except (OSError, ValueError, IndexError):
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(info[4][0].partition("%")[0])
    except OSError:
        pass
    return frozenset(normalize_address(a) or a for a in found)


def is_local_destination(host: str, own: frozenset[str] = frozenset(), hostname: str = "") -> bool:
    """Whether a client-named destination is loopback, link-local, unspecified or this machine."""
    h = (host or "").strip().lower().rstrip(".")
    if not h:
        return False
    if h in LOCAL_NAMES or h.endswith(".localhost") or (hostname and h in (hostname, hostname.split(".")[0])):
        return True
    address = normalize_address(h)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or address in own


def is_local_address(address: str, own: frozenset[str] = frozenset()) -> bool:
    """Whether a resolved address (text) is loopback, link-local, unspecified or this machine."""
    canonical = normalize_address(address.partition("%")[0])
    if canonical is None:
        return False
    ip = ipaddress.ip_address(canonical)
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or canonical in own


def pin_order(addresses: list[str]) -> list[str]:
    """Resolved addresses, IPv4 first (a district proxy's IPv6 route is the one more often missing),
    otherwise in the resolver's order, without repeats."""
    seen = list(dict.fromkeys(addresses))
    return [a for a in seen if ":" not in a] + [a for a in seen if ":" in a]


async def resolve(host: str, port: int) -> list[str] | None:
    """The addresses `host` resolves to (an address resolves to itself); None when it does not resolve."""
    if normalize_address(host) is not None:
        return [normalize_address(host)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    return [info[4][0] for info in infos]


def upstream_proxies(modes) -> frozenset:
    """(host, port) of every `upstream:` proxy among mitmproxy's --mode specs."""
    from mitmproxy.proxy.mode_specs import ProxyMode, UpstreamMode
    found = set()
    for spec in modes or ():
        try:
            mode = ProxyMode.parse(spec)
        except ValueError:
            continue
        if isinstance(mode, UpstreamMode):
            found.add((mode.address[0].lower(), mode.address[1]))
    return frozenset(found)


def parse_networks(text: str) -> tuple:
    nets = []
    for item in (text or "").replace(" ", ",").split(","):
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


class Destinations:
    name = "crossingguard_destinations"

    def __init__(self, core) -> None:
        self.core = core
        self.refuse = True
        self.admins: tuple = ()
        self.own: frozenset[str] = frozenset()
        self.hostname = ""
        self.upstreams: frozenset = frozenset()

    def load(self, loader) -> None:
        loader.add_option("crossingguard_local_destinations", str, "refuse",
                          "refuse | allow: requests and tunnels to loopback, link-local or this machine's own "
                          "addresses (except from crossingguard_admin_addresses).")
        loader.add_option("crossingguard_admin_addresses", str, "",
                          "Comma-separated client addresses or networks (CIDR) that may reach loopback, "
                          "link-local and this machine's addresses through the proxy.")

    def configure(self, updated) -> None:
        if "crossingguard_local_destinations" in updated or "crossingguard_admin_addresses" in updated \
                or not self.own:
            mode = ctx.options.crossingguard_local_destinations
            if mode not in ("refuse", "allow"):
                raise exceptions.OptionsError(f"crossingguard_local_destinations: expected refuse or allow; got {mode!r}")
            try:
                self.admins = parse_networks(ctx.options.crossingguard_admin_addresses)
            except ValueError as exc:
                raise exceptions.OptionsError(f"crossingguard_admin_addresses: {exc}") from None
            self.refuse = mode == "refuse"
            self.own = own_addresses()
            self.hostname = socket.gethostname().lower()
        if "mode" in updated or not self.upstreams:
            self.upstreams = upstream_proxies(ctx.options.mode)

    def _is_admin(self, flow) -> bool:
        return self._is_admin_peer(flow.client_conn.peername)

    def _is_admin_peer(self, peer) -> bool:
        if not peer or not self.admins:
            return False
        try:
            ip = ipaddress.ip_address(normalize_address(peer[0]) or peer[0])
        except ValueError:
            return False
        return any(ip in net for net in self.admins if net.version == ip.version)

    def _refuse(self, flow, target: str) -> None:
        v = verdict_of(flow)
        COUNTERS.inc(REFUSED, "local_destination")
        log.warning("crossingguard: refused a request from %s to a local destination (%s); request id %s",
                    flow.client_conn.peername[0] if flow.client_conn.peername else "?", target, v.request_id)
        flow.response = http.Response.make(
            403, f"The filter does not connect to its own machine or local network links. Request id {v.request_id}\n".encode(),
            {"Content-Type": "text/plain; charset=utf-8", "X-CrossingGuard-Request-Id": v.request_id,
             "Connection": "close"})

    def _check(self, flow, names) -> None:
        if not self.refuse or flow.response is not None:
            return
        for name in names:
            if name and is_local_destination(name, self.own, self.hostname):
                if not self._is_admin(flow):
                    self._refuse(flow, name)
                return

    @guarded("destinations")
    def http_connect(self, flow: http.HTTPFlow) -> None:
        self._check(flow, (flow.request.host,))

    @guarded("destinations")
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.request.method == "CONNECT":
            return
        # Only what the client named: the Host header and an absolute-form authority. Not
        # request.host, which inside a tunnel is the server address (possibly re-addressed by an
        # addon or an upstream route); the tunnel's own CONNECT target was checked in http_connect.
        names = [flow.request.host_header or ""]
        authority = flow.request.authority
        if authority:
            names.append(authority.rpartition(":")[0] if authority.count(":") == 1 else authority)
        self._check(flow, [n.rpartition(":")[0] if n.count(":") == 1 else n for n in names])

    async def server_connect(self, data) -> None:
        """Check 2 (module doc): what the proxy connects to, after resolution; pinned."""
        server = data.server
        if not self.refuse or server.error or not server.address:
            return
        host, port = str(server.address[0]).lower().rstrip("."), server.address[1]
        if (host, port) in self.upstreams or self._is_admin_peer(data.client.peername):
            return
        try:
            addresses = await resolve(host, port)
            if not addresses:
                return
            local = [a for a in addresses if is_local_address(a, self.own)]
            if local:
                COUNTERS.inc(REFUSED, "local_destination")
                peer = data.client.peername[0] if data.client.peername else "?"
                log.warning("crossingguard: refused a connection for %s to %s: it resolves to a local "
                            "address (%s)", peer, host, local[0])
                server.error = f"{host} resolves to a local address; the filter does not connect there"
                return
            if normalize_address(host) is None:        # a name: connect to the address just checked
                if server.sni is None:
                    server.sni = host                  # what TLS would have sent for the name
                server.address = (pin_order(addresses)[0], port)
        except Exception:    # fail open here (module doc): the firewall rule is the second line
            log.exception("crossingguard: checking the resolved destination %s failed; connecting as is", host)
