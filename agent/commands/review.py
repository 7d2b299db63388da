"""`crossingguard review [--listen-host 127.0.0.1] [--listen-port 8181]`: the counselors' review
app (agent/review, docs/review.md). On first start it creates the `admin` account and says where
its generated password is."""
from __future__ import annotations

import argparse


def register(sub, common) -> None:
    from agent.review.server import DEFAULT_HOST, DEFAULT_PORT
    p = sub.add_parser("review", parents=[common], help="serve the review web app",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen-host", default=DEFAULT_HOST, metavar="H", help=f"default {DEFAULT_HOST}")
    p.add_argument("--listen-port", type=int, default=DEFAULT_PORT, metavar="P", help=f"default {DEFAULT_PORT}")
    p.add_argument("--idle-minutes", type=float, default=30.0, metavar="N",
                   help="sign a session out after N idle minutes (default 30)")
    p.add_argument("--secure-cookies", action="store_true",
                   help="mark the session cookie Secure (when staff reach the app over HTTPS)")
    p.add_argument("--oidc-issuer", metavar="URL", default=None,
                   help="offer sign-in through this OpenID Connect issuer (e.g. https://accounts.google.com)")
    p.add_argument("--oidc-client-id", metavar="ID", default=None, help="the client id registered with the issuer")
    p.add_argument("--oidc-client-secret-file", metavar="FILE", default=None,
                   help="file holding the client secret (content without trailing whitespace)")
    p.set_defaults(func=run)


def oidc_config(issuer: str | None, client_id: str | None, secret_file: str | None, prefix: str = "--"):
    """The OIDC settings from the command line, or None without an issuer; a bad combination is a
    UsageError naming the option (with `prefix`, so `run --review-oidc-...` names its own flags)."""
    from pathlib import Path

    from agent.errors import UsageError
    if not issuer:
        if client_id or secret_file:
            raise UsageError(f"{prefix}oidc-client-id and {prefix}oidc-client-secret-file need {prefix}oidc-issuer")
        return None
    from agent.review.oidc import OIDCConfig
    if not (client_id and secret_file):
        raise UsageError(f"{prefix}oidc-issuer needs {prefix}oidc-client-id and {prefix}oidc-client-secret-file")
    if not issuer.startswith(("https://", "http://127.", "http://localhost")):
        raise UsageError(f"{prefix}oidc-issuer must be an https:// URL")
    try:
        secret = Path(secret_file).read_text().rstrip()
    except OSError as exc:
        raise UsageError(f"{prefix}oidc-client-secret-file {secret_file}: {exc.strerror}") from exc
    if not secret:
        raise UsageError(f"{prefix}oidc-client-secret-file {secret_file}: the file is empty")
    return OIDCConfig(issuer, client_id, secret)


def run(args) -> int:
    from agent.context import AppContext
    from agent.errors import UsageError
    from agent.review.server import announce, build, ensure_admin, make_server, serve_forever

    if args.idle_minutes <= 0:
        raise UsageError("--idle-minutes must be positive")
    ctx = AppContext.from_args(args)
    ctx.ensure_home()
    oidc = oidc_config(args.oidc_issuer, args.oidc_client_id, args.oidc_client_secret_file)
    app = build(ctx, idle_minutes=args.idle_minutes, secure_cookies=args.secure_cookies, oidc=oidc)
    password_file = ensure_admin(ctx.store, ctx.home)
    try:
        server = make_server(app, args.listen_host, args.listen_port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.listen_host}:{args.listen_port}: {exc.strerror or exc}") from exc
    announce(args.listen_host, server.server_port, password_file)
    try:
        serve_forever(server)
    except KeyboardInterrupt:
        pass
    return 0
