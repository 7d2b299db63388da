"""Let several proxy processes listen on one port (SO_REUSEPORT), for `crossingguard run --workers N`.

mitmproxy 11.0.2 binds its TCP listeners itself (`asyncio.start_server(handler, host, port)` in
mitmproxy/proxy/mode_servers.py) and has no option for SO_REUSEPORT, nor a way to hand it a
socket bound elsewhere. A worker process therefore calls `enable()` before mitmproxy starts: the
listeners mitmproxy's TCP server instances create in this process get `reuse_port=True`, and the
kernel spreads new connections over every worker's socket (hash of the 4-tuple; a connection
stays with one worker for its whole life). Nothing else changes in mitmproxy.

Scope of the change, written down because it is a patch: only mode_servers' `asyncio.start_server`,
i.e. `AsyncioServerInstance.listen`
(explicit, regular, transparent, upstream, socks, reverse modes) and only in worker processes;
UDP listeners (mitmproxy_rs) and the WireGuard server are not affected. Linux lets only sockets
of the same effective user join a SO_REUSEPORT group, so another local user cannot steal
connections from the port. `check()` fails loudly if mitmproxy moved the call (a version bump).
"""
from __future__ import annotations

import asyncio
import socket

_ENABLED = False


def supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def check() -> None:
    """Raise RuntimeError when this mitmproxy does not bind the way `enable()` expects."""
    from mitmproxy.proxy import mode_servers
    if not hasattr(mode_servers, "AsyncioServerInstance") or \
            not hasattr(mode_servers.AsyncioServerInstance, "listen"):
        raise RuntimeError("mitmproxy's server instances changed: SO_REUSEPORT workers need review "
                           "(proxy_addons/reuseport.py)")
    if not isinstance(mode_servers.asyncio, _AsyncioWith) and mode_servers.asyncio is not asyncio:
        raise RuntimeError("mitmproxy.proxy.mode_servers no longer binds with asyncio.start_server")


def enable() -> None:
    """Make mitmproxy's TCP listeners in this process join a SO_REUSEPORT group. Idempotent."""
    global _ENABLED
    if _ENABLED:
        return
    if not supported():
        raise RuntimeError("this platform has no SO_REUSEPORT: run one process per port, or HAProxy "
                           "in front (docs/deploy.md)")
    check()
    from mitmproxy.proxy import mode_servers

    real = asyncio.start_server

    async def start_server(*args, **kwargs):
        kwargs.setdefault("reuse_port", True)
        return await real(*args, **kwargs)

    # Only mode_servers' view of asyncio changes (every other attribute is the real module's),
    # and only its one caller of start_server, AsyncioServerInstance.listen, is affected.
    mode_servers.asyncio = _AsyncioWith(start_server)
    _ENABLED = True


class _AsyncioWith:
    """The asyncio module as mode_servers sees it during listen(), with start_server replaced."""

    def __init__(self, start_server):
        self.start_server = start_server

    def __getattr__(self, name):
        return getattr(asyncio, name)
