"""Optional active enforcement for SPAN deployments: TCP resets for a blocked TLS name.

OFF by default (`crossingguard sensor --interface IF --enforce-rst`). When the sensor sees a
ClientHello whose SNI the policy blocks for the device's user (same identity and policy as
the proxy), it sends TCP RST segments to both ends, spoofing the other end's address:
  to the server: from the client, seq = the ClientHello's first and next byte (one of them is
                 the server's rcv_nxt, whether or not the ClientHello has arrived yet);
  to the client: from the server, seq = the ack number the ClientHello carried (the client's
                 rcv_nxt while the server has not answered).
RFC 5961 receivers only accept a reset whose seq is exactly rcv_nxt, hence the exact numbers.

Packets go out through the kernel's IP routing (raw sockets, header included), so they leave by whichever
interface routes to each end. Limits, stated: a reset races the server's reply and may lose
it on a fast path; it cannot stop QUIC (UDP) or anything encrypted before the name; so it is a
complement to the proxy, never a replacement. Fail choice: a send error is counted and logged
once, and the sensor keeps observing (fail open: enforcement is best effort by nature).
"""
from __future__ import annotations

import logging
import socket
from datetime import datetime, timezone

from agent.metrics import ADDON_ERRORS, COUNTERS
from agent.sensor.wire import ip_text

log = logging.getLogger("crossingguard.sensor")


def reset_segments(tcp: tuple) -> list[tuple[str, str, int, int, int]]:
    """(src, dst, sport, dport, seq) of the resets for one ClientHello's connection state."""
    src, dst, sport, dport, first, nxt, ack, _ = tcp
    c, s = ip_text(src), ip_text(dst)
    out = [(c, s, sport, dport, nxt)]
    if first != nxt:
        out.append((c, s, sport, dport, first))
    out.append((s, c, dport, sport, ack))
    return out


class RstInjector:
    def __init__(self, interface: str, engine, sensor=None, who=None):
        self.interface, self.engine, self.who = interface, engine, who
        self.sent = 0
        self.errors = 0
        self._socket = None

    def blocked(self, ev) -> bool:
        if ev.kind != "tls" or ev.tcp is None or not ev.name:
            return False
        user = self.who(ev)[0] if self.who is not None else "unknown"
        at = datetime.now(timezone.utc)
        subject = self.engine.subject_for_user(user, at)
        return self.engine.decide(subject, ev.name, "GET", at).verdict == "block"

    def consider(self, ev) -> None:
        try:
            if not self.blocked(ev):
                return
            self.inject(reset_segments(ev.tcp))
            ev.extra["enforced"] = "rst"
        except Exception:
            self.errors += 1
            COUNTERS.inc(ADDON_ERRORS, "sensor_enforce")
            if self.errors == 1:
                log.exception("crossingguard sensor: could not inject TCP resets")

    def inject(self, segments) -> None:
        # Kernel raw sockets (header included): the kernel routes each reset, including to an
        # address of this very host (delivered locally), which scapy's own L2 routing would not.
        from scapy.layers.inet import IP, TCP
        from scapy.layers.inet6 import IPv6
        for src, dst, sport, dport, seq in segments:
            v6 = ":" in src
            ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
            packet = bytes(ip / TCP(sport=sport, dport=dport, flags="R", seq=seq, window=0))
            self._raw(v6).sendto(packet, (dst, 0))
            self.sent += 1

    def _raw(self, v6: bool):
        if self._socket is None:
            self._socket = {}
        sock = self._socket.get(v6)
        if sock is None:
            sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            if v6:
                sock.setsockopt(socket.IPPROTO_IPV6, 36, 1)   # IPV6_HDRINCL
            self._socket[v6] = sock
        return sock

    def close(self) -> None:
        for sock in (self._socket or {}).values():
            sock.close()
        self._socket = None
