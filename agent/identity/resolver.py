"""Who is behind a flow: proxy login, then the device registry, then the DHCP map.

Order: proxy login; then a current DHCP lease (ip -> MAC, from the network sensor's map) whose
MAC is registered; then the registry by address (unless a current lease shows another device
holds it); then the registry by MAC. Every step is a dict lookup (the proxy calls this once per flow on the event
loop, so nothing here may block). A name or device that does not lead to a
roster person is not an identity: we fall through to the next source, and in
the end to `unknown`, which the policy treats most protectively (as under 13).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from agent.identity.addresses import lookup_ip
from agent.identity.registry import DeviceRegistry
from agent.roster import Roster

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Identity:
    user_id: str          # roster sourcedId, or "unknown"
    source: str           # "auth" | "device" | "dhcp" | "unknown"
    device: str | None    # device_id from the registry, or the client IP


class IdentityResolver:
    def __init__(self, roster: Roster, devices: DeviceRegistry, dhcp: Mapping[str, str] | None = None):
        self.roster = roster
        self.devices = devices
        # ip -> mac, kept up to date by the network sensor; read, never copied,
        # so the sensor's updates are seen without re-creating the resolver.
        self.dhcp: Mapping[str, str] = dhcp if dhcp is not None else {}

    def _owner(self, hit: tuple[str, str] | None):
        """(device_id, Person) when a registry hit names someone in the roster."""
        if hit is None:
            return None
        person = self.roster.get(hit[1])
        return (hit[0], person) if person is not None else None

    def lease_mac(self, client_ip: str) -> str | None:
        """The MAC holding `client_ip`'s current DHCP lease, as the sensor saw it (None if unknown)."""
        if not client_ip or not self.dhcp:
            return None
        mac = self.dhcp.get(client_ip)
        if mac is None:
            key = lookup_ip(client_ip)
            mac = self.dhcp.get(key) if key and key != client_ip else None
        return mac

    def resolve(self, *, auth_user: str | None, client_ip: str, client_mac: str | None = None) -> Identity:
        # A current DHCP lease says which device holds the address NOW: when its MAC is in the
        # registry, that entry wins over a registry row for the address, which may be stale
        # (the address was handed to another device since the CSV was written).
        lease_mac = self.lease_mac(client_ip)
        by_lease = self._owner(self.devices.by_mac(lease_mac)) if lease_mac else None
        by_ip = None
        if client_ip and by_lease is None:
            by_ip = self._owner(self.devices.by_ip(client_ip))
            if by_ip is not None and lease_mac and self.devices.has_other_macs(by_ip[0], lease_mac):
                by_ip = None    # the registry's device for this address has other MACs: someone else holds it now
        if auth_user:
            person = self.roster.get(auth_user)
            if person is not None:
                # The login decides who; the registry (if it knows the address) names the device.
                named = by_lease or by_ip
                return Identity(person.user_id, "auth", named[0] if named else (client_ip or None))
        if by_lease is not None:
            return Identity(by_lease[1].user_id, "dhcp", by_lease[0])
        if by_ip is not None:
            return Identity(by_ip[1].user_id, "device", by_ip[0])
        if client_mac:
            hit = self._owner(self.devices.by_mac(client_mac))
            if hit is not None:
                return Identity(hit[1].user_id, "device", hit[0])
        return Identity(UNKNOWN, UNKNOWN, client_ip or None)
