"""Where frames come from: a capture file (pcap, pcapng, either gzip-compressed) or a live interface.

Files are read with a small struct-based reader rather than scapy's PcapReader: it yields raw
frames (no Packet objects), which is what the sensor needs and several times faster. Live
capture uses scapy's L2 listening socket with a BPF filter compiled into the kernel, so the
packets that cannot carry a name (the bulk of a SPAN port) never reach Python.
"""
from __future__ import annotations

import gzip
import os
import struct
import sys
import time
from pathlib import Path
from typing import Iterator

from agent.errors import UsageError

PCAP_MAGICS = {   # magic -> (byte order, timestamp unit, extra bytes per record header)
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6, 0), b"\xa1\xb2\xc3\xd4": (">", 1e-6, 0),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9, 0), b"\xa1\xb2\x3c\x4d": (">", 1e-9, 0),
    b"\x34\xcd\xb2\xa1": ("<", 1e-6, 8), b"\xa1\xb2\xcd\x34": (">", 1e-6, 8),   # Kuznetzov's patched pcap
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
MAX_FRAME = 262144 * 4

# The kernel filter for --interface (tcpdump syntax). It passes: DNS, DHCP, QUIC/UDP 443 and any
# QUIC long-header datagram, DoT, VPN/IKE ports, WireGuard initiations, BitTorrent DHT queries;
# TCP SYN/FIN/RST; every client->server segment towards web ports (so a ClientHello split over
# segments is whole); and, on any other port, segments whose payload starts like a TLS handshake,
# an HTTP request or a BitTorrent handshake. Server->client bulk data never passes.
TCP_PAYLOAD = "tcp[((tcp[12:1] & 0xf0) >> 2):4]"
BPF_FILTER = " or ".join([
    "udp port 53", "tcp port 53", "udp port 67", "udp port 68", "udp port 443", "udp port 853",
    "udp port 500", "udp port 4500", "udp port 1194",
    "(udp and udp[8] & 0xc0 = 0xc0)",
    "(udp and udp[4:2] = 156 and udp[8:4] = 0x01000000)",
    "(udp and (udp[8:4] = 0x64313a61 or udp[8:4] = 0x64313a72))",
    "(tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)",
    "tcp dst port 80", "tcp dst port 443", "tcp dst port 853", "tcp dst port 8080", "tcp dst port 8443",
    "tcp dst port 1194",
    f"(tcp and (tcp[((tcp[12:1] & 0xf0) >> 2):1] = 0x16 or {TCP_PAYLOAD} = 0x47455420 "
    f"or {TCP_PAYLOAD} = 0x504f5354 or {TCP_PAYLOAD} = 0x48454144 or {TCP_PAYLOAD} = 0x434f4e4e "
    f"or {TCP_PAYLOAD} = 0x13426974))",
])


def _open(path: Path):
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"--pcap: cannot read {path}: {exc.strerror or exc}") from None
    head = f.read(2)
    f.seek(0)
    if head == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")
    return f


def read_capture(path: str | os.PathLike) -> Iterator[tuple[float, int, bytes]]:
    """(timestamp, linktype, frame) per packet. A file that is neither pcap nor pcapng is a
    UsageError naming the file; a truncated last record ends the iteration with a warning."""
    path = Path(path)
    f = _open(path)
    try:
        try:
            magic = f.read(4)
        except (OSError, EOFError) as exc:
            raise UsageError(f"--pcap: {path}: not a readable capture ({exc})") from None
        if magic in PCAP_MAGICS:
            yield from _pcap(f, path, magic)
        elif magic == PCAPNG_SHB:
            yield from _pcapng(f, path)
        else:
            raise UsageError(f"--pcap: {path}: not a pcap or pcapng file (magic {magic.hex() or 'empty'})")
    finally:
        f.close()


def _truncated(path: Path, what: str) -> None:
    print(f"crossingguard sensor: {path}: {what}; stopping there", file=sys.stderr)


def _pcap(f, path: Path, magic: bytes):
    endian, unit, extra = PCAP_MAGICS[magic]
    header = f.read(20)
    if len(header) < 20:
        raise UsageError(f"--pcap: {path}: truncated pcap header")
    linktype = struct.unpack(endian + "I", header[16:20])[0] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    read = f.read
    while True:
        h = read(16)
        if len(h) < 16:
            if h:
                _truncated(path, "truncated record header")
            return
        sec, frac, caplen, _ = rec.unpack(h)
        if extra:
            read(extra)
        if caplen > MAX_FRAME:
            _truncated(path, f"record with impossible length {caplen}")
            return
        data = read(caplen)
        if len(data) < caplen:
            _truncated(path, "truncated record")
            return
        yield sec + frac * unit, linktype, data


def _pcapng(f, path: Path):
    read = f.read
    endian = "<"
    interfaces: list[tuple[int, float]] = []   # (linktype, seconds per timestamp unit)
    first = True
    while True:
        if first:
            btype_raw, first = PCAPNG_SHB, False
        else:
            btype_raw = read(4)
            if len(btype_raw) < 4:
                if btype_raw:
                    _truncated(path, "truncated block")
                return
        lraw = read(4)
        if len(lraw) < 4:
            _truncated(path, "truncated block")
            return
        if btype_raw == PCAPNG_SHB:
            bom = read(4)
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise UsageError(f"--pcap: {path}: bad pcapng byte-order magic")
            blen = struct.unpack(endian + "I", lraw)[0]
            body = read(blen - 12) if blen >= 12 else b""
            interfaces = []
            continue
        btype = struct.unpack(endian + "I", btype_raw)[0]
        blen = struct.unpack(endian + "I", lraw)[0]
        if blen < 12 or blen > MAX_FRAME + 64 or blen % 4:
            _truncated(path, f"block with impossible length {blen}")
            return
        body = read(blen - 8)
        if len(body) < blen - 8:
            _truncated(path, "truncated block")
            return
        body = body[:-4]
        if btype == 1 and len(body) >= 8:                      # Interface Description
            linktype = struct.unpack(endian + "H", body[:2])[0]
            interfaces.append((linktype, _tsresol(body[8:], endian)))
        elif btype == 6 and len(body) >= 20:                   # Enhanced Packet
            iface, hi, lo, caplen, _ = struct.unpack(endian + "IIIII", body[:20])
            if iface < len(interfaces):
                linktype, unit = interfaces[iface]
                yield ((hi << 32) | lo) * unit, linktype, body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and interfaces:     # Simple Packet
            linktype, _ = interfaces[0]
            yield 0.0, linktype, body[4:]
        elif btype == 2 and len(body) >= 20:                   # obsolete Packet block
            iface, _, hi, lo, caplen = struct.unpack(endian + "HHIII", body[:16])
            if iface < len(interfaces):
                linktype, unit = interfaces[iface]
                yield ((hi << 32) | lo) * unit, linktype, body[20:20 + caplen]


def _tsresol(options: bytes, endian: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, ln = struct.unpack(endian + "HH", options[pos:pos + 4])
        if code == 0:
            break
        if code == 9 and ln >= 1:
            v = options[pos + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        pos += 4 + ((ln + 3) & ~3)
    return 1e-6


def check_live_capture_allowed() -> None:
    """Live capture needs a raw packet socket: root or CAP_NET_RAW. Say so before scapy fails obscurely."""
    if os.geteuid() == 0:
        return
    try:
        status = Path("/proc/self/status").read_text()
        capeff = int(next(l.split()[1] for l in status.splitlines() if l.startswith("CapEff:")), 16)
        if capeff & (1 << 13):   # CAP_NET_RAW
            return
    except (OSError, StopIteration, ValueError):
        pass
    raise UsageError("--interface: live capture needs root (or the CAP_NET_RAW capability, e.g. "
                     "`setcap cap_net_raw+ep` on the Python interpreter); run it as root, or read a "
                     "capture file with --pcap")


def live_frames(interface: str, bpf: str = BPF_FILTER, stop=None, poll: float = 0.5):
    """(timestamp, linktype, frame) from a live interface, until `stop()` returns true.

    Yields (now, None, None) about every `poll` seconds when nothing arrives, so the caller can
    save the DHCP map and sweep flow tables on an idle network.
    """
    check_live_capture_allowed()
    import select

    from scapy.config import conf
    from scapy.layers.l2 import Ether
    try:
        sock = conf.L2listen(iface=interface, filter=bpf)
    except PermissionError:
        check_live_capture_allowed()
        raise UsageError(f"--interface {interface}: permission denied opening a packet socket (needs root)") from None
    except OSError as exc:
        raise UsageError(f"--interface {interface}: cannot capture: {exc}") from None
    except Exception as exc:   # scapy raises Scapy_Exception for a bad filter or interface
        raise UsageError(f"--interface {interface}: cannot capture: {exc}") from None
    print(f"crossingguard sensor: capturing on {interface}", file=sys.stderr, flush=True)
    try:
        while stop is None or not stop():
            ready, _, _ = select.select([sock], [], [], poll)
            if not ready:
                yield time.time(), None, None
                continue
            cls, data, ts = sock.recv_raw(65535)
            if data is None:
                continue
            yield (ts or time.time()), (1 if cls is Ether else 101), data
    finally:
        sock.close()
