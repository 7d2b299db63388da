"""Take-home devices over WireGuard: one key pair per device, and the key says which device.

Layout under `--home/wireguard/` (directory 0700, every file 0600: private keys):

    server.key               the server's X25519 private key (base64, like `wg genkey`)
    registry.json            {"devices": {DEVICE_ID: {"user", "port", "address", "public_key", "added"}}}
    devices/DEVICE_ID.json   {"server_key", "client_key"}: mitmproxy's WireGuard configuration
                             file format, one per device (the proxy runs `--mode wireguard:FILE@PORT`)

Why one listener per device: mitmproxy 11.0.2 gives its WireGuard server ONE client key per server
instance. mitmproxy_rs 0.10.7 underneath would take several, but a connection does not say which
key it came through, and the stack does not tie a tunnel's inner source address to the peer that
sent it (it learns addresses from packets: no AllowedIPs), so any enrolled peer could claim
another's tunnel address. A listener per device makes the key the identity for real: only that
device's key completes a handshake on that UDP port, so a flow arriving through it is that
device's, whatever address it claims inside the tunnel. The cost, measured
(bench/bench_wireguard_listeners.py): about 73 KiB and one descriptor per listener, no idle CPU;
docs/deploy.md has the figures and the kernel-WireGuard alternative for large fleets.

Pure core: keys with `cryptography` (X25519), files, the client configuration text. The proxy side
(which modes to run, which device a connection came through) is proxy_addons/wireguard.py.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from agent.errors import UsageError

DEFAULT_PORT = 51820
TUNNEL_NET = ipaddress.ip_network("10.64.0.0/16")
TUNNEL_DNS = "10.0.0.53"       # mitmproxy's WireGuard mode answers DNS on this address in the tunnel
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class TunnelDevice:
    device_id: str
    user: str
    port: int
    address: str
    public_key: str
    conf: Path


def genkey() -> str:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    raw = X25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def pubkey(private_key: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    raw = base64.b64decode(private_key, validate=True)
    if len(raw) != 32:
        raise ValueError("a WireGuard key is 32 bytes")
    pub = X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(pub).decode()


def _write_private(path: Path, data: bytes) -> None:
    """Create-or-replace with mode 0600 from the first byte (never briefly world-readable)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class WireGuardRegistry:
    def __init__(self, home: Path):
        self.directory = Path(home) / "wireguard"

    # ------------------------------------------------------------------ reading (proxy side)
    @property
    def registry_path(self) -> Path:
        return self.directory / "registry.json"

    def _load(self) -> dict:
        try:
            data = json.loads(self.registry_path.read_text())
        except FileNotFoundError:
            return {"devices": {}}
        except ValueError as exc:
            raise UsageError(f"{self.registry_path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
            raise UsageError(f"{self.registry_path}: expected {{\"devices\": {{...}}}}")
        return data

    def devices(self) -> list[TunnelDevice]:
        out = []
        for device_id, d in sorted(self._load()["devices"].items()):
            out.append(TunnelDevice(device_id, d["user"], int(d["port"]), d["address"], d["public_key"],
                                    self.conf_path(device_id)))
        return out

    def conf_path(self, device_id: str) -> Path:
        return self.directory / "devices" / f"{device_id}.json"

    def server_public_key(self) -> str:
        return pubkey(self._server_key())

    # ------------------------------------------------------------------ writing (CLI side)
    def _ensure_dirs(self) -> None:
        for d in (self.directory, self.directory / "devices"):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700)

    def _server_key(self, create: bool = False) -> str:
        path = self.directory / "server.key"
        if not path.exists():
            if not create:
                raise UsageError(f"{path}: no WireGuard server key yet (add a device first)")
            self._ensure_dirs()
            _write_private(path, (genkey() + "\n").encode())
        return path.read_text().strip()

    def add(self, device_id: str, user: str, base_port: int = DEFAULT_PORT) -> TunnelDevice:
        if not DEVICE_ID_RE.match(device_id):
            raise UsageError(f"device id {device_id!r}: letters, digits, '.', '_' and '-' only (max 64)")
        if not 1 <= base_port <= 65535:
            raise UsageError(f"--port {base_port}: not a UDP port")
        self._ensure_dirs()
        server_key = self._server_key(create=True)
        data = self._load()
        devices = data["devices"]
        if device_id in devices:
            raise UsageError(f"device {device_id} already has a WireGuard key (revoke it first to issue a new one)")
        used_ports = {int(d["port"]) for d in devices.values()}
        used_addrs = {d["address"] for d in devices.values()}
        port = next(p for p in range(base_port, 65536) if p not in used_ports)
        hosts = TUNNEL_NET.hosts()
        next(hosts)                                   # .1 stays free for a gateway
        address = next(str(a) for a in hosts if str(a) not in used_addrs)
        client_key = genkey()
        _write_private(self.conf_path(device_id),
                       json.dumps({"server_key": server_key, "client_key": client_key}, indent=2).encode())
        devices[device_id] = {"user": user, "port": port, "address": address, "public_key": pubkey(client_key),
                              "added": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        _write_private(self.registry_path, json.dumps(data, indent=2, sort_keys=True).encode())
        return self.devices_by_id()[device_id]

    def revoke(self, device_id: str) -> TunnelDevice:
        data = self._load()
        if device_id not in data["devices"]:
            raise UsageError(f"device {device_id} has no WireGuard key")
        gone = self.devices_by_id()[device_id]
        del data["devices"][device_id]
        _write_private(self.registry_path, json.dumps(data, indent=2, sort_keys=True).encode())
        self.conf_path(device_id).unlink(missing_ok=True)   # the listener cannot start again
        return gone

    def devices_by_id(self) -> dict[str, TunnelDevice]:
        return {d.device_id: d for d in self.devices()}

    def client_config(self, device_id: str, endpoint_host: str) -> str:
        """wg-quick configuration for the device: ALL traffic through the tunnel (fail closed:
        with the tunnel down the device has no other route, docs/deploy.md)."""
        dev = self.devices_by_id().get(device_id)
        if dev is None:
            raise UsageError(f"device {device_id} has no WireGuard key")
        client_key = json.loads(dev.conf.read_text())["client_key"]
        host = f"[{endpoint_host}]" if ":" in endpoint_host else endpoint_host
        return "\n".join([
            "[Interface]",
            f"PrivateKey = {client_key}",
            f"Address = {dev.address}/32",
            f"DNS = {TUNNEL_DNS}",
            "",
            "[Peer]",
            f"PublicKey = {self.server_public_key()}",
            "AllowedIPs = 0.0.0.0/0, ::/0",
            f"Endpoint = {host}:{dev.port}",
            "PersistentKeepalive = 25",
            "",
        ])


def write_qr_png(text: str, path: Path) -> None:
    """The client configuration as a QR code (the WireGuard apps on iPadOS and Android scan it)."""
    import qrcode
    from qrcode.image.pure import PyPNGImage

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    img = qr.make_image(image_factory=PyPNGImage)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)   # it holds the private key
    with os.fdopen(fd, "wb") as fh:
        img.save(fh)
