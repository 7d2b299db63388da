"""The device registry: which district device (by IP or MAC) belongs to whom.

CSV with header `device_id,user_id,ip,mac` (columns in any order, extra columns
ignored). Unlike the roster, a bad row here is fatal (ConfigError): a registry
row that is silently skipped would make a student's device `unknown`, and one
read wrongly would hand a student someone else's treatment. `check()` collects
every problem for `crossingguard users --check`; `load()` raises the first.
"""
from __future__ import annotations

from pathlib import Path

from agent.errors import ConfigError
from agent.identity.addresses import lookup_ip, lookup_mac, normalize_ip, normalize_mac
from agent.roster.csvfile import read_rows

COLUMNS = ("device_id", "user_id", "ip", "mac")


class DeviceRegistry:
    def __init__(self, by_ip: dict[str, tuple[str, str]] | None = None,
                 by_mac: dict[str, tuple[str, str]] | None = None, source: Path | None = None):
        self._by_ip = dict(by_ip or {})
        self._by_mac = dict(by_mac or {})
        self.source = source
        self._device_macs: dict[str, frozenset[str]] | None = None   # device_id -> its MACs, built on first use

    @classmethod
    def empty(cls) -> "DeviceRegistry":
        return cls()

    @classmethod
    def load(cls, path: Path) -> "DeviceRegistry":
        registry, errors = cls.check(path)
        if errors:
            raise errors[0]
        return registry

    @classmethod
    def check(cls, path: Path) -> tuple["DeviceRegistry", list[ConfigError]]:
        """Parse the whole file; the registry holds the good rows, errors the rest."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(str(path), None, "devices", "device registry file not found")
        errors: list[ConfigError] = []
        by_ip: dict[str, tuple[str, str]] = {}
        by_mac: dict[str, tuple[str, str]] = {}
        ip_line: dict[str, int] = {}
        mac_line: dict[str, int] = {}
        owner: dict[str, tuple[str, int]] = {}   # device_id -> (user_id, line)

        def bad(line: int, key: str, message: str) -> None:
            errors.append(ConfigError(str(path), line, key, message))

        for row in read_rows(path, COLUMNS):
            v, line = row.values, row.line
            if row.width_error:
                bad(line, "row", row.width_error)
                continue
            device_id, user_id = v.get("device_id", ""), v.get("user_id", "")
            if not device_id:
                bad(line, "device_id", "empty; expected the device's asset id")
                continue
            if not user_id:
                bad(line, "user_id", "empty; expected the roster sourcedId or username of the device's user")
                continue
            ip_text, mac_text = v.get("ip", ""), v.get("mac", "")
            if not ip_text and not mac_text:
                bad(line, "ip", "ip and mac are both empty; expected at least one")
                continue
            ip = mac = None
            try:
                ip = normalize_ip(ip_text) if ip_text else None
            except ValueError:
                bad(line, "ip", f"{ip_text!r} is not an IPv4 or IPv6 address")
                continue
            try:
                mac = normalize_mac(mac_text) if mac_text else None
            except ValueError:
                bad(line, "mac", f"{mac_text!r} is not a MAC address (expected aa:bb:cc:dd:ee:ff)")
                continue
            # One device may appear on several rows (wired and wireless), but always for one user.
            if device_id in owner and owner[device_id][0] != user_id:
                bad(line, "device_id", f"{device_id!r} belongs to {owner[device_id][0]!r} "
                                       f"on line {owner[device_id][1]}")
                continue
            if ip is not None and ip in ip_line:
                bad(line, "ip", f"{ip} is already registered on line {ip_line[ip]}")
                continue
            if mac is not None and mac in mac_line:
                bad(line, "mac", f"{mac} is already registered on line {mac_line[mac]}")
                continue
            owner.setdefault(device_id, (user_id, line))
            if ip is not None:
                by_ip[ip], ip_line[ip] = (device_id, user_id), line
            if mac is not None:
                by_mac[mac], mac_line[mac] = (device_id, user_id), line
        return cls(by_ip, by_mac, path), errors

    def by_ip(self, ip: str) -> tuple[str, str] | None:
        """(device_id, user_id) for a client address; exact text first, then normalized."""
        hit = self._by_ip.get(ip)
        if hit is None and ip:
            key = lookup_ip(ip)
            if key is not None and key != ip:
                hit = self._by_ip.get(key)
        return hit

    def by_mac(self, mac: str) -> tuple[str, str] | None:
        hit = self._by_mac.get(mac)
        if hit is None and mac:
            key = lookup_mac(mac)
            if key is not None and key != mac:
                hit = self._by_mac.get(key)
        return hit

    def macs_of(self, device_id: str) -> frozenset[str]:
        """The MACs registered for a device (empty when it is registered by address only)."""
        index = self._device_macs
        if index is None:
            index = {}
            for m, (d, _) in self._by_mac.items():
                index.setdefault(d, set()).add(m)
            index = {d: frozenset(ms) for d, ms in index.items()}
            self._device_macs = index
        return index.get(device_id, frozenset())

    def has_other_macs(self, device_id: str, mac: str) -> bool:
        """True when `device_id` has registered MACs and `mac` is not one of them."""
        macs = self.macs_of(device_id)
        return bool(macs) and (lookup_mac(mac) or mac) not in macs

    def entries(self) -> list[tuple[str, str, str | None, str | None]]:
        """(device_id, user_id, ip, mac) per address, for checks and listings."""
        out = [(d, u, ip, None) for ip, (d, u) in self._by_ip.items()]
        out += [(d, u, None, mac) for mac, (d, u) in self._by_mac.items()]
        return out

    def __len__(self) -> int:
        return len({d for d, _ in self._by_ip.values()} | {d for d, _ in self._by_mac.values()})
