"""Throw-away network namespaces for the gateway tests: a student device, the district gateway,
and "the internet", wired with veth pairs made INSIDE the namespaces (nothing is added to the
host's own network namespace, so nothing on the host can be disturbed or left behind there).

    client (10.77.1.2, .3)  ──veth──  gw (10.77.1.1 | 10.77.2.1)  ──veth──  net (10.77.2.2)
                                        runs the proxy and the          203.0.113.10 (sites),
                                        shipped nftables rules          8.8.8.8 (an outside
                                                                        resolver), 198.51.100.53
                                                                        (the district resolver)

Names carry a random tag (parallel test runs never collide); `close()` (and the context manager)
kills what was started in them and deletes the namespaces, which removes their interfaces too.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

CLIENT_IP, CLIENT_IP2, GW_STUDENT_IP = "10.77.1.2", "10.77.1.3", "10.77.1.1"
GW_UP_IP, NET_IP = "10.77.2.1", "10.77.2.2"
SITE_IP, OUTSIDE_DNS, DISTRICT_DNS = "203.0.113.10", "8.8.8.8", "198.51.100.53"
STUDENT_IF = "cgstu0"       # the gateway's student-side interface (inside the gw namespace)


def netns_unavailable() -> str | None:
    """None when namespaces and veth pairs can be made here; otherwise exactly what failed."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN); tests run as uid %d" % os.geteuid()
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` not installed (Debian: iproute2, nftables; .ci/run installs them)"
    name = f"cgprobe{secrets.token_hex(3)}"
    steps = [["ip", "netns", "add", name],
             ["ip", "-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1"],
             ["ip", "netns", "exec", name, "nft", "add", "table", "inet", "probe"]]
    try:
        for cmd in steps:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            if r.returncode != 0:
                return f"`{' '.join(cmd)}` failed: {r.stderr.strip() or r.returncode}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
    return None


def _run(*cmd: str) -> str:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


class Topology:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.client, self.gw, self.net = f"cg{tag}-client", f"cg{tag}-gw", f"cg{tag}-net"
        self._procs: list[subprocess.Popen] = []

    def ns(self, name: str, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", name, *cmd]

    def run(self, name: str, *cmd: str, check: bool = True, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
        r = subprocess.run(self.ns(name, *cmd), capture_output=True, text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"in {name}: `{' '.join(cmd)}` failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def spawn(self, name: str, argv: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(self.ns(name, *argv), **kw)
        self._procs.append(p)
        return p

    def up(self) -> "Topology":
        try:
            for n in (self.client, self.gw, self.net):
                _run("ip", "netns", "add", n)
                _run("ip", "-n", n, "link", "set", "lo", "up")
            _run("ip", "-n", self.gw, "link", "add", STUDENT_IF, "type", "veth", "peer", "name", "eth0",
                 "netns", self.client)
            _run("ip", "-n", self.gw, "link", "add", "cgup0", "type", "veth", "peer", "name", "eth0",
                 "netns", self.net)
            _run("ip", "-n", self.client, "addr", "add", f"{CLIENT_IP}/24", "dev", "eth0")
            _run("ip", "-n", self.client, "addr", "add", f"{CLIENT_IP2}/24", "dev", "eth0")
            _run("ip", "-n", self.gw, "addr", "add", f"{GW_STUDENT_IP}/24", "dev", STUDENT_IF)
            _run("ip", "-n", self.gw, "addr", "add", f"{GW_UP_IP}/24", "dev", "cgup0")
            _run("ip", "-n", self.net, "addr", "add", f"{NET_IP}/24", "dev", "eth0")
            for ip in (SITE_IP, OUTSIDE_DNS, DISTRICT_DNS):
                _run("ip", "-n", self.net, "addr", "add", f"{ip}/32", "dev", "lo")
            for n, dev in ((self.client, "eth0"), (self.gw, STUDENT_IF), (self.gw, "cgup0"), (self.net, "eth0")):
                _run("ip", "-n", n, "link", "set", dev, "up")
            _run("ip", "-n", self.client, "route", "add", "default", "via", GW_STUDENT_IP)
            _run("ip", "-n", self.gw, "route", "add", "default", "via", NET_IP)
            _run("ip", "-n", self.net, "route", "add", "10.77.1.0/24", "via", GW_UP_IP)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for p in self._procs:
            if p.poll() is None:
                try:
                    if p.stdin:
                        p.stdin.close()
                except OSError:
                    pass
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
        for n in (self.client, self.gw, self.net):
            subprocess.run(["ip", "netns", "del", n], capture_output=True, timeout=30)

    def __enter__(self) -> "Topology":
        return self.up()

    def __exit__(self, *exc) -> None:
        self.close()

    def exists(self) -> list[str]:
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return [n for n in (self.client, self.gw, self.net) if n in out]


REPO = Path(__file__).resolve().parents[2]
