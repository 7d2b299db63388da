"""A lean mitmproxy Master for `crossingguard run`: only the built-in addons a filtering proxy uses.

mitmdump's DumpMaster loads about 35 built-in addons (playback, saving flows, map/modify rules,
sticky cookies, the onboarding app, interactive commands...). mitmproxy calls every hook on every
addon in the chain, used or not, and a passed-through tunnel fires about six connection hooks, so
each unused addon costs CPU on every connection (measured: bench/bench_proxy.py, docs/operations.md).

KEPT lists what the proxy needs (each with the reason); LEFT_OUT what it does not. Options of a
left-out addon are refused at start-up with mitmproxy's "Unknown option(s)" error and a hint, never
silently ignored. `mitmdump -s proxy_addons/entry.py` runs the same CrossingGuard addons with the
full mitmproxy set.

The mitmproxy internals this relies on (the manager's class swapped, its chain and hook lookup)
are listed in docs/mitmproxy-internals.md and checked by tests/architecture/test_mitmproxy_internals.py.
"""
from __future__ import annotations

import argparse
import inspect
import logging

from mitmproxy import addonmanager, ctx, exceptions, master
from mitmproxy.addons import (block, core, disable_h2c, dns_resolver, errorcheck, next_layer,
                              proxyauth, proxyserver, script, strip_dns_https_records, tlsconfig,
                              update_alt_svc, upstream_auth)
from mitmproxy.tools import cmdline

logger = logging.getLogger(__name__)

# Built-ins kept, in mitmproxy's own relative order (default_addons() of 12.x: scripts before the
# DNS resolver, so a script's dns_request hook runs before the resolver answers).
KEPT = {
    "core": "option checks and the `set` command",
    "block": "block_global/block_private: refuses clients from public addresses unless proxy auth is on",
    "strip_dns_https_records": "DNS/WireGuard modes: strips ECH keys so the SNI, which the filter reads, stays visible",
    "disable_h2c": "drops h2c upgrade attempts mitmproxy cannot handle",
    "proxyauth": "--proxyauth (htpasswd, LDAP): who the user is",
    "proxyserver": "the listeners, --mode, connection_strategy, body size limits",
    "script": "-s SCRIPT: district-local addons",
    "dns_resolver": "DNS and WireGuard modes",
    "next_layer": "--ignore-hosts/--allow-hosts/--tcp-hosts and layer selection",
    "tlsconfig": "certificates from the district CA, --certs, ssl_insecure, TLS versions",
    "upstream_auth": "--upstream-auth for --mode upstream:URL",
    "update_alt_svc": "reverse mode: rewrites Alt-Svc so clients do not bypass the proxy",
    "termlog": "warnings and errors on the terminal",
    "errorcheck": "a start-up error exits with status 1 instead of serving half-configured",
}

# Built-ins of mitmdump that `crossingguard run` leaves out, with why (docs/operations.md repeats this).
LEFT_OUT = {
    "dumper": "per-flow console output (flow_detail, dumper_filter): costs 15-20% throughput",
    "save": "writing flows to a file (-w/save_stream_file): would store students' traffic",
    "savehar": "HAR export: would store students' traffic",
    "readfile": "reading saved flows (-r/rfile)",
    "keepserving": "exit-after-replay logic (only meaningful with -r or replay)",
    "clientplayback": "client replay (-C)",
    "serverplayback": "server replay (-S)",
    "mapremote": "--map-remote rewriting",
    "maplocal": "--map-local serving local files",
    "modifybody": "--modify-body rewriting",
    "modifyheaders": "--modify-headers rewriting",
    "stickycookie": "--stickycookie (debugging aid)",
    "stickyauth": "--stickyauth (debugging aid)",
    "anticache": "--anticache (debugging aid)",
    "anticomp": "--anticomp (debugging aid)",
    "blocklist": "block_list: blocking belongs in the policy file, where it is logged and explained",
    "onboarding": "the mitm.it certificate app (the district CA goes out by MDM: `crossingguard ca export`)",
    "browser": "starts a local browser (interactive use)",
    "command_history": "interactive console history",
    "comment": "interactive flow commands",
    "cut": "interactive flow commands",
    "export": "interactive flow commands",
}

HINT = ("`crossingguard run` leaves out some of mitmproxy's built-in addons (docs/operations.md); "
        "`mitmdump -s proxy_addons/entry.py` runs CrossingGuard with all of them")


def builtin_addons() -> list:
    return [
        core.Core(),
        block.Block(),
        strip_dns_https_records.StripDnsHttpsRecords(),
        disable_h2c.DisableH2C(),
        proxyauth.ProxyAuth(),
        proxyserver.Proxyserver(),
        script.ScriptLoader(),
        dns_resolver.DnsResolver(),
        next_layer.NextLayer(),
        tlsconfig.TlsConfig(),
        upstream_auth.UpstreamAuth(),
        update_alt_svc.UpdateAltSvc(),
    ]


class CachedDispatch(addonmanager.AddonManager):
    """mitmproxy's AddonManager with each hook's handlers looked up once, not on every event.

    Stock trigger_event walks every addon (and its children) and getattr()s the hook name on each,
    for every event, including the `update` event that follows every flow hook; most addons
    implement none of the connection hooks a tunnel fires. Here the (addon, handler) list of a
    hook is built by mitmproxy's own _iter_hooks on first use and kept until the chain changes:
    add/register/remove/clear, or the `running` event (TunnelDecider reorders the chain then,
    proxy_addons/tunnel.py). Order, safecall() error handling and AddonHalt are as in stock,
    per handler rather than per top-level addon (a failing parent no longer skips its children).
    """

    _handlers: dict | None = None

    def _changed(self) -> None:
        self._handlers = None

    def register(self, addon):
        self._changed()
        try:
            return super().register(addon)
        finally:
            self._changed()

    def add(self, *addons):
        try:
            super().add(*addons)
        finally:
            self._changed()

    def remove(self, addon):
        try:
            super().remove(addon)
        finally:
            self._changed()

    def clear(self):
        try:
            super().clear()
        finally:
            self._changed()

    def _handlers_for(self, event) -> list:
        cache = self._handlers
        if cache is None:
            cache = self._handlers = {}
        found = cache.get(event.name)
        if found is None:
            found = []
            for top in self.chain:
                # as stock: a hook attribute that is not callable is logged as an addon error
                with addonmanager.safecall():
                    found.extend(func for _, func in self._iter_hooks(top, event))
            cache[event.name] = found
        return found

    async def trigger_event(self, event) -> None:
        handlers = self._handlers_for(event)
        if handlers:
            args = event.args()
            for func in handlers:
                try:
                    with addonmanager.safecall():
                        res = func(*args)
                        if res is not None and inspect.isawaitable(res):
                            await res
                except exceptions.AddonHalt:
                    break
        if event.name == "running":
            self._changed()   # addons may have reordered the chain while starting


def master_class(crossingguard_addons: list) -> type:
    """A Master class (mitmproxy's run() instantiates it with the options) with the kept built-ins,
    then the CrossingGuard addons, then errorcheck (as DumpMaster adds it last)."""

    class LeanMaster(master.Master):
        def __init__(self, options, event_loop=None):
            super().__init__(options, event_loop=event_loop, with_termlog=True)
            self.addons.__class__ = CachedDispatch   # same state, cached hook lookup (created in Master)
            self.addons.add(*builtin_addons())
            self.addons.add(*crossingguard_addons)
            self.addons.add(errorcheck.ErrorCheck())

        async def running(self) -> None:
            # Stock mitmdump silently ignores a `--set` it does not know (a script might declare it
            # later). Scripts are loaded by now, so what is still unknown is a typo or an option of a
            # left-out addon: for a filter, failing loudly beats running with a setting ignored.
            # The error makes Master.run's errorcheck exit with status 1.
            unknown = sorted(self.options.deferred)
            if unknown:
                logger.error(f"Unknown option(s): {', '.join(unknown)}. {HINT}.")
            await super().running()

    return LeanMaster


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        super().error(f"{message}\n({HINT}.)")


def make_parser(opts) -> argparse.ArgumentParser:
    """mitmdump's command line without its filter-expression argument (it only fed the dumper and
    flow saving, both left out). Flags of left-out addons are not declared (optmanager.make_parser
    skips options nobody declared), so argparse rejects them."""
    parser = _Parser(prog="crossingguard run ... --", usage="%(prog)s [mitmproxy options]")
    cmdline.common_options(parser, opts)
    parser.set_defaults(filter_args=None)   # mitmproxy's run() reads it when given an `extra` hook
    return parser


def left_out_options() -> dict[str, str]:
    """option name -> the left-out addon declaring it (from the installed mitmproxy, so it follows
    version changes). Only called when some `--set` is unknown: it instantiates the addons."""
    from mitmproxy import addons as builtin
    from mitmproxy.addons import dumper, keepserving, readfile

    found: dict[str, str] = {}

    class _Probe:
        def add_option(self, name, *a, **kw):
            found.setdefault(name, current)

        def add_command(self, *a, **kw):
            pass

    kept = {type(a) for a in builtin_addons()}
    for addon in [*builtin.default_addons(), dumper.Dumper(), keepserving.KeepServing(), readfile.ReadFile()]:
        if type(addon) in kept or not hasattr(addon, "load"):
            continue
        current = type(addon).__module__.rsplit(".", 1)[-1]
        try:
            addon.load(_Probe())
        except Exception:   # a probe only: an addon that needs a real loader just is not listed
            continue
    return found


def reject_left_out_options(_args=None) -> dict:
    """`extra` hook of mitmproxy's run(): runs inside its OptionsError handler, after `--set` is
    parsed and before any listener starts, so `--set anticache=true` fails with mitmproxy's
    "Unknown option(s)" message, naming the addon, and exit status 1."""
    deferred = getattr(ctx.options, "deferred", {})
    if not deferred:
        return {}
    owners = left_out_options()
    bad = sorted(name for name in deferred if name in owners)
    if bad:
        named = ", ".join(f"{n} (mitmproxy's {owners[n]} addon)" for n in bad)
        raise exceptions.OptionsError(f"Unknown option(s): {named}. {HINT}.")
    return {}

