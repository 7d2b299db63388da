"""The catalog's exact IP addresses: DoH resolvers reached by address (https://1.1.1.1/dns-query).

A browser sends no SNI for an IP URL, so the address is the only name the proxy ever sees;
these tests pin what the catalog recognises as that address and what it refuses to load.
"""
from __future__ import annotations

import ipaddress

import pytest

from agent.errors import ConfigError
from agent.policy import load_policy
from agent.policy.catalog import (CATALOG_PATH, Catalog, Platform, default_catalog, load_catalog,
                                  normalize_address, normalize_host)

POLICY_PATH = CATALOG_PATH.parent / "ensatsd.yaml"


@pytest.mark.parametrize("host,platform", [
    # the forms a client sends: bare, with port, bracketed IPv6 with and without port, Host header
    ("1.1.1.1", "doh_cloudflare"), ("1.0.0.1", "doh_cloudflare"), ("1.1.1.1:443", "doh_cloudflare"),
    ("2606:4700:4700::1111", "doh_cloudflare"), ("[2606:4700:4700::1111]", "doh_cloudflare"),
    ("[2606:4700:4700::1111]:443", "doh_cloudflare"), ("[2606:4700:4700::1001]", "doh_cloudflare"),
    ("8.8.8.8", "doh_google"), ("8.8.4.4", "doh_google"), ("[2001:4860:4860::8888]", "doh_google"),
    ("2001:4860:4860::8844", "doh_google"),
    ("9.9.9.9", "doh_quad9"), ("149.112.112.112", "doh_quad9"), ("2620:fe::fe", "doh_quad9"), ("2620:fe::9", "doh_quad9"),
    ("208.67.222.222", "doh_opendns"), ("208.67.220.220", "doh_opendns"),
    ("94.140.14.14", "doh_adguard"), ("94.140.15.15", "doh_adguard"),
    ("185.228.168.168", "doh_cleanbrowsing"),
    # spellings that reach the same address: case, leading zeros in IPv6, trailing dot, whitespace,
    # IPv4-mapped IPv6, zone id, and the inet_aton shorthands a C resolver accepts
    ("2606:4700:4700:0:0:0:0:1111", "doh_cloudflare"), ("[2606:4700:4700:0000::1111]:8443", "doh_cloudflare"),
    ("2620:FE::FE", "doh_quad9"), ("8.8.8.8.", "doh_google"), (" 9.9.9.9 ", "doh_quad9"),
    ("::ffff:1.1.1.1", "doh_cloudflare"), ("[::ffff:8.8.8.8]:443", "doh_google"),
    ("2606:4700:4700::1111%eth0", "doh_cloudflare"),
    ("16843009", "doh_cloudflare"), ("0x01010101", "doh_cloudflare"), ("1.1.1.01", "doh_cloudflare"),
    ("0x8.0x8.0x8.0x8", "doh_google"), ("1.1.1.1\u3002", "doh_cloudflare"), ("\uff11.1.1.1", "doh_cloudflare"),
    # not listed: neighbours, unrelated addresses, garbage that must not raise
    ("1.1.1.4", None), ("8.8.8.9", None), ("2606:4700:4700::1", None), ("1.1.1.1/32", None),
    ("1.1.1.1 junk", None), ("[2606:4700:4700::1111", None), ("[]", None), ("1.1.1.1:443:1", None),
    ("0x", None), ("::", None), ("0.0.0.0", None), ("999.1.1.1", None), ("\udcff", None),
])
def test_match_ip_literals(host, platform):
    p = default_catalog().match(host)
    assert (p.id if p else None) == platform


@pytest.mark.parametrize("raw,normal", [
    ("1.1.1.1", "1.1.1.1"), ("1.1.1.1:443", "1.1.1.1"), ("[2606:4700:4700::1111]:443", "2606:4700:4700::1111"),
    ("2606:4700:4700:0:0:0:0:1111", "2606:4700:4700::1111"), ("2620:FE::FE", "2620:fe::fe"),
    ("::ffff:1.1.1.1", "1.1.1.1"), ("fe80::1%eth0", "fe80::1"), ("16843009", "1.1.1.1"),
    ("010.0.0.1", "8.0.0.1"),          # inet_aton reads a leading zero as octal, so the OS connects there
    ("example.com", None), ("notinstagram.com", None), ("1.1.1.1 junk", None), ("", None), ("[::1", None),
])
def test_normalize_address(raw, normal):
    assert normalize_address(raw) == normal


@pytest.mark.parametrize("raw", ["0x01010101", "1.1.1.0x1", "16843009", "1.1.1.01", "example.4u", "a.0xff",
                                 "\u3002", "1.1.1.1\u3002"])
def test_address_shorthands_never_reach_the_domain_walk(raw):
    assert normalize_host(raw) is None


@pytest.mark.parametrize("raw,normal", [
    ("a\u3002", "a"), ("b\u00fccher\uff0e", "xn--bcher-kva"), ("www.instagram.com\u3002", "www.instagram.com"),
])
def test_a_wide_trailing_dot_is_stripped_after_idna(raw, normal):
    """Ideographic and full-width dots become "." in IDNA; a trailing one must not leave an empty label."""
    assert normalize_host(raw) == normal
    assert (default_catalog().match(raw) is not None) == normal.endswith("instagram.com")


def test_shipped_addresses_are_canonical_public_and_only_for_doh():
    cat = default_catalog()
    listed = [(p, a) for p in cat for a in p.addresses]
    assert len(listed) >= 16
    for p, a in listed:
        assert p.category == "doh", (p.id, a)       # CDN addresses of platforms are shared: never listed
        ip = ipaddress.ip_address(a)
        assert str(ip) == a and ip.is_global, (p.id, a)
        assert cat.match(a) is p and cat.matched_domain(a) == a and cat.owner_of(a) is p


def test_address_lookup_is_one_probe_for_canonical_text():
    """A canonical address is looked up without parsing: one probe of the address dict."""
    probes = []

    class CountingDict(dict):
        def get(self, key, default=None):
            probes.append(key)
            return super().get(key, default)

    cat = Catalog(list(default_catalog()))
    cat._addresses = CountingDict(cat._addresses)
    assert cat.match("1.1.1.1").id == "doh_cloudflare"
    assert probes == ["1.1.1.1"]
    probes.clear()
    assert cat.match("[2606:4700:4700::1111]:443").id == "doh_cloudflare"
    assert probes == ["[2606:4700:4700::1111]:443", "2606:4700:4700::1111"]
    probes.clear()
    assert cat.match("192.0.2.80") is None and cat.match("192.0.2.80") is None
    assert probes == ["192.0.2.80", "192.0.2.80"] * 2      # a miss is two probes, never a scan


def test_a_catalog_without_addresses_never_matches_an_ip_literal():
    cat = Catalog([Platform("p", "P", "doh", ("p.example",))])
    assert cat.match("1.1.1.1") is None and cat.matched_domain("1.1.1.1") is None


def _catalog(tmp_path, platforms: str):
    p = tmp_path / "catalog.yaml"
    p.write_text("platforms:\n" + platforms, encoding="utf-8")
    return p


DOH_A = "  a:\n    name: A\n    category: doh\n    addresses:\n"


@pytest.mark.parametrize("body,line,key,message", [
    (DOH_A + "      - 1.1.1.1\n      - 1.1.1.0/24\n", 7, "platforms.a.addresses[1]",
     "expected a single IP address like 1.1.1.1 or 2606:4700:4700::1111 (no ranges); got '1.1.1.0/24'"),
    (DOH_A + "      - dns.example\n", 6, "platforms.a.addresses[0]",
     "expected an IP address like 1.1.1.1 or 2606:4700:4700::1111; got 'dns.example'"),
    (DOH_A + "      - '[2606:4700:4700::1111]'\n", 6, "platforms.a.addresses[0]",
     "expected an IP address like 1.1.1.1 or 2606:4700:4700::1111; got '[2606:4700:4700::1111]'"),
    (DOH_A + "      - 1.1.1.1:443\n", 6, "platforms.a.addresses[0]",
     "expected an IP address like 1.1.1.1 or 2606:4700:4700::1111; got '1.1.1.1:443'"),
    (DOH_A + "      - '2620:fe::fe'\n      - '2620:00fe::00fe'\n", 7, "platforms.a.addresses[1]",
     "address '2620:00fe::00fe' is listed twice (as '2620:fe::fe')"),
    (DOH_A + "      - 1.1.1.1\n  b:\n    name: B\n    category: doh\n    domains: [b.example]\n"
     "    addresses: ['::ffff:1.1.1.1']\n", 11, "platforms.b.addresses[0]",
     "address '1.1.1.1' already belongs to platform 'a' ({file}:6)"),
    ("  a:\n    name: A\n    category: doh\n    domains: [a.example, 9.9.9.9]\n", 5, "platforms.a.domains[1]",
     "expected a domain name; got the IP address '9.9.9.9' (list IP addresses under 'addresses')"),
    ("  a:\n    name: A\n    category: doh\n    addresses: 1.1.1.1\n", 5, "platforms.a.addresses",
     "expected a list of IP addresses; got '1.1.1.1' (a string)"),
    ("  a:\n    name: A\n    category: doh\n    addresses: []\n", 2, "platforms.a.domains",
     "expected at least one domain, host or address for the platform"),
], ids=["range", "name", "brackets", "port", "twice-after-normalising", "taken", "ip-under-domains", "not-a-list",
        "nothing-listed"])
def test_address_errors_name_file_line_and_key(tmp_path, body, line, key, message):
    p = _catalog(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_catalog(p)
    assert str(info.value) == f"{p}:{line}: {key}: {message.format(file=p)}"


def test_a_platform_may_list_only_addresses(tmp_path):
    cat = load_catalog(_catalog(tmp_path, DOH_A + "      - 192.0.2.53\n      - '2001:db8::53'\n"))
    assert cat.get("a").addresses == ("192.0.2.53", "2001:db8::53")
    assert cat.match("[2001:DB8::53]:443").id == "a" and cat.match("192.0.2.53").id == "a"
    assert cat.match("a.example") is None


def _policy(tmp_path, catalog_section: str):
    p = tmp_path / "policy.yaml"
    p.write_text(POLICY_PATH.read_text(encoding="utf-8") + "\ncatalog:\n" + catalog_section, encoding="utf-8")
    return p


def test_policy_can_add_a_resolver_with_addresses_and_add_domains_keeps_shipped_addresses(tmp_path):
    policy = load_policy(_policy(tmp_path, "  platforms:\n    doh_district_test:\n      name: Test resolver\n"
                                           "      category: doh\n      addresses: [192.0.2.53]\n"
                                           "  add_domains:\n    doh_cloudflare: [cf-doh.example]\n"))
    cat = policy.catalog
    assert cat.match("192.0.2.53").id == "doh_district_test"
    assert cat.match("cf-doh.example").id == "doh_cloudflare"
    assert cat.match("1.1.1.1").id == "doh_cloudflare"      # adding a domain must not drop the addresses
    assert cat.match("[2606:4700:4700::1111]").id == "doh_cloudflare"


def test_policy_cannot_claim_a_shipped_address_for_another_platform(tmp_path):
    p = _policy(tmp_path, "  platforms:\n    mine:\n      name: Mine\n      category: doh\n"
                          "      addresses: [8.8.8.8]\n")
    with pytest.raises(ConfigError) as info:
        load_policy(p)
    text = str(info.value)
    assert text.startswith(f"{p}:") and "catalog.platforms.mine.addresses[0]: address '8.8.8.8' already belongs " \
                                             "to platform 'doh_google'" in text
    line = int(text.split(":")[1])
    assert p.read_text().splitlines()[line - 1].strip() == "addresses: [8.8.8.8]"
