"""Optional TCP reset injection, tested only inside a pair of network namespaces this test
makes (veth between them; unique names; always deleted). The sensor captures in the client's
namespace; a ClientHello for a blocked name is reset at both ends, an allowed one is not."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from agent.identity.leases import read_leases
from tests.sensor import build, rfc_vectors as rfc
from tests.support.proxy import crossingguard_argv

pytestmark = pytest.mark.e2e

SERVER = r'''
import json, socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 8443)); srv.listen(4); srv.settimeout(40)
print("listening", flush=True)
for _ in range(2):
    conn, _ = srv.accept(); conn.settimeout(6)
    try:
        hello = conn.recv(65536)
        if b"wikipedia" in hello:
            conn.sendall(b"ok")
        outcome = "closed" if conn.recv(10) == b"" else "data"
    except ConnectionResetError:
        outcome = "reset"
    except socket.timeout:
        outcome = "timeout"
    print(json.dumps({"server": outcome}), flush=True)
    conn.close()
'''

CLIENT = r'''
import json, socket, sys
s = socket.create_connection((sys.argv[1], 8443), timeout=6)
s.sendall(bytes.fromhex(sys.argv[2]))
try:
    got = s.recv(10)
    outcome = "ok" if got == b"ok" else "closed" if got == b"" else "data"
except ConnectionResetError:
    outcome = "reset"
except socket.timeout:
    outcome = "timeout"
print(json.dumps({"client": outcome}), flush=True)
'''


SEND_UDP = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", int(sys.argv[2])))
s.sendto(bytes.fromhex(sys.argv[4]), (sys.argv[1], int(sys.argv[3])))
'''
LEASED_MAC = "02:00:00:00:5e:01"


def dhcp_ack(ip: str) -> bytes:
    from scapy.layers.dhcp import BOOTP, DHCP
    chaddr = bytes.fromhex(LEASED_MAC.replace(":", "")) + bytes(10)
    return bytes(BOOTP(op=2, chaddr=chaddr, xid=7, yiaddr=ip)
                 / DHCP(options=[("message-type", "ack"), ("lease_time", 600), "end"]))


def sh(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=check)


@pytest.fixture()
def netns_pair():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    tag = uuid.uuid4().hex[:6]
    a, b, va, vb = f"cgsa-{tag}", f"cgsb-{tag}", f"cgva{tag}", f"cgvb{tag}"
    net = f"10.{200 + int(tag[:2], 16) % 50}.{int(tag[2:4], 16)}"
    made = []
    try:
        for ns in (a, b):
            r = sh("ip", "netns", "add", ns, check=False)
            if r.returncode != 0:
                pytest.skip(f"cannot create a network namespace here: {r.stderr.strip()}")
            made.append(ns)
        sh("ip", "link", "add", va, "type", "veth", "peer", "name", vb)
        sh("ip", "link", "set", va, "netns", a)
        sh("ip", "link", "set", vb, "netns", b)
        for ns, dev, host in ((a, va, 1), (b, vb, 2)):
            sh("ip", "-n", ns, "addr", "add", f"{net}.{host}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        yield a, b, va, f"{net}.1", f"{net}.2"
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns, check=False)


def test_blocked_sni_is_reset_at_both_ends_allowed_is_not(netns_pair, tmp_path):
    ns_client, ns_server, dev, client_ip, server_ip = netns_pair
    procs = []
    try:
        server = subprocess.Popen(["ip", "netns", "exec", ns_server, sys.executable, "-c", SERVER, server_ip],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(server)
        assert server.stdout.readline().strip() == "listening"
        err = open(tmp_path / "sensor.err", "w+")
        sensor = subprocess.Popen(["ip", "netns", "exec", ns_client,
                                   *crossingguard_argv("sensor", "--home", str(tmp_path / "home"), "--interface", dev,
                                                       "--enforce-rst", "--duration", "30", "--no-incidents")],
                                  stdout=subprocess.PIPE, stderr=err, text=True, cwd=os.getcwd())
        procs.append(sensor)
        deadline = time.monotonic() + 20
        while "capturing on" not in (tmp_path / "sensor.err").read_text():
            assert sensor.poll() is None and time.monotonic() < deadline, (tmp_path / "sensor.err").read_text()
            time.sleep(0.1)

        def connect(sni: str) -> str:
            hello = build.records(build.client_hello(sni)).hex()
            out = sh("ip", "netns", "exec", ns_client, sys.executable, "-c", CLIENT, server_ip, hello)
            return json.loads(out.stdout)["client"]
        assert connect("www.instagram.com") == "reset"
        assert connect("en.wikipedia.org") == "ok"
        server_out, _ = server.communicate(timeout=30)
        assert [json.loads(l)["server"] for l in server_out.splitlines()] == ["reset", "closed"]

        # live QUIC and DHCP through the same capture: the RFC 9001 Initial from the client, and a
        # DHCP ACK from the server's side; the lease file appears while the sensor still runs
        sh("ip", "netns", "exec", ns_client, sys.executable, "-c", SEND_UDP, server_ip, "50000", "443",
           rfc.V1_PROTECTED.hex())
        ack = dhcp_ack(client_ip)
        sh("ip", "netns", "exec", ns_server, sys.executable, "-c", SEND_UDP, client_ip, "67", "68", ack.hex())
        leases = tmp_path / "home" / "sensor" / "dhcp-leases.json"
        deadline = time.monotonic() + 15
        while not (leases.exists() and client_ip in read_leases(leases)):
            assert time.monotonic() < deadline, "the live sensor did not write the lease"
            time.sleep(0.2)
        assert read_leases(leases)[client_ip].mac == LEASED_MAC
        sensor.terminate()
        events_out, _ = sensor.communicate(timeout=20)
        events = [json.loads(l) for l in events_out.splitlines()]
        tls = [(e["name"], e.get("enforced")) for e in events if e["kind"] == "tls"]
        assert tls == [("www.instagram.com", "rst"), ("en.wikipedia.org", None)]
        assert [(e["name"], e["quic_version"]) for e in events if e["kind"] == "quic"] == [("example.com", "v1")]
        assert [(e["dhcp"]["msg_type"], e["src"], e["src_mac"]) for e in events if e["kind"] == "dhcp"] == \
            [("ACK", client_ip, LEASED_MAC)]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
