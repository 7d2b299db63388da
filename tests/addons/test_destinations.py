"""proxy_addons/destinations.py: what counts as a local destination, and the resolved-address
check with pinning in `server_connect` (taddons; the resolver is replaced where a test needs a
public answer, since nothing public resolves here)."""
from __future__ import annotations

import asyncio

import pytest
from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from mitmproxy.test import taddons, tflow

from proxy_addons import destinations
from proxy_addons.destinations import (Destinations, is_local_address, is_local_destination, pin_order,
                                       upstream_proxies)


@pytest.mark.parametrize("host, local", [
    ("127.0.0.1", True), ("localhost", True), ("LOCALHOST.", True), ("x.localhost", True),
    ("2130706433", True), ("0x7f.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("169.254.169.254", True), ("fe80::1", True), ("0.0.0.0", True),
    ("www.instagram.com", False), ("8.8.8.8", False), ("", False),
])
def test_is_local_destination(host, local):
    assert is_local_destination(host) is local


@pytest.mark.parametrize("address, local", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("fe80::1%eth0", True),
    ("::ffff:169.254.1.1", True), ("10.0.0.5", False), ("93.184.216.34", False), ("2606:4700::1", False),
    ("not-an-address", False),
])
def test_is_local_address(address, local):
    assert is_local_address(address) is local


def test_is_local_address_knows_this_machine():
    assert is_local_address("10.1.2.3", frozenset({"10.1.2.3"}))


@pytest.mark.parametrize("addresses, first", [
    (["2606:4700::1", "104.16.1.1", "104.16.1.2"], "104.16.1.1"),
    (["2606:4700::1"], "2606:4700::1"),
    (["104.16.1.2", "104.16.1.1", "104.16.1.2"], "104.16.1.2"),
])
def test_pin_order_puts_ipv4_first_and_keeps_the_resolvers_order(addresses, first):
    ordered = pin_order(addresses)
    assert ordered[0] == first and len(ordered) == len(set(addresses))


def test_upstream_proxies_come_from_upstream_modes_only():
    assert upstream_proxies(["regular", "upstream:http://Proxy.District.example:3128",
                             "upstream:https://127.0.0.1:8443", "transparent"]) == \
        {("proxy.district.example", 3128), ("127.0.0.1", 8443)}
    assert upstream_proxies(["regular@8080", "bogus:::"]) == frozenset()


def connect(addon, host, port=443, client_ip="127.0.0.12"):
    client = tflow.tclient_conn()
    client.peername = (client_ip, 50000)
    server = tflow.tserver_conn()
    server.address, server.sni, server.error = (host, port), None, None
    asyncio.run(addon.server_connect(ServerConnectionHookData(server=server, client=client)))
    return server


@pytest.fixture
def addon():
    d = Destinations(None)
    with taddons.context(d) as tctx:
        tctx.configure(d, crossingguard_admin_addresses="127.0.0.13/32")
        yield d, tctx


def public(monkeypatch, answers):
    async def fake(host, port):
        return answers.get(host) if host in answers else [host]
    monkeypatch.setattr(destinations, "resolve", fake)


def test_a_name_resolving_to_loopback_is_refused_before_connecting(addon):
    d, _ = addon
    server = connect(d, "localhost", 9464)          # resolved for real: 127.0.0.1 / ::1
    assert server.error and "local address" in server.error


def test_a_public_name_is_pinned_to_the_checked_address_and_keeps_its_sni(addon, monkeypatch):
    d, _ = addon
    public(monkeypatch, {"www.instagram.com": ["2a03:2880::1", "157.240.1.35"]})
    server = connect(d, "www.instagram.com")
    assert server.error is None
    assert server.address == ("157.240.1.35", 443) and server.sni == "www.instagram.com"


def test_one_local_answer_among_public_ones_is_enough_to_refuse(addon, monkeypatch):
    d, _ = addon
    public(monkeypatch, {"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    assert connect(d, "rebind.example").error


@pytest.mark.parametrize("case", ["admin", "upstream proxy", "allow mode", "does not resolve"])
def test_exempt_and_unresolvable_connections_are_left_as_they_are(addon, monkeypatch, case):
    d, tctx = addon
    public(monkeypatch, {"nowhere.example": None})
    host, port, ip = "localhost", 9464, "127.0.0.12"
    if case == "admin":
        ip = "127.0.0.13"
    elif case == "upstream proxy":
        tctx.options.mode = ["upstream:http://localhost:9464"]
    elif case == "allow mode":
        tctx.configure(d, crossingguard_local_destinations="allow")
    else:
        host = "nowhere.example"
    server = connect(d, host, port, ip)
    assert server.error is None and server.address == (host, port)


def test_a_failing_check_leaves_the_connection_as_mitmproxy_makes_it(addon, monkeypatch, caplog):
    d, _ = addon

    async def broken(host, port):
        raise RuntimeError("resolver exploded")
    monkeypatch.setattr(destinations, "resolve", broken)
    server = connect(d, "www.instagram.com")
    assert server.error is None and server.address == ("www.instagram.com", 443)
    assert "checking the resolved destination www.instagram.com failed" in caplog.text
