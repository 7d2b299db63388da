"""The DHCP device map: which MAC holds which address now, as the network sensor saw it.

`crossingguard sensor` writes it (`HOME/sensor/dhcp-leases.json`) from the DHCP ACKs and
RELEASEs it sees; the proxy reads it off its event loop (proxy_addons/identity.py) and the
identity resolver uses it: address -> current lease's MAC -> device registry -> student.

The file is replaced atomically (written beside it, fsynced, renamed), so a reader sees the old
map or the new one, never half of one. A lease without a lease-time option is taken to last
DEFAULT_LEASE seconds. Expired leases are kept in the file (history for IT) but never used.

File format (JSON): {"version": 1, "updated": EPOCH, "leases": {IP: {"mac", "hostname",
"expires": EPOCH, "seen": EPOCH}}}
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from agent.identity.addresses import lookup_ip, lookup_mac

LEASES_FILE = Path("sensor") / "dhcp-leases.json"
DEFAULT_LEASE = 86400
MAX_LEASES = 100_000      # a /16 of clients; older entries are dropped first beyond that


def leases_path(home: Path) -> Path:
    return Path(home) / LEASES_FILE


@dataclass
class Lease:
    mac: str
    hostname: str | None
    expires: float
    seen: float


class LeaseMap:
    """The sensor's copy: updated from DHCP messages, saved atomically when asked."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path is not None else None
        self.leases: dict[str, Lease] = {}
        self.hostnames: dict[str, str] = {}   # mac -> host name from its REQUEST (ACKs often lack it)
        self.dirty = False
        if self.path is not None and self.path.exists():
            self.leases = read_leases(self.path)

    def remember_hostname(self, mac: str, hostname: str | None) -> None:
        if hostname:
            self.hostnames[mac] = hostname
            if len(self.hostnames) > MAX_LEASES:
                self.hostnames.pop(next(iter(self.hostnames)))

    def ack(self, ip: str, mac: str, hostname: str | None, lease_seconds: int | None, at: float) -> Lease | None:
        """Record an ACK; returns the lease it replaced (None when new)."""
        key, mac_key = lookup_ip(ip), lookup_mac(mac)
        if key is None or mac_key is None:
            return None
        previous = self.leases.pop(key, None)
        seconds = lease_seconds if lease_seconds and lease_seconds < 0xFFFFFFFF else DEFAULT_LEASE
        host = hostname or self.hostnames.get(mac_key) or (previous.hostname if previous and previous.mac == mac_key else None)
        self.leases[key] = Lease(mac_key, host, at + seconds, at)
        while len(self.leases) > MAX_LEASES:
            self.leases.pop(next(iter(self.leases)))
        self.dirty = True
        return previous

    def release(self, ip: str, mac: str) -> None:
        key = lookup_ip(ip)
        lease = self.leases.get(key) if key else None
        if lease is not None and lease.mac == lookup_mac(mac):
            del self.leases[key]
            self.dirty = True

    def current(self, now: float) -> dict[str, str]:
        """ip -> mac of the leases valid at `now`."""
        return {ip: lease.mac for ip, lease in self.leases.items() if lease.expires > now}

    def save(self, now: float) -> None:
        if self.path is None or not self.dirty:
            return
        write_leases(self.path, self.leases, now)
        self.dirty = False


def write_leases(path: Path, leases: dict[str, Lease], now: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"version": 1, "updated": now, "leases": {ip: asdict(l) for ip, l in leases.items()}},
                      sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".dhcp-leases.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_leases(path: Path) -> dict[str, Lease]:
    """Leases from the file; a missing, unreadable or malformed file is an empty map (the proxy
    then identifies by login and registry only: the DHCP map is an extra source, not a gate)."""
    try:
        doc = json.loads(Path(path).read_text())
        raw = doc.get("leases", {}) if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}
    out: dict[str, Lease] = {}
    for ip, rec in raw.items():
        try:
            key, mac = lookup_ip(str(ip)), lookup_mac(str(rec["mac"]))
            if key is None or mac is None:
                continue
            out[key] = Lease(mac, rec.get("hostname"), float(rec["expires"]), float(rec.get("seen", 0)))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def current_leases(path: Path, now: float) -> dict[str, str]:
    """ip -> mac for the leases in the file that are valid at `now`."""
    return {ip: l.mac for ip, l in read_leases(path).items() if l.expires > now}


class LeaseFileWatcher:
    """The current-lease map of a lease file, re-read only when the file changed (by stat) and
    recomputed only when it changed or a lease expired: a reader polling every few seconds
    costs a stat() per poll, not a JSON parse of a district's leases."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stat = None
        self._leases: dict[str, Lease] = {}
        self._next_expiry = float("inf")
        self.current: dict[str, str] = {}

    def poll(self, now: float) -> bool:
        """Bring `current` up to date; True when it changed."""
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if stamp != self._stat:
            self._stat = stamp
            self._leases = read_leases(self.path) if stamp is not None else {}
        elif now < self._next_expiry:
            return False
        current = {ip: l.mac for ip, l in self._leases.items() if l.expires > now}
        self._next_expiry = min((l.expires for l in self._leases.values() if l.expires > now), default=float("inf"))
        changed = current != self.current
        self.current = current
        return changed


class CurrentLeases(Mapping):
    """A live read-only view ip -> MAC of a LeaseMap's leases valid at `clock()` (the sensor's
    packet time), for the identity resolver inside the sensor process."""

    def __init__(self, leases: LeaseMap, clock: Callable[[], float]):
        self._leases, self._clock = leases, clock

    def __getitem__(self, ip: str) -> str:
        lease = self._leases.leases.get(ip)
        if lease is None or lease.expires <= self._clock():
            raise KeyError(ip)
        return lease.mac

    def __iter__(self):
        now = self._clock()
        return iter([ip for ip, l in self._leases.leases.items() if l.expires > now])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return bool(self._leases.leases)
