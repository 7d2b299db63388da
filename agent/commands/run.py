"""`crossingguard run`: the filtering proxy (mitmproxy in-process with all CrossingGuard addons and
only the built-in mitmproxy addons a filter needs: proxy_addons/master.py, docs/operations.md).

    crossingguard run [--listen-host H] [--listen-port P] [--metrics-port M] [-- MITMPROXY_ARGS...]

Policy, roster and devices are loaded (and their errors reported, exit 2) before mitmproxy starts;
the district CA is created under <home>/ca on first run. Arguments after `--` go to mitmproxy
unchanged and after ours, so they can override anything (e.g. `--mode upstream:http://host:port`,
`--set ssl_insecure=true`, `--proxyauth @users.htpasswd`). Runs lean: no per-flow console output.
Options of the left-out mitmproxy addons are refused (exit 1); `mitmdump -s proxy_addons/entry.py`
has them all.
"""
from __future__ import annotations

import argparse

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def register(sub, common) -> None:
    p = sub.add_parser("run", parents=[common], help="start the filtering proxy",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen-host", default=DEFAULT_HOST, metavar="H", help=f"default {DEFAULT_HOST}")
    p.add_argument("--listen-port", type=int, default=DEFAULT_PORT, metavar="P", help=f"default {DEFAULT_PORT}")
    p.add_argument("--metrics-port", type=int, default=None, metavar="M",
                   help="Prometheus /metrics port (0 disables; default: the exporter's default)")
    p.add_argument("mitmproxy_args", nargs=argparse.REMAINDER, metavar="-- MITMPROXY_ARGS",
                   help="passed to mitmproxy unchanged")
    p.set_defaults(func=run)


def mitmproxy_arguments(args, context) -> list[str]:
    """mitmdump command-line arguments: ours first, the user's (after `--`) last so they win.

    mitmproxy refuses two `--set` of one single-valued option ("Received multiple values"), so a
    default of ours is left out when the user sets the same option after `--`."""
    extra = list(args.mitmproxy_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
    defaults = {
        "confdir": str(context.confdir),
        "termlog_verbosity": "warn",   # lean: no per-connection lines (no dumper: no per-flow lines)
        # Lazy: connect to a site only when a request is actually forwarded. A blocked request then
        # never reaches the platform at all (nothing of the student's leaks there, not even a TLS
        # handshake), and the block page shows even when the platform is unreachable. Measured not
        # slower (docs/operations.md). `-- --set connection_strategy=eager` restores mitmproxy's default.
        "connection_strategy": "lazy",
        "crossingguard_home": str(context.home),
        "crossingguard_policy": str(context.policy_path),
        "crossingguard_roster": str(context.roster_path),
    }
    if context.devices_path:
        defaults["crossingguard_devices"] = str(context.devices_path)
    if args.metrics_port is not None:
        defaults["crossingguard_metrics_port"] = str(args.metrics_port)
    user_set = _set_option_names(extra)
    argv = ["--listen-host", args.listen_host, "--listen-port", str(args.listen_port)]
    for name, value in defaults.items():
        if name not in user_set:
            argv += ["--set", f"{name}={value}"]
    return argv + extra


def _set_option_names(argv: list[str]) -> set[str]:
    """Names of the options given with `--set NAME[=VALUE]` or `--set=NAME[=VALUE]`."""
    names = set()
    for i, token in enumerate(argv):
        spec = None
        if token == "--set" and i + 1 < len(argv):
            spec = argv[i + 1]
        elif token.startswith("--set="):
            spec = token[len("--set="):]
        if spec is not None:
            names.add(spec.split("=", 1)[0])
    return names


def banner(args, context, policy, leaf_days: float) -> str:
    ca = context.confdir / "mitmproxy-ca-cert.pem"
    host = args.listen_host
    shown = "<this server's address>" if host in ("0.0.0.0", "::", "") else host
    return "\n".join([
        f"CrossingGuard proxy for {policy.district_name}",
        f"  listening on   {host}:{args.listen_port}   (state in {context.home})",
        f"  district CA    {ca}",
        "                 (also .cer/.p12 there; `crossingguard ca export --out DIR` for MDM)",
        f"  leaf certs     {leaf_days:g} days (notBefore is backdated 2 days for clock skew)",
        "Point a device at the proxy:",
        f"  manual proxy   HTTP and HTTPS proxy {shown}:{args.listen_port}",
        f"  PAC file       function FindProxyForURL(url, host) {{ return \"PROXY {shown}:{args.listen_port}\"; }}",
        "  then install and trust the district CA certificate above on the device.",
        "Stop with Ctrl-C.",
    ])


def run(args) -> int:
    from agent.context import AppContext
    from proxy_addons.bundle import build_addons
    from proxy_addons.certs import ca_names, ensure_ca, shorten_leaf_lifetime
    from proxy_addons.state import load_state

    context = AppContext.from_args(args)
    context.ensure_home()
    state = load_state(context)            # ConfigError -> `crossingguard run: FILE:LINE: KEY: ...`, exit 2
    organization, cn = ca_names(state.policy)
    ensure_ca(context.confdir, organization, cn)
    leaf = shorten_leaf_lifetime()

    addons = build_addons(state)
    argv = mitmproxy_arguments(args, context)
    print(banner(args, context, state.policy, leaf.total_seconds() / 86400), flush=True)
    # Policy, roster and catalog live as long as the process: move them out of the garbage
    # collector's view so full collections do not pause the event loop for milliseconds.
    import gc
    gc.collect()
    gc.freeze()

    from mitmproxy.tools.main import run as mitmproxy_run

    from proxy_addons.master import make_parser, master_class, reject_left_out_options

    # A lean Master: only the built-in addons a filter needs (proxy_addons/master.py); no dumper,
    # so no per-flow console output (it costs 15-20% throughput).
    mitmproxy_run(master_class(addons), make_parser, argv, reject_left_out_options)
    return 0
