"""WireGuard for take-home devices: one mitmproxy WireGuard listener per enrolled device.

Options:
  crossingguard_wireguard   run a WireGuard listener for every device with a key
                            (`crossingguard devices wireguard add`; agent/wireguard.py says why one
                            listener per device). `crossingguard run --wireguard` sets it.

At `running` and after every SIGHUP reload the wanted modes are computed from
<home>/wireguard/registry.json and merged into mitmproxy's `mode` option (the modes given on the
command line stay): `wireguard:<home>/wireguard/devices/DEVICE.json@PORT`. mitmproxy starts the
new listeners and stops those of revoked devices. `device_for(client_conn)` tells the identity
addon which device's listener a connection came through.

Under `run --workers N` the listeners are shared out: worker I runs the listeners of the devices
with `owner(device_id, N) == I` (a CRC32 of the device id, so every worker computes the same split
from the same registry, and a restarted worker takes back exactly its own). A listener is one UDP
port that mitmproxy_rs binds without SO_REUSEPORT, so exactly one process may hold it; sharing them
out spreads the take-home devices' traffic over the workers' cores instead of putting all of it on
worker 0, and a worker that dies takes only its share of tunnels down (they come back with it).
The supervisor tells each worker N through CROSSINGGUARD_WORKER_COUNT (agent/supervisor.py).

Fail choice: a registry that cannot be read keeps the listeners that run (and logs why); a
device's listener that cannot start (port taken) is mitmproxy's error for that mode only, the
other devices and the proxy port keep working.
"""
from __future__ import annotations

import logging
import zlib
from pathlib import Path

from mitmproxy import ctx

log = logging.getLogger("crossingguard.wireguard")

PREFIX = "wireguard:"


def owner(device_id: str, workers: int) -> int:
    """The worker (0..workers-1) that runs `device_id`'s listener: stable across processes and
    restarts (CRC32, not Python's salted hash)."""
    return zlib.crc32(device_id.encode()) % max(1, workers)


def device_modes(devices) -> list[str]:
    return [f"{PREFIX}{d.conf}@{d.port}" for d in devices]


def merged_modes(current: list[str], wanted: list[str], device_dir: Path) -> list[str]:
    """The command line's modes with our device listeners replaced by `wanted`."""
    ours = f"{PREFIX}{device_dir}/"
    kept = [m for m in current if not m.startswith(ours)]
    return kept + wanted


class WireGuardDevices:
    name = "crossingguard_wireguard"

    def __init__(self, core, worker: int = 0, workers: int = 1) -> None:
        self.core = core
        # run --workers N: this process runs the listeners of its share of the devices (module doc)
        self.worker, self.workers = worker, max(1, workers)
        self.by_conf: dict[str, object] = {}
        self.revoked: set[str] = set()
        core.reload_hooks.append(self.sync)

    def load(self, loader) -> None:
        loader.add_option("crossingguard_wireguard", bool, False,
                          "Run a WireGuard listener per take-home device with a key "
                          "(crossingguard devices wireguard add).")

    def running(self) -> None:
        self.sync()

    def _registry(self):
        from agent.wireguard import WireGuardRegistry
        return WireGuardRegistry(self.core.require().home)

    def sync(self) -> None:
        if not ctx.options.crossingguard_wireguard:
            return
        reg = self._registry()
        try:
            devices = reg.devices()
        except Exception as exc:  # noqa: BLE001 - keep what runs (module doc)
            log.error("crossingguard: WireGuard registry unreadable, keeping the running listeners: %s", exc)
            return
        devices = [d for d in devices if d.conf.exists() and owner(d.device_id, self.workers) == self.worker]
        before = set(self.by_conf)
        self.by_conf = {str(d.conf): d for d in devices}
        self.revoked |= before - set(self.by_conf)
        self.revoked -= set(self.by_conf)
        modes = merged_modes(list(ctx.options.mode), device_modes(devices), reg.directory / "devices")
        if modes != list(ctx.options.mode):
            ctx.options.update(mode=modes)
            share = f" (worker {self.worker} of {self.workers})" if self.workers > 1 else ""
            log.warning("crossingguard: WireGuard listeners for %d devices%s", len(devices), share)

    def device_for(self, client_conn):
        """The TunnelDevice whose listener this connection came through; False for a revoked
        device's listener; None when it did not come through one of ours."""
        mode = getattr(client_conn, "proxy_mode", None)
        data = getattr(mode, "data", None)
        if not data or getattr(mode, "type_name", "") != "wireguard":
            return None
        hit = self.by_conf.get(data)
        if hit is not None:
            return hit
        return False if data in self.revoked else None
