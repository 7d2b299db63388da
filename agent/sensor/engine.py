"""The sensor proper: decoded frames in, name events out.

`Sensor.feed(ts, linktype, frame)` is called once per captured frame. Cheap byte checks decide
whether a payload can carry a name (DNS, a TLS ClientHello, an HTTP request head, a QUIC
Initial, DHCP, a VPN/BitTorrent handshake); everything else is dropped after the header decode,
so bulk traffic never reaches a parser. Events go to the `emit` callback as `Event` records.

Bypass reasons (the `bypass` field; also the `kind` label of crossingguard_sensor_bypasses_total):
  direct          a catalog platform reached over TCP to an address that is not the proxy
                  (only when --proxy is given: without it we cannot tell what went around it)
  quic            QUIC (UDP) to a catalog platform: the proxy never sees UDP
  doh             TLS/HTTP/QUIC to a known DNS-over-HTTPS resolver (catalog category doh), not via the proxy
  dot             TLS on port 853 (DNS over TLS) to a known resolver address or name
  vpn_wireguard, vpn_openvpn, vpn_ipsec   VPN handshakes
  tor             a ClientHello that looks like Tor's (agent/sensor/signatures.py: tor_like)
  bittorrent, bittorrent_dht              file sharing (student guideline 10)
  mac_change      a known address (current DHCP lease or device registry) seen with another MAC
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from agent.identity.leases import LeaseMap
from agent.sensor import dhcp as dhcpmod
from agent.sensor import quic as quicmod
from agent.sensor.dnsmsg import parse_dns
from agent.sensor.flows import FlowTable, Stream
from agent.sensor.httpreq import FAILED as HTTP_FAILED, NEED_MORE as HTTP_MORE, looks_like_http, request_host
from agent.sensor.signatures import tcp_signature, tor_like, udp_signature
from agent.sensor.tlshello import FAILED, NEED_MORE, hello_from_handshake, hello_from_records, \
    looks_like_tls, parse_client_hello
from agent.sensor.wire import ACK, EN10MB, FIN, RST, SYN, TCP, UDP, decode, ip_text, mac_text

KINDS = ("dns", "tls", "quic", "http", "dhcp", "vpn", "p2p")
BYPASS_REASONS = ("direct", "quic", "doh", "dot", "vpn_wireguard", "vpn_openvpn", "vpn_ipsec", "tor",
                  "bittorrent", "bittorrent_dht", "mac_change")
DHCP_PORTS = (67, 68)
LOCAL_DNS_PORTS = {5353: "mdns", 5355: "llmnr"}
ROUTER_ADDRESSES = 4  # a MAC seen with more known addresses than this is a router: no mac_change from it
CLASSIFY_BYTES = 8    # enough of a stream's start to tell TLS, an HTTP method or a VPN/BitTorrent handshake


@dataclass
class Limits:
    """Caps that keep memory bounded on long captures (see agent/sensor/flows.py)."""
    streams: int = 16384          # TCP directions being reassembled
    stream_bytes: int = 32768     # bytes kept per stream (a ClientHello or request head fits)
    syns: int = 65536             # connections whose SYN we saw and whose first data we await
    quic: int = 8192              # QUIC handshakes being reassembled
    names: int = 200_000          # address -> name entries learnt from DNS answers
    timeout: float = 30.0         # idle seconds (packet time) before a flow's state is dropped
    repeat_window: float = 60.0   # a repeated DHT/VPN signature from one device is reported once per window


@dataclass
class Event:
    ts: float
    src: str | None
    src_mac: str | None
    dst: str | None
    kind: str
    name: str | None
    platform: str | None
    bypass: str | None
    extra: dict = field(default_factory=dict)
    # (src, dst, sport, dport, first seq, next seq, ack, src_mac) raw, for a TLS event: not written out
    tcp: tuple | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        out = {"ts": iso_time(self.ts), "src": self.src,
               "src_mac": self.src_mac, "dst": self.dst, "kind": self.kind, "name": self.name,
               "platform": self.platform, "bypass": self.bypass}
        out.update(self.extra)
        return out


def iso_time(ts: float) -> str | float:
    """ISO 8601 UTC; a capture timestamp outside what datetime can show stays a number."""
    try:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat()
    except (OverflowError, ValueError, OSError):
        return ts


def judge_bypass(kind: str, category: str | None, platform: str | None, *, dport: int | None,
                 via_proxy: bool, proxy_known: bool) -> str | None:
    """The bypass reason for a named event (module doc); None when it is ordinary."""
    if kind in ("tls", "quic", "http") and category == "doh":
        if kind == "tls" and dport == 853:
            return "dot"
        return None if via_proxy else "doh"
    if kind == "tls" and dport == 853 and category == "doh":
        return "dot"
    if platform is None or via_proxy:
        return None
    if kind == "quic":
        return "quic"
    if kind in ("tls", "http") and proxy_known:
        return "direct"
    return None


class _QuicState:
    __slots__ = ("version", "keys", "frags", "size", "done")

    def __init__(self, version, keys):
        self.version, self.keys = version, keys
        self.frags: dict[int, bytes] = {}
        self.size = 0
        self.done = False

    def add(self, off: int, data: bytes) -> None:
        if off < 65536 and self.size + len(data) <= 65536 and off not in self.frags:
            self.frags[off] = data
            self.size += len(data)

    def assembled(self) -> bytes:
        buf = bytearray()
        for off in sorted(self.frags):
            if off > len(buf):
                break
            data = self.frags[off]
            if off + len(data) > len(buf):
                buf += data[len(buf) - off:]
        return bytes(buf)


class Sensor:
    def __init__(self, catalog, emit: Callable[[Event], None], *, proxy: tuple[bytes, int | None] | None = None,
                 leases: LeaseMap | None = None, expected_macs: Callable[[str], frozenset | None] | None = None,
                 limits: Limits | None = None):
        self.catalog = catalog
        self.emit = emit
        self.proxy = proxy
        self.leases = leases if leases is not None else LeaseMap(None)
        self.expected_macs = expected_macs
        self.limits = lim = limits or Limits()
        self.streams = FlowTable(lim.streams, lim.timeout)
        self.syns = FlowTable(lim.syns, lim.timeout)
        self.quic = FlowTable(lim.quic, lim.timeout)
        self.names = FlowTable(lim.names, 3600.0)         # raw address -> name (from DNS answers)
        self.resolved = FlowTable(lim.names, 3600.0)      # names some device resolved (Tor heuristic)
        self.repeats = FlowTable(lim.syns, lim.repeat_window)
        self.mac_reported = FlowTable(65536, 3600.0)
        self.mac_ips = FlowTable(65536, 3600.0)           # MAC -> addresses seen behind it (router test)
        self.packets = 0
        self.decoded = 0
        self.errors = 0
        self.last_error: Exception | None = None
        self._last_sweep = 0.0
        self._now = 0.0
        self._tcp_state = None
        self._frame, self._linktype = b"", 0

    # -- input -------------------------------------------------------------------------------
    def feed(self, ts: float, linktype: int, frame: bytes) -> None:
        """One captured frame. Never raises: a parser bug on a hostile packet loses that packet only."""
        self.packets += 1
        if ts > self._now:
            self._now = ts
            if ts - self._last_sweep > 5.0:
                self.sweep(ts)
        r = decode(linktype, frame)
        if r is None:
            return
        self._frame, self._linktype = frame, linktype   # for the rare reader of the destination MAC
        self.decoded += 1
        try:
            mac, src, dst, proto, sport, dport, flags, seq, payload, ack = r
            if proto == TCP:
                self._tcp(ts, mac, src, dst, sport, dport, flags, seq, payload, ack)
            elif payload:
                self._udp(ts, mac, src, dst, sport, dport, payload)
        except Exception as exc:   # fail-safe by design: the sensor is passive, one bad packet must not stop it
            self.errors += 1
            self.last_error = exc

    def sweep(self, now: float) -> None:
        self._last_sweep = now
        for table in (self.streams, self.syns, self.quic, self.repeats):
            table.sweep(now)

    # -- TCP --------------------------------------------------------------------------------
    def _tcp(self, ts, mac, src, dst, sport, dport, flags, seq, payload, ack) -> None:
        key = (src, sport, dst, dport)
        if flags & SYN:
            if not flags & ACK:
                self.syns.put(key, seq, ts)
                if dport == 853:
                    self._dot_syn(ts, mac, src, dst, dport)
            if not payload:
                return
            seq = (seq + 1) & 0xFFFFFFFF   # data in a SYN (TCP Fast Open) starts after the SYN's own number
        elif not payload:
            if flags & (FIN | RST):
                self.streams.pop(key)
                self.syns.pop(key)
            return
        st = self.streams.items.get(key)
        if st is not None:
            st.ack = ack
            self.streams.touch(key, ts)
            if st.add(seq, payload):
                self._advance(key, st, ts, mac, src, dst, sport, dport)
            return
        isn = self.syns.items.get(key)
        if isn is not None:
            base = (isn + 1) & 0xFFFFFFFF
            off = (seq - base) & 0xFFFFFFFF
            self.syns.pop(key)
            if off == 0:
                proto = _classify(payload, sport, dport)
                if proto is None and len(payload) >= CLASSIFY_BYTES:
                    self._tcp_signature(ts, mac, src, dst, dport, payload)
                    return
                # (a first segment of a byte or two, an evasion trick, waits for the next ones)
            elif off < self.limits.stream_bytes:
                proto = None    # ahead of the first byte: wait for it to tell what this is
            else:
                return
            st = Stream(base, proto, self.limits.stream_bytes)
            st.ack = ack
            self.streams.put(key, st, ts)
            if st.add(seq, payload):
                self._advance(key, st, ts, mac, src, dst, sport, dport)
            return
        proto = _classify(payload, sport, dport)
        if proto is None:
            self._tcp_signature(ts, mac, src, dst, dport, payload)
            return
        st = Stream(seq, proto, self.limits.stream_bytes)
        st.ack = ack
        self.streams.put(key, st, ts)
        st.add(seq, payload)
        self._advance(key, st, ts, mac, src, dst, sport, dport)

    def _advance(self, key, st: Stream, ts, mac, src, dst, sport, dport) -> None:
        if st.proto is None:
            if len(st.data) < CLASSIFY_BYTES and not st.full:
                return
            st.proto = _classify(bytes(st.data[:CLASSIFY_BYTES]), sport, dport)
            if st.proto is None:
                self.streams.pop(key)
                self._tcp_signature(ts, mac, src, dst, dport, bytes(st.data))
                return
        data = st.data
        if st.proto == "tls":
            body = hello_from_records(data)
            if body is NEED_MORE:
                if st.full:
                    self.streams.pop(key)
                return
            self.streams.pop(key)
            if body is FAILED:
                return
            hello = parse_client_hello(body)
            if hello is not None:
                # where the connection stands, for optional reset injection (agent/sensor/enforce.py)
                self._tcp_state = (src, dst, sport, dport, st.base, (st.base + len(data)) & 0xFFFFFFFF, st.ack, mac)
                self._hello(ts, mac, src, dst, dport, "tls", hello)
                self._tcp_state = None
        elif st.proto == "http":
            got = request_host(bytes(data))
            if got is HTTP_MORE:
                if st.full:
                    self.streams.pop(key)
                return
            self.streams.pop(key)
            if got is HTTP_FAILED:
                return
            method, host = got
            self._event(ts, mac, src, dst, dport, "http", host, {"method": method})
        elif st.proto == "dns":
            pos = st.meta or 0
            while len(data) - pos >= 2:
                ln = (data[pos] << 8) | data[pos + 1]
                if len(data) - pos - 2 < ln:
                    break
                self._dns(ts, mac, src, dst, sport, dport, bytes(data[pos + 2:pos + 2 + ln]), "tcp")
                pos += 2 + ln
            st.meta = pos
            if st.full:
                self.streams.pop(key)

    def _tcp_signature(self, ts, mac, src, dst, dport, payload) -> None:
        reason = tcp_signature(payload)
        if reason is not None:
            self._signature(ts, mac, src, dst, dport, reason)

    def _dot_syn(self, ts, mac, src, dst, dport) -> None:
        """A connection to port 853 of a known resolver is DoT even before (or without) its ClientHello."""
        platform = self.catalog.match(ip_text(dst))
        if platform is not None and platform.category == "doh" and not self._repeat((src, "dot", dst), ts):
            self._emit(Event(ts, ip_text(src), mac_text(mac), ip_text(dst), "tls", None, platform.id, "dot",
                             {"dport": dport, "stage": "syn"}), src, mac)

    # -- UDP --------------------------------------------------------------------------------
    def _udp(self, ts, mac, src, dst, sport, dport, payload) -> None:
        if sport == 53 or dport == 53:
            self._dns(ts, mac, src, dst, sport, dport, payload, "udp")
            return
        if sport in LOCAL_DNS_PORTS or dport in LOCAL_DNS_PORTS:
            # mDNS and LLMNR: the DNS message format for names on the local link
            self._dns(ts, mac, src, dst, sport, dport, payload, LOCAL_DNS_PORTS.get(dport) or LOCAL_DNS_PORTS[sport])
            return
        if sport in DHCP_PORTS and dport in DHCP_PORTS:
            self._dhcp(ts, mac, src, dst, payload)
            return
        if quicmod.looks_like_initial(payload):
            if self._quic(ts, mac, src, dst, sport, dport, payload):
                return
        elif dport == 443 and payload[0] & 0xC0 == 0x40 and dst in self.names.items:
            self._quic_midflow(ts, mac, src, dst, sport, dport)
            return
        reason = udp_signature(payload, sport, dport)
        if reason is not None:
            self._signature(ts, mac, src, dst, dport, reason)

    def _quic(self, ts, mac, src, dst, sport, dport, payload) -> bool:
        key = (src, sport, dst, dport)
        state = self.quic.items.get(key)
        if state is not None and state.done:
            return True
        found = False
        for version, dcid, start, pn_off, end in quicmod.initial_packets(payload):
            found = True
            plain = None
            if state is not None and state.version == version:
                # Initial keys come from the client's FIRST DCID, even after the server picked another.
                plain = quicmod.decrypt_initial(payload, start, pn_off, end, state.keys)
            if plain is None:
                keys = quicmod.keys_for(version, dcid)
                plain = quicmod.decrypt_initial(payload, start, pn_off, end, keys)
                if plain is not None and state is None:
                    state = _QuicState(version, keys)
                    self.quic.put(key, state, ts)
            if plain is None:
                continue
            self.quic.touch(key, ts)
            for off, data in quicmod.crypto_frames(plain):
                state.add(off, data)
            body = hello_from_handshake(state.assembled())
            if body is NEED_MORE:
                continue
            state.done = True
            state.frags.clear()
            if body is not FAILED:
                hello = parse_client_hello(body)
                if hello is not None:
                    self._hello(ts, mac, src, dst, dport, "quic", hello, {"quic_version": _VERSION_NAMES[version]})
            break
        return found

    def _quic_midflow(self, ts, mac, src, dst, sport, dport) -> None:
        """QUIC short-header packets to an address a DNS answer named, when the flow's Initial
        was not seen (the capture began later): named from DNS, once per device and address per
        repeat window, so QUIC to a platform is reported even without its handshake."""
        if (src, sport, dst, dport) in self.quic.items or self._repeat((src, "quic", dst), ts):
            return
        self._event(ts, mac, src, dst, dport, "quic", self.names.items[dst],
                    {"dport": dport, "name_from": "dns", "stage": "established"})

    # -- names ------------------------------------------------------------------------------
    def _dns(self, ts, mac, src, dst, sport, dport, msg, transport) -> None:
        m = parse_dns(msg)
        if m is None:
            return
        if not m.response:
            for q in m.questions:
                self._event(ts, mac, src, dst, dport, "dns", q, {"transport": transport})
            return
        qname = m.questions[0]
        self.resolved.put(qname.lower(), True, ts)
        for addr in m.addresses:
            self.names.put(addr, qname, ts)
        # A response names the client's lookup too (its query may not be in the capture).
        # The device is the response's destination (and on Ethernet, the frame's destination MAC).
        client_mac = self._frame[:6] if self._linktype == EN10MB and transport != "tcp" else None
        if client_mac is not None and client_mac[0] & 1:
            client_mac = None                              # broadcast/multicast: not a device
        for q in m.questions:
            self._event(ts, client_mac, dst, src, sport, "dns", q,
                        {"transport": transport, "response": True,
                         "answers": [ip_text(a) for a in m.addresses]})

    def _hello(self, ts, mac, src, dst, dport, kind, hello, extra=None) -> None:
        name = hello.sni
        info = {"dport": dport, "tls13": hello.tls13}
        if hello.ech:
            info["ech"] = True
        if hello.alpn:
            info["alpn"] = list(hello.alpn)
        if extra:
            info.update(extra)
        if name is None:
            learnt = self.names.items.get(dst)
            if learnt is not None:
                name = learnt
                info["name_from"] = "dns"
        reason = None
        sni = hello.sni.lower() if hello.sni else None
        if kind == "tls" and tor_like(sni, hello.alpn, sni in self.resolved.items):
            reason = "tor"
        self._event(ts, mac, src, dst, dport, kind, name, info, forced=reason)

    def _dhcp(self, ts, mac, src, dst, payload) -> None:
        m = dhcpmod.parse_dhcp(payload)
        if m is None:
            return
        if m.msg_type in ("DISCOVER", "REQUEST", "INFORM"):
            self.leases.remember_hostname(m.mac, m.hostname)
        if m.msg_type == "ACK" and m.assigned:
            self.leases.ack(m.assigned, m.mac, m.hostname, m.lease, ts)
        elif m.msg_type == "RELEASE" and m.client_ip:
            self.leases.release(m.client_ip, m.mac)
        hostname = m.hostname or self.leases.hostnames.get(m.mac)
        device_ip = m.assigned or m.requested or m.client_ip
        info = {"dhcp": {"msg_type": m.msg_type, "mac": m.mac, "hostname": hostname,
                         "requested_ip": m.requested, "assigned_ip": m.assigned, "client_ip": m.client_ip,
                         "lease_seconds": m.lease, "server": m.server, "domain": m.domain}}
        server = m.server or (ip_text(dst) if m.msg_type not in ("OFFER", "ACK", "NAK") else ip_text(src))
        self.emit(Event(ts, device_ip, m.mac, server, "dhcp", hostname, None, None, info))

    def _signature(self, ts, mac, src, dst, dport, reason) -> None:
        if self._repeat((src, reason, dst if not reason.startswith("bittorrent") else None), ts):
            return
        kind = "p2p" if reason.startswith("bittorrent") else "vpn"
        self._emit(Event(ts, ip_text(src), mac_text(mac), ip_text(dst), kind, None, None, reason,
                         {"dport": dport}), src, mac)

    def _repeat(self, key, ts) -> bool:
        if key in self.repeats.items:
            return True
        self.repeats.put(key, True, ts)
        return False

    # -- events -----------------------------------------------------------------------------
    def _event(self, ts, mac, src, dst, dport, kind, name, extra, forced=None) -> None:
        dst_text = ip_text(dst)
        platform = self.catalog.match(name) if name else None
        if platform is None and kind != "dns":
            platform = self.catalog.match(dst_text)    # DoH resolvers are listed by address
        # Through the proxy: to its address, or the proxy's own upstream connections (from it).
        via_proxy = self._is_proxy(dst, dport) or (self.proxy is not None and src == self.proxy[0])
        reason = forced or judge_bypass(kind, platform.category if platform else None,
                                        platform.id if platform else None, dport=dport,
                                        via_proxy=via_proxy, proxy_known=self.proxy is not None)
        ev = Event(ts, ip_text(src), mac_text(mac), dst_text, kind, name, platform.id if platform else None,
                   reason, extra, tcp=self._tcp_state if kind == "tls" else None)
        self._emit(ev, src, mac)

    def _is_proxy(self, dst: bytes, dport: int | None) -> bool:
        if self.proxy is None:
            return False
        addr, port = self.proxy
        return dst == addr and (port is None or port == dport)

    def _emit(self, ev: Event, src: bytes | None, mac: bytes | None) -> None:
        if ev.src_mac and ev.src and self.expected_macs is not None:
            expected = self.expected_macs(ev.src)
            if expected and ev.src_mac not in expected and (ev.src, ev.src_mac) not in self.mac_reported.items \
                    and not self._is_router(ev.src_mac, ev.src, ev.ts):
                self.mac_reported.put((ev.src, ev.src_mac), True, ev.ts)
                ev.extra["expected_mac"] = sorted(expected)[0] if len(expected) == 1 else sorted(expected)
                if ev.bypass is None:
                    ev.bypass = "mac_change"
                else:
                    ev.extra["also"] = "mac_change"
        self.emit(ev)

    def _is_router(self, mac: str, ip: str, ts: float) -> bool:
        """A MAC that many addresses send from is a router's (traffic from another subnet), not a
        spoofing device: its frames carry every routed device's address."""
        ips = self.mac_ips.items.get(mac)
        if ips is None:
            ips = set()
            self.mac_ips.put(mac, ips, ts)
        if len(ips) <= ROUTER_ADDRESSES:
            ips.add(ip)
        return len(ips) > ROUTER_ADDRESSES


_VERSION_NAMES = {v: f"draft-{v & 0xFF}" for v in quicmod.VERSIONS if v >> 24 == 0xFF}
_VERSION_NAMES.update({quicmod.V1: "v1", quicmod.V2: "v2"})


def _classify(payload: bytes, sport: int, dport: int) -> str | None:
    if sport == 53 or dport == 53:
        return "dns"
    if looks_like_tls(payload):
        return "tls"
    if looks_like_http(payload):
        return "http"
    return None
