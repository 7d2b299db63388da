"""`crossingguard run`'s lean mitmproxy Master (proxy_addons/master.py): the options a district passes
after `--` still work, options of left-out addons fail loudly, and connection_strategy=lazy is the
default (a blocked request never contacts the platform) while `--set` after `--` still overrides."""
from __future__ import annotations

import asyncio
import subprocess

import pytest

from mitmproxy import options as mitm_options
from mitmproxy.tools.main import process_options

from proxy_addons.master import LEFT_OUT, make_parser, master_class
from tests.e2e.conftest import TEEN_IP, YOUNG_IP
from tests.support import CrossingGuardProcess, crossingguard_argv, free_port, proxied_client


def _configure(argv: list[str]):
    """Parse `argv` as `crossingguard run -- ARGV` does and apply it to a lean master's options
    (every kept addon's configure() runs and may refuse). Returns the options."""
    async def go():
        opts = mitm_options.Options()
        master_class([])(opts)
        parser = make_parser(opts)
        args = parser.parse_args(argv)
        opts.set(*args.setoptions, defer=True)
        process_options(parser, opts, args)
        assert not opts.deferred, opts.deferred
        return opts
    return asyncio.run(go())


def test_the_chain_holds_the_kept_builtins_and_none_of_the_left_out():
    async def names():
        m = master_class([])(mitm_options.Options())
        return set(m.addons.lookup)
    loaded = asyncio.run(names())
    for needed in ("core", "block", "proxyauth", "proxyserver", "nextlayer", "tlsconfig", "upstreamauth",
                   "scriptloader", "dnsresolver", "errorcheck", "termlog", "disableh2c"):
        assert needed in loaded, needed
    for dropped in ("dumper", "save", "savehar", "mapremote", "maplocal", "modifyheaders", "modifybody",
                    "stickycookie", "stickyauth", "anticache", "anticomp", "onboarding", "browser",
                    "clientplayback", "serverplayback", "readfile", "keepserving", "blocklist"):
        assert dropped not in loaded, dropped
    assert "save" in LEFT_OUT and "dumper" in LEFT_OUT


@pytest.mark.parametrize("argv, option, expected", [
    (["--mode", "regular"], "mode", ["regular"]),
    (["--mode", "transparent"], "mode", ["transparent"]),
    (["--mode", "upstream:http://10.0.0.1:3128"], "mode", ["upstream:http://10.0.0.1:3128"]),
    (["--mode", "socks5"], "mode", ["socks5"]),
    (["--mode", "wireguard"], "mode", ["wireguard"]),
    (["--mode", "regular", "--mode", "wireguard@51821"], "mode", ["regular", "wireguard@51821"]),
    (["--set", "ssl_insecure=true"], "ssl_insecure", True),
    (["-k"], "ssl_insecure", True),
    (["--ignore-hosts", r"bank\.example$"], "ignore_hosts", [r"bank\.example$"]),
    (["--allow-hosts", r"instagram\.com"], "allow_hosts", [r"instagram\.com"]),
    (["--tcp-hosts", r"mail\.example"], "tcp_hosts", [r"mail\.example"]),
    (["--set", "connection_strategy=lazy"], "connection_strategy", "lazy"),
    (["--set", "connection_strategy=eager"], "connection_strategy", "eager"),
    (["--set", "block_global=false"], "block_global", False),
    (["--set", "block_private=true"], "block_private", True),
    (["--listen-host", "0.0.0.0", "--listen-port", "3128"], "listen_port", 3128),
    (["-p", "3129"], "listen_port", 3129),
    (["--upstream-auth", "district:secret"], "upstream_auth", "district:secret"),
    (["--set", "body_size_limit=50m"], "body_size_limit", "50m"),
    (["--set", "tls_version_client_min=TLS1_2"], "tls_version_client_min", "TLS1_2"),
    (["--set", "termlog_verbosity=debug"], "termlog_verbosity", "debug"),
    (["-q"], "termlog_verbosity", "error"),
    (["-v"], "termlog_verbosity", "debug"),
    (["--set", "strip_ech=false"], "strip_ech", False),
    (["--mode", "transparent", "--showhost"], "showhost", True),   # deploy/transparent/nftables.sh
])
def test_options_a_district_passes_still_work(argv, option, expected):
    assert getattr(_configure(argv), option) == expected


def test_confdir_certs_proxyauth_and_scripts_are_read(tmp_path, origin_pki):
    htpasswd = tmp_path / "users.htpasswd"
    htpasswd.write_text("teen.student:{SHA}fqEGrF8wn+NFxKgHCFsdEbJHYIo=\n", encoding="utf-8")
    script = tmp_path / "local.py"
    script.write_text("class Local:\n    pass\naddons = [Local()]\n", encoding="utf-8")
    cert = tmp_path / "site.pem"
    cert.write_bytes(origin_pki.leaf_key.read_bytes() + origin_pki.leaf_cert.read_bytes())
    opts = _configure(["--set", f"confdir={tmp_path / 'conf'}", "--proxyauth", f"@{htpasswd}",
                       "--certs", f"*.example.org={cert}", "-s", str(script)])
    assert opts.confdir == str(tmp_path / "conf")
    assert (tmp_path / "conf" / "mitmproxy-ca.pem").exists()     # tlsconfig made its CA there
    assert opts.proxyauth == f"@{htpasswd}" and opts.certs == [f"*.example.org={cert}"]
    assert opts.scripts == [str(script)]


def test_ldap_proxyauth_spec_is_accepted_by_the_parser():
    async def go():
        opts = mitm_options.Options()
        master_class([])(opts)
        return make_parser(opts).parse_args(["--proxyauth", "ldaps:ldap.district.test:cn=svc,dc=d:pw:ou=people,dc=d"])
    assert asyncio.run(go()).proxyauth.startswith("ldaps:")


def _run_fails(tmp_path, district, mitm_args, timeout=60):
    _, roster, devices = district
    argv = crossingguard_argv("run", "--home", str(tmp_path / "home"), "--roster", str(roster.directory),
                              "--devices", str(devices), "--listen-port", str(free_port()),
                              "--metrics-port", "0", "--", *mitm_args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.e2e
def test_an_option_of_a_left_out_addon_fails_with_a_clear_error(tmp_path, district):
    r = _run_fails(tmp_path, district, ["--set", "anticache=true"])
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Unknown option(s): anticache (mitmproxy's anticache addon)" in r.stderr
    assert "mitmdump -s proxy_addons/entry.py" in r.stderr


@pytest.mark.e2e
def test_a_flag_of_a_left_out_addon_is_refused(tmp_path, district):
    r = _run_fails(tmp_path, district, ["--map-remote", "|example.com|example.org"])
    assert r.returncode != 0, r.stdout + r.stderr
    assert "unrecognized arguments: --map-remote" in r.stderr
    assert "proxy_addons/entry.py" in r.stderr


@pytest.mark.e2e
def test_a_misspelt_option_stops_the_proxy_instead_of_being_ignored(tmp_path, district):
    r = _run_fails(tmp_path, district, ["--set", "ssl_insecur=true"])
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Unknown option(s): ssl_insecur" in r.stdout + r.stderr


@pytest.mark.e2e
def test_lazy_by_default_a_blocked_request_never_needs_the_platform(tmp_path, district):
    """Upstream proxy down: the block page is still served (nothing was contacted), while an
    allowed request fails; with `-- --set connection_strategy=eager` the user's choice wins and the
    CONNECT itself fails first."""
    _, roster, devices = district
    dead = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    lazy = CrossingGuardProcess(tmp_path / "lazy", roster=roster.directory, devices=devices,
                                mitm_args=["--mode", f"upstream:{dead}"])
    with lazy:
        with proxied_client(lazy.url, lazy.ca_file, source_ip=YOUNG_IP) as c:
            assert c.get("https://www.instagram.com/").status_code == 403
        with proxied_client(lazy.url, lazy.ca_file, source_ip=TEEN_IP) as c:
            assert c.get("https://www.youtube.com/").status_code == 502
    # `-- --set connection_strategy=eager` is accepted (no "multiple values" clash with our default)
    eager = CrossingGuardProcess(tmp_path / "eager", roster=roster.directory, devices=devices,
                                 mitm_args=["--mode", f"upstream:{dead}", "--set", "connection_strategy=eager"])
    with eager:
        assert eager.alive()


@pytest.mark.parametrize("user, expected", [
    ([], "lazy"),
    (["--", "--set", "connection_strategy=eager"], "eager"),
    (["--set=connection_strategy=eager"], "eager"),
])
def test_user_set_after_the_double_dash_replaces_our_default(tmp_path, user, expected):
    from types import SimpleNamespace

    from agent.commands.run import mitmproxy_arguments
    args = SimpleNamespace(mitmproxy_args=user, listen_host="127.0.0.1", listen_port=8080, metrics_port=None)
    context = SimpleNamespace(confdir=tmp_path / "ca", home=tmp_path, policy_path=tmp_path / "p.yaml",
                              roster_path=tmp_path / "r", devices_path=None)
    argv = mitmproxy_arguments(args, context)
    strategies = [a.split("=", 2)[-1] for i, a in enumerate(argv)
                  if "connection_strategy=" in a and (a.startswith("--set=") or argv[i - 1] == "--set")]
    assert strategies == [expected]


@pytest.mark.e2e
def test_every_proxy_mode_starts_together(tmp_path, district):
    """regular, socks5, transparent and wireguard listeners come up under the lean master
    (dns_resolver and strip_dns_https_records are kept for the WireGuard/DNS side)."""
    import socket
    _, roster, devices = district
    socks, wg, transparent = free_port(), free_port(), free_port()
    p = CrossingGuardProcess(tmp_path / "home", roster=roster.directory, devices=devices, mitm_args=[
        "--mode", "regular", "--mode", f"socks5@127.0.0.1:{socks}", "--mode", f"wireguard@127.0.0.1:{wg}",
        "--mode", f"transparent@127.0.0.1:{transparent}", "--set", "termlog_verbosity=info"])
    with p:
        import time
        deadline = time.monotonic() + 15   # readiness is the regular port; the others bind just after
        for port in (socks, transparent):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=5).close()
                    break
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        while f"WireGuard server listening at 127.0.0.1:{wg}" not in p.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        out = p.output()
        assert f"SOCKS v5 proxy listening at 127.0.0.1:{socks}" in out
        assert f"WireGuard server listening at 127.0.0.1:{wg}" in out
        assert p.alive(), p.output()[-4000:]


def test_cached_dispatch_follows_chain_changes_and_keeps_order():
    """The per-hook handler cache sees addons added, removed and reordered, calls handlers in
    chain order, and a failing handler does not stop the next one (as stock safecall)."""
    from proxy_addons.tunnel import place_before
    calls = []

    class A:
        name = "lean_a"

        def client_connected(self, client):
            calls.append("a")

    class Boom:
        name = "lean_boom"

        def client_connected(self, client):
            calls.append("boom")
            raise RuntimeError("addon failure")

    class B:
        name = "lean_b"

        def client_connected(self, client):
            calls.append("b")

    async def go():
        from mitmproxy.proxy import server_hooks  # noqa: F401
        from mitmproxy import hooks
        from mitmproxy.test import tflow
        m = master_class([])(mitm_options.Options())
        event = hooks.all_hooks["client_connected"](tflow.tclient_conn())
        a, boom, b = A(), Boom(), B()
        m.addons.add(a, boom)
        await m.addons.trigger_event(event)
        m.addons.add(b)
        await m.addons.trigger_event(event)
        assert place_before(m.addons, b, "lean_a")
        await m.addons.trigger_event(hooks.RunningHook())   # reorders take effect after running
        await m.addons.trigger_event(event)
        m.addons.remove(a)
        await m.addons.trigger_event(event)
    asyncio.run(go())
    assert calls == ["a", "boom", "a", "boom", "b", "b", "a", "boom", "b", "boom"]
