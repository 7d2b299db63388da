"""SIGHUP reload (Core.reload) and the SO_REUSEPORT hook workers use (proxy_addons/reuseport.py)."""
from __future__ import annotations

import asyncio
import socket

import pytest

from agent.context import DEFAULT_POLICY, AppContext
from proxy_addons import reuseport
from proxy_addons.state import Core, load_state


def test_reload_swaps_state_runs_hooks_and_keeps_the_old_state_on_bad_input(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(DEFAULT_POLICY.read_text())
    core = Core(load_state(AppContext(tmp_path / "home", policy, None, None)))
    calls = []
    core.reload_hooks.append(lambda: calls.append(core.generation))
    first = core.state
    policy.write_text(DEFAULT_POLICY.read_text() + "\n# edited\n")
    assert core.reload() is True
    assert core.state is not first and core.state.policy.digest != first.policy.digest
    assert core.generation == 1 and calls == [1]
    good = core.state
    policy.write_text("district: [this is not a policy\n")
    assert core.reload() is False
    assert core.state is good and core.generation == 1 and calls == [1] and core.reload_errors == 1


def test_reuseport_check_passes_on_this_mitmproxy():
    reuseport.check()     # fails loudly after a mitmproxy upgrade that binds differently
    assert reuseport.supported()


def test_two_listeners_share_a_port_after_enable():
    """What a worker does: mitmproxy's listen() twice on one port (two workers), no EADDRINUSE."""
    from mitmproxy.proxy import mode_servers
    reuseport.enable()
    reuseport.enable()       # idempotent

    async def main():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]

        async def handler(reader, writer):
            writer.close()
        servers = []
        for _ in range(2):   # what AsyncioServerInstance.listen does, through mode_servers' asyncio
            servers.append(await mode_servers.asyncio.start_server(handler, "127.0.0.1", port))
        try:
            socks = [s.sockets[0] for s in servers]
            assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in socks)
            assert {s.getsockname()[1] for s in socks} == {port}
        finally:
            for s in servers:
                s.close()
    asyncio.run(main())
    # Without the hook the second bind fails: the test above is not passing by accident.
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        a.listen()
        with pytest.raises(OSError):
            b.bind(a.getsockname())
