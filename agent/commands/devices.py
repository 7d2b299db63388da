"""`crossingguard devices wireguard ...`: keys for take-home devices (agent/wireguard.py).

    crossingguard devices wireguard add DEVICE_ID --endpoint HOST [--user USER_ID] [--port BASE] [--out DIR]
    crossingguard devices wireguard revoke DEVICE_ID
    crossingguard devices wireguard list

`add` issues the device's key pair, gives it its own UDP port (BASE and up, default 51820) and
tunnel address, and writes the client configuration `DEVICE_ID.conf` and its QR code
`DEVICE_ID.png` (both hold the device's private key: 0600) to --out (default
<home>/wireguard/clients). The device must be in the device registry (--devices), which names its
student, or --user names the student. The proxy picks new and revoked devices up on start or
SIGHUP (`crossingguard run --wireguard`). One JSON line per device on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def register(sub, common) -> None:
    from agent.cli import nested_common
    leaf = nested_common(common)
    p = sub.add_parser("devices", parents=[common], help="take-home devices: WireGuard keys",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = p.add_subparsers(dest="devices_kind", metavar="KIND")
    kinds.required = True
    wg = kinds.add_parser("wireguard", parents=[leaf], help="per-device WireGuard keys")
    actions = wg.add_subparsers(dest="wg_action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", parents=[leaf], help="issue a key pair and client configuration")
    add.add_argument("device_id", metavar="DEVICE_ID")
    add.add_argument("--endpoint", required=True, metavar="HOST",
                     help="the address devices reach the proxy's WireGuard ports at (public name or IP)")
    add.add_argument("--user", metavar="USER_ID", help="the student (default: the device registry's entry)")
    add.add_argument("--port", type=int, default=None, metavar="BASE", help="first UDP port (default 51820)")
    add.add_argument("--out", metavar="DIR", help="where the .conf and .png go (default <home>/wireguard/clients)")
    rev = actions.add_parser("revoke", parents=[leaf], help="remove a device's key: its tunnel stops working")
    rev.add_argument("device_id", metavar="DEVICE_ID")
    actions.add_parser("list", parents=[leaf], help="devices with a key (no keys printed)")
    p.set_defaults(func=run)


def _owner(context, device_id: str, user: str | None) -> str:
    from agent.errors import UsageError
    registered = {d: u for d, u, _, _ in context.devices.entries()}
    owner = user or registered.get(device_id)
    if owner is None:
        raise UsageError(f"device {device_id} is not in the device registry "
                         f"({context.devices_path or 'none given'}); give --user USER_ID")
    if user and device_id in registered and registered[device_id] != user:
        raise UsageError(f"device {device_id} belongs to {registered[device_id]} in the device registry, not {user}")
    if context.roster.get(owner) is None:
        raise UsageError(f"user {owner} is not in the roster ({context.roster_path})")
    return owner


def run(args) -> int:
    from agent.context import AppContext
    from agent.wireguard import DEFAULT_PORT, WireGuardRegistry, write_qr_png

    context = AppContext.from_args(args)
    context.ensure_home()
    reg = WireGuardRegistry(context.home)
    if args.wg_action == "add":
        owner = _owner(context, args.device_id, args.user)
        dev = reg.add(args.device_id, owner, args.port or DEFAULT_PORT)
        out = Path(args.out) if args.out else reg.directory / "clients"
        out.mkdir(parents=True, exist_ok=True)
        os.chmod(out, 0o700)
        text = reg.client_config(dev.device_id, args.endpoint)
        conf = out / f"{dev.device_id}.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        png = out / f"{dev.device_id}.png"
        write_qr_png(text, png)
        print(json.dumps({"device": dev.device_id, "user": dev.user, "port": dev.port, "address": dev.address,
                          "public_key": dev.public_key, "config": str(conf), "qr": str(png)}))
        return 0
    if args.wg_action == "revoke":
        gone = reg.revoke(args.device_id)
        context.store.audit("cli", "wireguard.revoke", gone.device_id, {"user": gone.user, "port": gone.port})
        print(json.dumps({"revoked": gone.device_id, "user": gone.user, "port": gone.port}))
        return 0
    for dev in reg.devices():
        print(json.dumps({"device": dev.device_id, "user": dev.user, "port": dev.port, "address": dev.address,
                          "public_key": dev.public_key}))
    return 0
