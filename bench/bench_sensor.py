"""Sensor throughput and memory against tshark on the same capture, in the same run.

    .venv/bin/python bench/bench_sensor.py [--sessions 5000] [--keep DIR]

Workload: a generated pcap (>= 200,000 packets, written into a temporary directory) of what a
SPAN port carries: per client session a DNS lookup and answer, a TCP connection (handshake, a
TLS ClientHello - every third one split over two segments -, the server's handshake records,
20 bulk data segments and 10 ACKs), every fifth session an HTTP/1.1 request, every tenth a QUIC
v1 Initial (decrypted by both tools) followed by 10 short-header packets.

Baseline: `tshark -r FILE -T fields -e dns.qry.name -e tls.handshake.extensions_server_name
-e http.host`, which extracts the same names. Both run as processes over the same file; the
figure is packets per second of wall time and the sensor/tshark ratio (target >= 1), plus the
peak RSS of each process (os.wait4). The bench also checks that the sensor found every name
tshark found.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.sensor import quic as q  # noqa: E402
from tests.sensor import build  # noqa: E402

MAC_C, MAC_S = bytes.fromhex("020000000a01"), bytes.fromhex("020000000b01")


def ipv4(src: bytes, dst: bytes, proto: int, l4: bytes) -> bytes:
    return (MAC_S + MAC_C + b"\x08\x00"
            + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst) + l4)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    return ipv4(src, dst, 6, struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload)


def udp(src, dst, sport, dport, payload):
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def dns(name: str, qid: int, answer: bytes | None = None) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    if answer is None:
        return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + b"\0\x01\0\x01"
    return (struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qname + b"\0\x01\0\x01"
            + b"\xc0\x0c\0\x01\0\x01\0\0\x01\x2c\0\x04" + answer)


NAMES = ["www.instagram.com", "i.instagram.com", "www.youtube.com", "rr3---sn-ab5l6nrz.googlevideo.com",
         "en.wikipedia.org", "docs.google.com", "classroom.google.com", "www.khanacademy.org", "discord.com",
         "www.tiktok.com", "fonts.gstatic.com", "api.github.com", "www.reddit.com", "cdn.jsdelivr.net"]


def generate(path: Path, sessions: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    bulk = rng.randbytes(1400)
    written = 0
    hellos = {n: build.records(build.client_hello(n)) for n in NAMES}
    quics = {n: build.protect_initial(q.V1, rng.randbytes(8), build.crypto_frame(0, build.client_hello(n, alpn=("h3",))))
             for n in NAMES[:4]}
    server_hs = b"\x16\x03\x03" + struct.pack("!H", 1200) + rng.randbytes(1200)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        ts = 1_700_000_000.0

        def put(frame: bytes) -> None:
            nonlocal ts, written
            ts += 0.0001
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)) + frame)
            written += 1

        resolver = bytes([10, 0, 0, 53])
        for i in range(sessions):
            client = bytes([10, 1, (i >> 8) & 255, i & 255])
            server = bytes([203, 0, 113, i % 250 + 1])
            name = NAMES[i % len(NAMES)]
            sport = 20000 + i % 40000
            put(udp(client, resolver, sport, 53, dns(name, i & 0xFFFF)))
            put(udp(resolver, client, 53, sport, dns(name, i & 0xFFFF, server)))
            isn, ssn = rng.randrange(1 << 32), rng.randrange(1 << 32)
            put(tcp(client, server, sport, 443, isn, 0, 0x02))
            put(tcp(server, client, 443, sport, ssn, isn + 1, 0x12))
            put(tcp(client, server, sport, 443, isn + 1, ssn + 1, 0x10))
            hello = hellos[name]
            if i % 3 == 0:
                put(tcp(client, server, sport, 443, isn + 1, ssn + 1, 0x18, hello[:40]))
                put(tcp(client, server, sport, 443, isn + 41, ssn + 1, 0x18, hello[40:]))
            else:
                put(tcp(client, server, sport, 443, isn + 1, ssn + 1, 0x18, hello))
            seq = ssn + 1
            for _ in range(3):
                put(tcp(server, client, 443, sport, seq, isn + 1 + len(hello), 0x18, server_hs))
                seq += len(server_hs)
            for k in range(20):
                put(tcp(server, client, 443, sport, seq, isn + 1 + len(hello), 0x10, b"\x17\x03\x03" + bulk[3:]))
                seq += 1400
                if k % 2:
                    put(tcp(client, server, sport, 443, isn + 1 + len(hello), seq, 0x10))
            if i % 5 == 0:
                req = f"GET /page/{i} HTTP/1.1\r\nHost: {name}\r\nUser-Agent: bench\r\n\r\n".encode()
                put(tcp(client, server, sport + 1, 80, isn, 0, 0x18, req))
                put(tcp(server, client, 80, sport + 1, ssn, isn + len(req), 0x18, b"HTTP/1.1 200 OK\r\n\r\n" + bulk[:900]))
            if i % 10 == 0:
                qname = NAMES[(i // 10) % 4]
                put(udp(client, server, sport, 443, quics[qname]))
                for _ in range(10):
                    put(udp(server, client, 443, sport, b"\x41" + bulk[:1200]))
    return written


def measure(argv: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in KB, stdout) of a child process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed with {proc.returncode}")
        out.seek(0)
        return wall, usage.ru_maxrss, out.read().decode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=5000)
    ap.add_argument("--keep", default=None, help="write the pcap here and keep it")
    args = ap.parse_args()
    tshark = shutil.which("tshark")
    if tshark is None:
        print("tshark is not installed (Debian package tshark): no baseline", file=sys.stderr)
        return 2
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-sensor-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        pcap = tmp / "span.pcap"
        t0 = time.perf_counter()
        packets = generate(pcap, args.sessions)
        print(f"capture: {packets} packets, {pcap.stat().st_size / 1e6:.1f} MB, generated in "
              f"{time.perf_counter() - t0:.1f} s")
        if packets < 200_000:
            print("warning: fewer than 200,000 packets; raise --sessions", file=sys.stderr)
        home = tmp / "home"
        sensor_argv = [sys.executable, "-m", "agent.cli", "sensor", "--home", str(home), "--pcap", str(pcap),
                       "--no-incidents"]
        tshark_argv = [tshark, "-r", str(pcap), "-T", "fields", "-e", "dns.qry.name",
                       "-e", "tls.handshake.extensions_server_name", "-e", "http.host"]
        s_wall, s_rss, s_out = measure(sensor_argv)
        t_wall, t_rss, t_out = measure(tshark_argv)
        import json
        sensor_names = {json.loads(l)["name"] for l in s_out.splitlines()}
        tshark_names = {n for line in t_out.splitlines() for field in line.split("\t") for n in field.split(",") if n}
        missed = tshark_names - sensor_names
        print(f"sensor: {s_wall:6.2f} s  {packets / s_wall:9.0f} packets/s  peak RSS {s_rss / 1024:6.1f} MB  "
              f"{len(s_out.splitlines())} events")
        print(f"tshark: {t_wall:6.2f} s  {packets / t_wall:9.0f} packets/s  peak RSS {t_rss / 1024:6.1f} MB")
        print(f"ratio (sensor packets/s / tshark packets/s): {t_wall / s_wall:.2f}  (target >= 1)")
        print(f"names tshark found: {len(tshark_names)}; missed by the sensor: {sorted(missed) or 'none'}")
        return 1 if missed else 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
