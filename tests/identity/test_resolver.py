"""Resolver order: proxy login, current DHCP lease of a registered MAC, device registry by IP then MAC, unknown."""
from __future__ import annotations

import pytest

from agent.context import DEFAULT_ROSTER
from agent.identity import DeviceRegistry, Identity, IdentityResolver
from agent.roster import Roster


@pytest.fixture(scope="module")
def roster():
    return Roster.load(DEFAULT_ROSTER)


@pytest.fixture(scope="module")
def devices():
    return DeviceRegistry.load(DEFAULT_ROSTER / "devices.csv")


@pytest.fixture()
def resolver(roster, devices):
    return IdentityResolver(roster, devices)


RUBY_MAC = "02:00:00:00:10:07"   # tab-ruby: registered by MAC only


@pytest.mark.parametrize("auth, ip, mac, expected", [
    # the login beats the device: eli logs in on mila's chromebook
    ("eli.marsh", "127.0.0.11", None, Identity("stu-1006", "auth", "cb-mila")),
    ("ELI.Marsh", "127.0.0.99", None, Identity("stu-1006", "auth", "127.0.0.99")),
    ("stu-1006", "127.0.0.99", None, Identity("stu-1006", "auth", "127.0.0.99")),
    # an unknown or disabled login falls back to the device
    ("nobody", "127.0.0.11", None, Identity("stu-1001", "device", "cb-mila")),
    ("finn.oldcastle", "127.0.0.11", None, Identity("stu-1001", "device", "cb-mila")),
    ("", "127.0.0.15", None, Identity("stu-1006", "device", "cb-eli")),
    (None, "::ffff:127.0.0.15", None, Identity("stu-1006", "device", "cb-eli")),
    # IP first, then MAC
    (None, "127.0.0.11", RUBY_MAC, Identity("stu-1001", "device", "cb-mila")),
    (None, "127.0.0.99", RUBY_MAC, Identity("stu-1007", "device", "tab-ruby")),
    (None, "127.0.0.99", "02-00-00-00-10-07", Identity("stu-1007", "device", "tab-ruby")),
    # nothing known
    ("nobody", "127.0.0.1", None, Identity("unknown", "unknown", "127.0.0.1")),
    (None, "127.0.0.1", "02:00:00:00:99:99", Identity("unknown", "unknown", "127.0.0.1")),
    (None, "", None, Identity("unknown", "unknown", None)),
])
def test_resolution_order(resolver, auth, ip, mac, expected):
    assert resolver.resolve(auth_user=auth, client_ip=ip, client_mac=mac) == expected


def test_dhcp_lease_by_mac_wins_over_a_stale_address_and_is_read_live(roster, devices):
    dhcp: dict[str, str] = {}
    resolver = IdentityResolver(roster, devices, dhcp)
    assert resolver.resolve(auth_user=None, client_ip="10.9.0.7").source == "unknown"
    dhcp["10.9.0.7"] = "02-00-00-00-10-07"        # the sensor saw a DHCP lease for ruby's tablet
    assert resolver.resolve(auth_user=None, client_ip="10.9.0.7") == Identity("stu-1007", "dhcp", "tab-ruby")
    assert resolver.resolve(auth_user=None, client_ip="::ffff:10.9.0.7") == Identity("stu-1007", "dhcp", "tab-ruby")
    # a current lease of a registered MAC wins over the registry's (now stale) row for the address
    dhcp["127.0.0.11"] = "02-00-00-00-10-07"
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.11") == Identity("stu-1007", "dhcp", "tab-ruby")
    # a lease for the registered device's own MAC changes nothing
    dhcp["127.0.0.11"] = "02:00:00:00:10:01"
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.11") == Identity("stu-1001", "dhcp", "cb-mila")
    # an unregistered MAC holding the address: the registry's row (cb-mila, another MAC) is stale
    dhcp["127.0.0.11"] = "02:00:00:00:99:99"
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.11").source == "unknown"
    # a lease for an unregistered MAC is still unknown
    dhcp["10.9.0.8"] = "02:00:00:00:99:99"
    assert resolver.resolve(auth_user=None, client_ip="10.9.0.8").source == "unknown"


def test_registry_user_missing_from_roster_is_not_an_identity(tmp_path, roster):
    path = tmp_path / "devices.csv"
    path.write_text("device_id,user_id,ip,mac\n"
                    "ghost,stu-9999,127.0.0.40,02:00:00:00:00:40\n"
                    "by-name,eli.marsh,127.0.0.41,\n"
                    "old,stu-1012,127.0.0.42,\n")
    resolver = IdentityResolver(roster, DeviceRegistry.load(path))
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.40") == Identity("unknown", "unknown", "127.0.0.40")
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.99", client_mac="02:00:00:00:00:40").source == "unknown"
    # a registry may name users by username; the identity carries the sourcedId
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.41") == Identity("stu-1006", "device", "by-name")
    # a disabled student's device is unknown (most protective), not someone's
    assert resolver.resolve(auth_user=None, client_ip="127.0.0.42").source == "unknown"


def test_empty_roster_and_registry_give_unknown():
    resolver = IdentityResolver(Roster.empty(), DeviceRegistry.empty())
    assert resolver.resolve(auth_user="eli.marsh", client_ip="127.0.0.15") == Identity("unknown", "unknown", "127.0.0.15")
