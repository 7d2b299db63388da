"""Serving the review app: the session key, the first admin account, the WSGI server.

Files under `--home` (all 0600, in `home/review/`, a 0700 folder):
- `session.key`: the key that signs session cookies (made once; deleting it signs everyone out);
- `admin-password.txt`: the generated password of the first `admin` account, written only when
  the store has no account at all. Sign in, then make personal accounts with
  `crossingguard accounts add` and disable `admin` (docs/review.md).
"""
from __future__ import annotations

import os
import secrets
import sys
import threading
from pathlib import Path

from agent.review.app import ReviewConfig, ReviewDeps, create_app
from agent.review.auth import generate_password, hash_password

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8181


def review_dir(home: Path) -> Path:
    d = Path(home) / "review"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def _write_private(path: Path, data: bytes) -> None:
    """Create the file 0600 from the start (never briefly readable by others)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def session_key(home: Path) -> bytes:
    path = review_dir(home) / "session.key"
    if path.exists():
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
    key = secrets.token_hex(32).encode()
    _write_private(path, key + b"\n")
    return key


def ensure_admin(store, home: Path) -> Path | None:
    """On first start (no accounts at all), create `admin` with a generated password written to
    a 0600 file; returns that file, or None when accounts already exist."""
    if store.accounts():
        return None
    password = generate_password()
    path = review_dir(home) / "admin-password.txt"
    # Written aside first and moved into place only once the account exists: two processes
    # starting on a fresh home at once must not leave a file with the loser's password.
    pending = path.with_name(f".admin-password.{secrets.token_hex(8)}.tmp")
    _write_private(pending, (password + "\n").encode())
    try:
        store.add_account("admin", "admin", (), hash_password(password), actor="first-run")
    except ValueError:          # another process created it first; its file is the true one
        pending.unlink(missing_ok=True)
        return None
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, path)
    return path


def build(ctx, *, idle_minutes: float = 30.0, secure_cookies: bool = False, oidc=None):
    deps = ReviewDeps(store=ctx.store, policy=ctx.policy, roster=ctx.roster, devices=ctx.devices)
    config = ReviewConfig(idle_minutes=idle_minutes, secure_cookies=secure_cookies,
                          secret_key=session_key(ctx.home), oidc=oidc)
    return create_app(deps, config)


def make_server(app, host: str, port: int):
    """Werkzeug's threaded WSGI server (a handful of staff users; put HAProxy or another TLS
    proxy in front for HTTPS, deploy/)."""
    from werkzeug.serving import make_server as wz_make_server
    return wz_make_server(host, port, app, threaded=True)


def announce(host: str, port: int, password_file: Path | None, out=sys.stdout) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    print(f"CrossingGuard review app on http://{shown}:{port}/", file=out, flush=True)
    if password_file is not None:
        print(f"  first run: account 'admin' created; its password is in {password_file} (0600).",
              file=out, flush=True)


def serve_forever(server, stop: threading.Event | None = None) -> None:
    try:
        server.serve_forever()
    finally:
        server.server_close()
