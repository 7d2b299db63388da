"""The platform catalog: label-boundary matching, host normalisation, coverage."""
from __future__ import annotations

import pytest

from agent.policy.catalog import (CATEGORIES, Catalog, Platform, default_catalog, load_catalog,
                                  normalize_address, normalize_host, valid_address, valid_domain)

DESIGN_IDS = ("x", "instagram", "facebook", "threads", "tiktok", "snapchat", "youtube", "pinterest", "linkedin",
              "reddit", "discord", "tumblr", "twitch", "bluesky", "mastodon", "bereal", "whatsapp", "telegram",
              "messenger", "youtube_kids", "messenger_kids", "pbs_kids")


@pytest.mark.parametrize("host,platform", [
    # exact domains and subdomains
    ("instagram.com", "instagram"),
    ("www.instagram.com", "instagram"),
    ("i.instagram.com", "instagram"),
    ("cdninstagram.com", "instagram"),
    ("scontent-bos5-1.cdninstagram.com", "instagram"),
    ("scontent.xx.fbcdn.net", "facebook"),
    ("fbcdn.net", "facebook"),
    ("x.com", "x"), ("api.x.com", "x"), ("twitter.com", "x"), ("pbs.twimg.com", "x"), ("t.co", "x"),
    ("www.tiktok.com", "tiktok"), ("v16-webapp.tiktokcdn.com", "tiktok"), ("api16-normal-c-useast1a.tiktokv.com", "tiktok"),
    ("i.ytimg.com", "youtube"), ("rr3---sn-abc.googlevideo.com", "youtube"), ("youtubei.googleapis.com", "youtube"),
    ("youtube.googleapis.com", "youtube"), ("youtu.be", "youtube"), ("m.youtube.com", "youtube"),
    ("www.youtubekids.com", "youtube_kids"),
    ("i.redd.it", "reddit"), ("oauth.reddit.com", "reddit"), ("styles.redditmedia.com", "reddit"),
    ("www.redditstatic.com", "reddit"),
    ("discord.gg", "discord"), ("cdn.discordapp.com", "discord"), ("media.discordapp.net", "discord"),
    ("gateway.discord.gg", "discord"),
    ("bsky.social", "bluesky"), ("morel.us-east.host.bsky.network", "bluesky"),
    ("mastodon.social", "mastodon"), ("web.whatsapp.com", "whatsapp"), ("t.me", "telegram"),
    ("www.messenger.com", "messenger"), ("www.threads.net", "threads"), ("tr6.snapchat.com", "snapchat"),
    ("pbskids.org", "pbs_kids"), ("www.messengerkids.com", "messenger_kids"),
    # DoH resolvers
    ("dns.google", "doh_google"), ("cloudflare-dns.com", "doh_cloudflare"),
    ("mozilla.cloudflare-dns.com", "doh_cloudflare"), ("dns.quad9.net", "doh_quad9"),
    ("doh.opendns.com", "doh_opendns"), ("dns.nextdns.io", "doh_nextdns"), ("doh.cleanbrowsing.org", "doh_cleanbrowsing"),
    ("dns.adguard-dns.com", "doh_adguard"),
    # piracy
    ("thepiratebay.org", "the_pirate_bay"), ("1337x.to", "x1337"), ("www.1337x.to", "x1337"),
    # search: exact hosts only
    ("www.google.com", "google_search"), ("google.com", "google_search"), ("www.bing.com", "bing"),
    # normalisation: case, trailing dot, port, whitespace
    ("WWW.Instagram.COM", "instagram"), ("www.instagram.com.", "instagram"), ("www.instagram.com:443", "instagram"),
    ("WWW.INSTAGRAM.COM.:8443", "instagram"), (" instagram.com ", "instagram"),
    # not matched: label boundaries, look-alikes, unrelated Google services
    ("notinstagram.com", None), ("instagram.com.evil.example", None), ("myfbcdn.net", None),
    ("xx.com", None), ("ax.com", None), ("nott.co", None), ("instagram.co", None),
    ("docs.google.com", None), ("mail.google.com", None), ("storage.googleapis.com", None),
    ("googleapis.com", None), ("www.googleapis.com", None), ("classroom.google.com", None),
    ("quad9.net", None), ("example.com", None), ("com", None), ("", None), (".", None),
    # IP literals match listed (DoH resolver) addresses and published ranges (Meta's AS32934 here),
    # in every form a resolver reads: dotted, decimal, octal, IPv6, NAT64, IPv4-mapped
    ("157.240.1.35", "facebook"), ("157.240.1.35:443", "facebook"), ("[2a03:2880:f10c::1]:443", "facebook"),
    ("2a03:2880:f10c::1", "facebook"), ("2649751843", "facebook"), ("0235.0360.01.043", "facebook"),
    ("64:ff9b::9df0:123", "facebook"), ("[64:ff9b::157.240.1.35]:443", "facebook"), ("::ffff:157.240.1.35", "facebook"),
    ("104.244.42.1", "x"), ("142.250.64.100", "google_search"),
    ("93.184.216.34", None), ("127.0.0.1", None), ("[::1]", None), ("157.241.0.1", None), ("10.0.0.1", None),
    ("1.1.1.2.example", None), ("1.1.1.1.nip.io", None),
])
def test_match(host, platform):
    p = default_catalog().match(host)
    assert (p.id if p else None) == platform


def test_idna_hosts_match_their_ascii_form():
    cat = Catalog([Platform("buecher", "Bücher", "forum", ("xn--bcher-kva.example",))])
    assert cat.match("bücher.example").id == "buecher"
    assert cat.match("forum.BÜCHER.example.").id == "buecher"
    assert cat.match("xn--bcher-kva.example").id == "buecher"
    assert cat.match("bucher.example") is None
    assert default_catalog().match("ínstagram.com") is None     # a homoglyph is a different name
    assert default_catalog().match("\udcff.example") is None     # undecodable garbage never raises


@pytest.mark.parametrize("raw,normal", [
    ("Example.COM", "example.com"), ("example.com.", "example.com"), ("example.com:80", "example.com"),
    ("bücher.de", "xn--bcher-kva.de"), ("10.0.0.1", None), ("[::1]", None), ("::1", None), ("", None),
    ("localhost", "localhost"),
])
def test_normalize_host(raw, normal):
    assert normalize_host(raw) == normal


def test_shipped_catalog_covers_design_ids_and_categories():
    cat = default_catalog()
    assert len(cat) >= 25
    for pid in DESIGN_IDS:
        assert cat.get(pid) is not None, pid
    assert {p.category for p in cat} == set(CATEGORIES)
    kids = {p.id for p in cat if p.category == "kids"}
    assert {"youtube_kids", "messenger_kids", "pbs_kids"} <= kids
    for p in cat:
        for d in p.domains + p.hosts:
            assert valid_domain(d) is None, (p.id, d)
            assert cat.match(d) is p, (p.id, d)        # every listed name resolves to its own platform


def test_default_catalog_is_cached():
    assert default_catalog() is default_catalog()


def test_catalog_file_errors_are_located(tmp_path):
    from agent.errors import ConfigError
    p = tmp_path / "catalog.yaml"
    p.write_text("platforms:\n  a:\n    name: A\n    category: social\n    domains: [a.example]\n"
                 "  b:\n    name: B\n    category: social\n    domains: [x.a.example, a.example]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(p)
    assert str(info.value) == f"{p}:9: platforms.b.domains[1]: domain 'a.example' already belongs to platform 'a' ({p}:5)"
    # a subdomain listed under another platform is allowed: the longest suffix wins
    p.write_text("platforms:\n  a:\n    name: A\n    category: social\n    domains: [a.example]\n"
                 "  b:\n    name: B\n    category: video\n    domains: [v.a.example]\n", encoding="utf-8")
    cat = load_catalog(p)
    assert cat.match("cdn.v.a.example").id == "b" and cat.match("w.a.example").id == "a"


def test_lookup_is_a_suffix_walk_not_a_scan():
    """The number of dict probes is bounded by the host's labels, whatever the catalog size."""
    probes = []

    class CountingDict(dict):
        def get(self, key, default=None):
            probes.append(key)
            return super().get(key, default)

    cat = default_catalog()
    counted = Catalog(list(cat))
    counted._domains = CountingDict(counted._domains)
    assert counted.match("a.b.c.scontent.xx.fbcdn.net").id == "facebook"
    assert probes == ["a.b.c.scontent.xx.fbcdn.net", "b.c.scontent.xx.fbcdn.net", "c.scontent.xx.fbcdn.net",
                      "scontent.xx.fbcdn.net", "xx.fbcdn.net", "fbcdn.net"]
    probes.clear()
    assert counted.match("www.example.org") is None
    assert len(probes) == 3
