"""The "internet" side of the network-namespace tests, run inside its own namespace:

    ip netns exec NS python -m tests.support.netinet --cert C --key K --log EVENTS.jsonl \\
        --dns 8.8.8.8 --dns 198.51.100.53 --answer 203.0.113.10

- HTTPS and HTTP echo origins on 0.0.0.0:443 and :80 (tests/support/origin.py's handler), so any
  address routed here is "a site";
- a DNS responder on each --dns address (UDP 53) answering every A query with --answer;
- UDP listeners on 443 (QUIC) and 853 (DNS over QUIC), a TCP listener on 853 (DNS over TLS).

Every DNS query and every datagram or connection on 443/udp, 853 is appended to --log as
`{"kind", "dst", "src", "port"}`, so a test can show what reached the outside and what did not.
Prints `READY` when everything is bound; exits when stdin closes.
"""
from __future__ import annotations

import argparse
import json
import socket
import ssl
import struct
import sys
import threading
from pathlib import Path

from tests.support.origin import EchoHandler, _Server

_lock = threading.Lock()


def _log(path: Path, **event) -> None:
    with _lock, open(path, "a") as f:
        f.write(json.dumps(event) + "\n")


def dns_answer(query: bytes, ip: str) -> bytes:
    """A minimal DNS response: the question echoed, one A record for it (TTL 60)."""
    tid, flags, qd = struct.unpack("!HHH", query[:6])
    end = 12
    while query[end] != 0:
        end += query[end] + 1
    question = query[12:end + 5]
    header = struct.pack("!HHHHHH", tid, 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
    return header + question + answer


def _dns(addr: str, answer: str, log: Path) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))

    def loop():
        while True:
            data, peer = s.recvfrom(2048)
            _log(log, kind="dns", dst=addr, src=peer[0], port=53)
            try:
                s.sendto(dns_answer(data, answer), peer)
            except (IndexError, struct.error):
                pass
    threading.Thread(target=loop, daemon=True).start()


def _udp(port: int, log: Path) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))

    def loop():
        while True:
            _, peer = s.recvfrom(2048)
            _log(log, kind="udp", dst="", src=peer[0], port=port)
    threading.Thread(target=loop, daemon=True).start()


def _tcp(port: int, log: Path) -> None:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen()

    def loop():
        while True:
            c, peer = s.accept()
            _log(log, kind="tcp", dst="", src=peer[0], port=port)
            c.close()
    threading.Thread(target=loop, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--dns", action="append", default=[])
    ap.add_argument("--answer", required=True)
    a = ap.parse_args(argv)
    log = Path(a.log)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    servers = [_Server(("0.0.0.0", 443), EchoHandler, ctx), _Server(("0.0.0.0", 80), EchoHandler, None)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    for addr in a.dns:
        _dns(addr, a.answer, log)
    _udp(443, log)
    _udp(853, log)
    _tcp(853, log)
    print("READY", flush=True)
    sys.stdin.read()      # until the test closes our stdin
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
