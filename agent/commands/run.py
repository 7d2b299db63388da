"""`crossingguard run`: the filtering proxy (mitmproxy in-process with all CrossingGuard addons and
only the built-in mitmproxy addons a filter needs: proxy_addons/master.py, docs/operations.md).

    crossingguard run [--listen-host H] [--listen-port P] [--metrics-port M] [--workers N]
                      [--alert-webhook URL ...] [--alert-secret-file FILE] [-- MITMPROXY_ARGS...]

Policy, roster and devices are loaded (and their errors reported, exit 2) before mitmproxy starts;
the district CA is created under <home>/ca on first run. Arguments after `--` go to mitmproxy
unchanged and after ours, so they can override anything (e.g. `--mode upstream:http://host:port`,
`--set ssl_insecure=true`, `--proxyauth @users.htpasswd`). Runs lean: no per-flow console output.
Options of the left-out mitmproxy addons are refused (exit 1); `mitmdump -s proxy_addons/entry.py`
has them all.

`--workers N` (N > 1) starts a supervisor (agent/supervisor.py) and N worker processes that all
serve the one listen port (SO_REUSEPORT, proxy_addons/reuseport.py) and share --home: the CA, the
store, teacher sessions; worker I serves metrics on M+I and writes its own activity chain
(agent/activity/chains.py). SIGHUP reloads the policy in every worker. docs/deploy.md says why.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def register(sub, common) -> None:
    p = sub.add_parser("run", parents=[common], help="start the filtering proxy",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen-host", default=DEFAULT_HOST, metavar="H", help=f"default {DEFAULT_HOST}")
    p.add_argument("--listen-port", type=int, default=DEFAULT_PORT, metavar="P", help=f"default {DEFAULT_PORT}")
    p.add_argument("--metrics-port", type=int, default=None, metavar="M",
                   help="Prometheus /metrics port (0 disables; default: the exporter's default)")
    p.add_argument("--no-review", action="store_true",
                   help="do not start the review app beside the proxy (docs/review.md)")
    p.add_argument("--review-host", default="127.0.0.1", metavar="H", help="review app address (default 127.0.0.1)")
    p.add_argument("--review-port", type=int, default=8181, metavar="P", help="review app port (default 8181)")
    p.add_argument("--review-idle-minutes", type=float, default=None, metavar="N",
                   help="review app: sign a session out after N idle minutes (default 30)")
    p.add_argument("--review-secure-cookies", action="store_true",
                   help="review app: mark the session cookie Secure (staff reach it over HTTPS)")
    p.add_argument("--review-oidc-issuer", metavar="URL", default=None,
                   help="review app: offer sign-in through this OpenID Connect issuer (docs/review.md)")
    p.add_argument("--review-oidc-client-id", metavar="ID", default=None,
                   help="review app: the client id registered with the issuer")
    p.add_argument("--review-oidc-client-secret-file", metavar="FILE", default=None,
                   help="review app: file holding the client secret (content without trailing whitespace)")
    p.add_argument("--alert-webhook", action="append", default=[], metavar="URL",
                   help="POST every critical incident here as signed JSON (repeatable; docs/alerts.md)")
    p.add_argument("--alert-secret-file", default=None, metavar="FILE",
                   help="HMAC-SHA256 secret for --alert-webhook signatures (file content, trailing whitespace cut)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="proxy processes sharing the listen port and --home (default 1); worker I "
                        "serves metrics on M+I")
    p.add_argument("--wireguard", action="store_true",
                   help="serve take-home devices: a WireGuard listener per device with a key "
                        "(crossingguard devices wireguard add; docs/deploy.md)")
    p.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)  # set by the supervisor
    p.add_argument("mitmproxy_args", nargs=argparse.REMAINDER, metavar="-- MITMPROXY_ARGS",
                   help="passed to mitmproxy unchanged")
    p.set_defaults(func=run)
    global _PARSER
    _PARSER = p


_PARSER: argparse.ArgumentParser | None = None


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
    if getattr(args, "wireguard", False):
        defaults["crossingguard_wireguard"] = "true"
    if args.metrics_port is not None:
        defaults["crossingguard_metrics_port"] = str(args.metrics_port)
    if getattr(args, "alert_secret_file", None):
        defaults["crossingguard_alert_secret_file"] = str(Path(args.alert_secret_file).resolve())
    user_set = _set_option_names(extra)
    argv = ["--listen-host", args.listen_host, "--listen-port", str(args.listen_port)]
    for name, value in defaults.items():
        if name not in user_set:
            argv += ["--set", f"{name}={value}"]
    for url in getattr(args, "alert_webhook", None) or ():   # a list option: one --set per value
        argv += ["--set", f"crossingguard_alert_webhooks={url}"]
    return argv + extra


def check_alert_options(args) -> None:
    """Refuse bad alert options before mitmproxy starts (exit 2, one clear line)."""
    from agent.alerts.settings import check_webhook_url, read_secret
    from agent.errors import UsageError
    for url in args.alert_webhook or ():
        problem = check_webhook_url(url)
        if problem:
            raise UsageError(f"--alert-webhook: {problem}")
    if args.alert_webhook and not args.alert_secret_file:
        raise UsageError("--alert-webhook needs --alert-secret-file FILE (the HMAC secret receivers verify)")
    if args.alert_secret_file:
        try:
            read_secret(args.alert_secret_file)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--alert-secret-file: {exc}") from exc


def check_review_options(args) -> None:
    """Refuse bad options of the review child before anything starts (exit 2, one clear line)
    rather than let the child die alone while the proxy runs on without it."""
    from agent.commands.review import oidc_config
    from agent.errors import UsageError
    if args.review_idle_minutes is not None and args.review_idle_minutes <= 0:
        raise UsageError("--review-idle-minutes must be positive")
    oidc_config(args.review_oidc_issuer, args.review_oidc_client_id, args.review_oidc_client_secret_file,
                prefix="--review-")


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
    if args.workers < 1:
        from agent.errors import UsageError
        raise UsageError(f"--workers {args.workers}: expected 1 or more")
    if args.workers > 1 and args.worker_index is None:
        return supervise(args)
    return serve(args)


def serve(args) -> int:
    import signal
    # SIGHUP reloads the policy once the proxy runs (proxy_addons/state.py); until then a reload
    # request (the supervisor fans SIGHUP out) must not kill a worker that is still starting.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    from agent.context import AppContext
    from proxy_addons.bundle import build_addons
    from proxy_addons.certs import ca_names, ensure_ca, shorten_leaf_lifetime
    from proxy_addons.state import load_state

    context = AppContext.from_args(args)
    check_alert_options(args)
    check_review_options(args)
    context.ensure_home()
    state = load_state(context)            # ConfigError -> `crossingguard run: FILE:LINE: KEY: ...`, exit 2
    organization, cn = ca_names(state.policy)
    ensure_ca(context.confdir, organization, cn)
    leaf = shorten_leaf_lifetime()

    addons = build_addons(state, worker=args.worker_index)
    argv = mitmproxy_arguments(args, context)
    if args.worker_index is None:
        print(banner(args, context, state.policy, leaf.total_seconds() / 86400), flush=True)
    else:
        # A worker of `run --workers N`: join the port's SO_REUSEPORT group (the supervisor
        # printed the banner and made the CA and the schema before starting us).
        from proxy_addons import reuseport
        reuseport.enable()
    # Policy, roster and catalog live as long as the process: move them out of the garbage
    # collector's view so full collections do not pause the event loop for milliseconds.
    import gc
    gc.collect()
    gc.freeze()

    from mitmproxy.tools.main import run as mitmproxy_run

    from proxy_addons.master import make_parser, master_class, reject_left_out_options

    # A lean Master: only the built-in addons a filter needs (proxy_addons/master.py); no dumper,
    # so no per-flow console output (it costs 15-20% throughput).
    from agent.review.child import start_review_child, stop_review_child
    review = None if args.no_review else start_review_child(args, context)
    try:
        mitmproxy_run(master_class(addons), make_parser, argv, reject_left_out_options)
    finally:
        stop_review_child(review)
    return 0


# ---------------------------------------------------------------------- --workers N
DEFAULT_METRICS_PORT = 9464   # proxy_addons/metrics.py's default (not imported: no mitmproxy here)


def worker_metrics_port(args, index: int) -> int:
    """Worker I serves /metrics on base+I; 0 keeps metrics off for all."""
    base = DEFAULT_METRICS_PORT if args.metrics_port is None else args.metrics_port
    return 0 if base == 0 else base + index


def worker_argv(args, index: int) -> list[str]:
    """The command line of worker `index`: this invocation's options re-emitted from the parsed
    namespace (so options other commands' authors add to `run` carry over), with --workers 1,
    the worker index and its metrics port."""
    out = ["run"]
    skip = {"workers", "worker_index", "metrics_port", "mitmproxy_args", "help", "func", "command"}
    for action in _PARSER._actions:   # noqa: SLF001 - argparse has no public accessor
        if not action.option_strings or action.dest in skip:
            continue
        value = getattr(args, action.dest, None)
        if value is None or value == action.default or value is argparse.SUPPRESS:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") else action.option_strings[0]
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):   # noqa: SLF001
            out.append(flag)          # differs from its default (checked above): the flag was given
        elif isinstance(action, argparse._AppendAction):   # noqa: SLF001
            for v in value:
                out += [flag, str(v)]
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(str, value)]
        else:
            out += [flag, str(value)]
    out += ["--workers", "1", "--worker-index", str(index), "--metrics-port", str(worker_metrics_port(args, index))]
    if "--no-review" not in out:
        out.append("--no-review")     # the supervisor runs the one review app (docs/review.md)
    extra = list(args.mitmproxy_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
    if extra:
        out += ["--", *extra]
    return [sys.executable, "-m", "agent.cli", *out]


def supervise(args) -> int:
    """Validate once, make the shared state once, then run the workers (agent/supervisor.py)."""
    from agent.context import AppContext
    from agent.errors import UsageError
    from agent.supervisor import Supervisor, port_is_free, worker_environment
    from proxy_addons import reuseport
    from proxy_addons.certs import ca_names, ensure_ca, shorten_leaf_lifetime
    from proxy_addons.state import load_state

    check_alert_options(args)
    check_review_options(args)
    if args.listen_port == 0:
        raise UsageError("--workers N needs a fixed --listen-port (0 would give each worker its own port)")
    if not reuseport.supported():
        raise UsageError("--workers N needs SO_REUSEPORT (Linux): run one process, or HAProxy in front "
                         "(docs/deploy.md)")
    reuseport.check()
    busy = port_is_free(args.listen_host, args.listen_port)
    if busy:
        raise UsageError(f"--listen-port: {busy}")
    context = AppContext.from_args(args)
    context.ensure_home()
    state = load_state(context)            # config errors: exit 2 before any worker starts
    organization, cn = ca_names(state.policy)
    ensure_ca(context.confdir, organization, cn)   # once, here: workers must not race to create it
    # Migrate the schema once here rather than in N workers at the same time (each would wait on
    # the others' migration lock); an unavailable database is fine, the workers spool.
    try:
        context.store.close()
    except Exception as exc:  # noqa: BLE001 - workers report and spool; the supervisor just starts them
        print(f"crossingguard run: store not ready ({exc}); workers will spool", file=sys.stderr)
    leaf = shorten_leaf_lifetime()
    print(banner(args, context, state.policy, leaf.total_seconds() / 86400), flush=True)
    ports = [worker_metrics_port(args, i) for i in range(args.workers)]
    print(f"  workers        {args.workers} processes on port {args.listen_port} (SO_REUSEPORT); "
          f"metrics {'off' if ports[0] == 0 else ', '.join(map(str, ports))}; SIGHUP reloads the policy",
          flush=True)
    sup = Supervisor(lambda i: worker_argv(args, i), args.workers, env=worker_environment(), out=sys.stdout)
    sup.install_signal_handlers()
    from agent.review.child import start_review_child, stop_review_child
    review = None if args.no_review else start_review_child(args, context)   # one, not one per worker
    try:
        return sup.run()
    finally:
        stop_review_child(review)
