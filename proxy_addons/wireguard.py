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

Fail choice: a registry that cannot be read keeps the listeners that run (and logs why); a
device's listener that cannot start (port taken) is mitmproxy's error for that mode only, the
other devices and the proxy port keep working.
"""
from __future__ import annotations

import logging
from pathlib import Path

from mitmproxy import ctx

log = logging.getLogger("crossingguard.wireguard")

PREFIX = "wireguard:"


def device_modes(devices) -> list[str]:
    return [f"{PREFIX}{d.conf}@{d.port}" for d in devices]


def merged_modes(current: list[str], wanted: list[str], device_dir: Path) -> list[str]:
    """The command line's modes with our device listeners replaced by `wanted`."""
    ours = f"{PREFIX}{device_dir}/"
    kept = [m for m in current if not m.startswith(ours)]
    return kept + wanted


class WireGuardDevices:
    name = "crossingguard_wireguard"

    def __init__(self, core, primary: bool = True) -> None:
        self.core = core
        self.primary = primary        # only one process binds the UDP ports (run --workers N)
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
        if not self.primary or not ctx.options.crossingguard_wireguard:
            return
        reg = self._registry()
        try:
            devices = reg.devices()
        except Exception as exc:  # noqa: BLE001 - keep what runs (module doc)
            log.error("crossingguard: WireGuard registry unreadable, keeping the running listeners: %s", exc)
            return
        devices = [d for d in devices if d.conf.exists()]
        before = set(self.by_conf)
        self.by_conf = {str(d.conf): d for d in devices}
        self.revoked |= before - set(self.by_conf)
        self.revoked -= set(self.by_conf)
        modes = merged_modes(list(ctx.options.mode), device_modes(devices), reg.directory / "devices")
        if modes != list(ctx.options.mode):
            ctx.options.update(mode=modes)
            log.warning("crossingguard: WireGuard listeners for %d devices", len(devices))

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
