"""Take-home devices over WireGuard.

Below the tunnel: keys, files and modes, the client configuration and its QR code, and the
key-to-identity path of the identity addon. Through a real tunnel: Debian's `wireguard-go`
(userspace) inside a network namespace sends HTTPS through the tunnel to a local origin, and
the proxy judges it as the device's student -- even when the device claims ANOTHER device's
tunnel address, because the listener the key opened decides, not the address.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.cli import main
from agent.wireguard import WireGuardRegistry, pubkey
from tests.support import make_pki, write_devices, write_test_roster


@pytest.fixture
def district(tmp_path):
    roster = write_test_roster(tmp_path / "roster")
    devices = write_devices(tmp_path / "devices.csv", [
        ("tab-young", roster.young, "", "02:00:00:00:00:11"), ("tab-teacher", roster.teacher, "", "02:00:00:00:00:13")])
    return tmp_path, roster, devices


def cli(capsys, *argv) -> tuple[int, list[dict], str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, [json.loads(x) for x in out.splitlines() if x.strip()], err


def add(capsys, district, device, *extra):
    base, roster, devices = district
    return cli(capsys, "devices", "wireguard", "add", device, "--home", str(base / "home"), "--roster",
               str(roster.directory), "--devices", str(devices), "--endpoint", "vpn.example.org", *extra)


def test_add_issues_keys_config_and_qr_private_to_the_service(district, capsys):
    base, roster, _ = district
    rc, [out], err = add(capsys, district, "tab-young")
    assert rc == 0, err
    assert out["user"] == roster.young and out["port"] == 51820 and out["address"] == "10.64.0.2"
    reg = WireGuardRegistry(base / "home")
    for p in [reg.directory / "server.key", reg.registry_path, reg.conf_path("tab-young"),
              Path(out["config"]), Path(out["qr"])]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE(reg.directory.stat().st_mode) == 0o700
    conf = json.loads(reg.conf_path("tab-young").read_text())   # mitmproxy's format
    assert pubkey(conf["client_key"]) == out["public_key"]
    import mitmproxy_rs   # the server side derives the same public keys from our private keys
    assert mitmproxy_rs.wireguard.pubkey(conf["client_key"]) == out["public_key"]
    text = Path(out["config"]).read_text()
    assert f"PrivateKey = {conf['client_key']}" in text
    assert f"PublicKey = {pubkey(conf['server_key'])}" in text
    assert "AllowedIPs = 0.0.0.0/0, ::/0" in text          # everything through the tunnel: fail closed
    assert "Endpoint = vpn.example.org:51820" in text and "Address = 10.64.0.2/32" in text
    # The PNG is a QR code of exactly this configuration (module grid compared with qrcode's).
    import qrcode
    from PIL import Image
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    img = Image.open(out["qr"]).convert("L")
    assert img.size == (len(matrix) * 6, len(matrix) * 6)
    grid = [[img.getpixel((x * 6 + 3, y * 6 + 3)) < 128 for x in range(len(matrix))] for y in range(len(matrix))]
    assert grid == matrix

    rc, [second], _ = add(capsys, district, "tab-teacher")
    assert (second["port"], second["address"]) == (51821, "10.64.0.3")
    assert second["public_key"] != out["public_key"]


def test_unknown_device_needs_a_user_and_a_device_is_keyed_once(district, capsys):
    rc, _, err = add(capsys, district, "tab-nobody")
    assert rc != 0 and "not in the device registry" in err and "--user" in err
    assert add(capsys, district, "tab-young")[0] == 0
    rc, _, err = add(capsys, district, "tab-young")
    assert rc != 0 and "already has a WireGuard key" in err
    base, roster, _ = district
    rc, _, err = add(capsys, district, "tab-teacher", "--user", roster.young)
    assert rc != 0 and "belongs to" in err


def test_revoke_removes_the_key_and_is_audited(district, capsys):
    base, roster, devices = district
    assert add(capsys, district, "tab-young")[0] == 0
    reg = WireGuardRegistry(base / "home")
    rc, [out], _ = cli(capsys, "devices", "wireguard", "revoke", "tab-young", "--home", str(base / "home"),
                       "--roster", str(roster.directory), "--devices", str(devices))
    assert rc == 0 and out["revoked"] == "tab-young"
    assert not reg.conf_path("tab-young").exists() and reg.devices() == []
    from agent.store import open_store
    with open_store(None, base / "home") as store:
        assert [e["target"] for e in store.audit_entries() if e["action"] == "wireguard.revoke"] == ["tab-young"]


# ------------------------------------------------------------------ key -> identity (no tunnel)

def test_identity_comes_from_the_listener_the_key_opened(district, capsys):
    from mitmproxy.proxy.mode_specs import ProxyMode

    from agent.context import AppContext
    from proxy_addons.identity import IdentityAddon
    from proxy_addons.state import Core, load_state
    from proxy_addons.wireguard import WireGuardDevices, merged_modes

    base, roster, devices = district
    for d in ("tab-young", "tab-teacher"):
        assert add(capsys, district, d)[0] == 0
    core = Core(load_state(AppContext(base / "home", None, roster.directory, devices)))
    wg = WireGuardDevices(core)
    reg = WireGuardRegistry(base / "home")
    wg.by_conf = {str(d.conf): d for d in reg.devices()}
    identity = IdentityAddon(core, wg)

    def conn(mode: str, ip: str = "10.64.0.3"):
        return SimpleNamespace(proxy_mode=ProxyMode.parse(mode), peername=(ip, 40000))

    young = reg.devices_by_id()["tab-young"]
    # The young device's listener, whatever tunnel address the packets claim (the teacher's here).
    ident = identity._tunnel_identity(core.state, conn(f"wireguard:{young.conf}@{young.port}", "10.64.0.3"))
    assert (ident.user_id, ident.source, ident.device) == (roster.young, "device", "tab-young")
    assert identity._tunnel_identity(core.state, conn("regular")) is None
    wg.revoked.add(str(young.conf))
    del wg.by_conf[str(young.conf)]
    ident = identity._tunnel_identity(core.state, conn(f"wireguard:{young.conf}@{young.port}"))
    assert ident.user_id == "unknown"

    modes = merged_modes(["regular", f"wireguard:{young.conf}@51820"], [f"wireguard:{reg.directory}/devices/x.json@1"],
                         reg.directory / "devices")
    assert modes == ["regular", f"wireguard:{reg.directory}/devices/x.json@1"]


# ------------------------------------------------------------------ a real tunnel

def _tunnel_unavailable() -> str | None:
    from tests.support.netns import netns_unavailable
    why = netns_unavailable()
    if why:
        return why
    for tool in ("wireguard-go", "wg", "curl"):
        if shutil.which(tool) is None:
            return f"`{tool}` not installed (Debian: wireguard-go, wireguard-tools, curl; .ci/run installs them)"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing: wireguard-go cannot create its interface"
    return None


@pytest.mark.e2e
@pytest.mark.parametrize("workers", [1, 2])
def test_https_through_a_real_wireguard_tunnel_is_judged_as_the_devices_student(tmp_path, workers):
    """With `--workers 2` the two tablets' listeners belong to different workers (owner() by
    device id: tab-young -> worker 0, tab-teacher -> worker 1) and the tunnel still works."""
    why = _tunnel_unavailable()
    if why:
        pytest.skip(f"real WireGuard client unavailable: {why}")
    from tests.support.netns import DISTRICT_DNS, GW_STUDENT_IP, OUTSIDE_DNS, REPO, SITE_IP, Topology

    pki = make_pki(tmp_path / "pki", hosts=("instagram.com", "example.org"))
    roster = write_test_roster(tmp_path / "roster")
    devices = write_devices(tmp_path / "devices.csv", [
        ("tab-young", roster.young, "", "02:00:00:00:00:11"), ("tab-teacher", roster.teacher, "", "02:00:00:00:00:13")])
    home = tmp_path / "home"
    common = ["--home", str(home), "--roster", str(roster.directory), "--devices", str(devices)]
    outs = {}
    for d in ("tab-young", "tab-teacher"):
        r = subprocess.run([sys.executable, "-m", "agent.cli", "devices", "wireguard", "add", d, *common,
                            "--endpoint", GW_STUDENT_IP], capture_output=True, text=True, cwd=REPO, timeout=60)
        assert r.returncode == 0, r.stderr
        outs[d] = json.loads(r.stdout)
    young, teacher = outs["tab-young"], outs["tab-teacher"]
    events = tmp_path / "outside.jsonl"
    iface = f"cgwg{os.urandom(3).hex()}"
    with Topology() as topo:
        inet = topo.spawn(topo.net, [sys.executable, "-m", "tests.support.netinet", "--cert", str(pki.leaf_cert),
                                     "--key", str(pki.leaf_key), "--log", str(events), "--dns", OUTSIDE_DNS,
                                     "--dns", DISTRICT_DNS, "--answer", SITE_IP],
                          cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert inet.stdout.readline().strip() == "READY"
        log = open(tmp_path / "proxy.log", "w")
        proxy = topo.spawn(topo.gw, [sys.executable, "-m", "agent.cli", "run", *common, "--listen-host", "0.0.0.0",
                             "--listen-port", "8080", "--metrics-port", "0", "--wireguard", "--workers", str(workers),
                             "--", "--set", "ssl_insecure=true"],
                   cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def holder(port: int) -> str:
            """`pid=N` of the process holding UDP `port` in the gateway namespace, or ''."""
            out = topo.run(topo.gw, "ss", "-lunpH", f"sport = :{port}", check=False).stdout
            return next((w.split(",")[0] for w in out.replace("(", ",").split(",") if w.startswith("pid=")), "")
        deadline = time.monotonic() + 90
        while not (holder(young["port"]) and holder(teacher["port"])):
            if time.monotonic() > deadline:
                pytest.fail("no WireGuard listener:\n" + (tmp_path / "proxy.log").read_text())
            time.sleep(0.3)
        if workers == 2:      # shared out: one listener in each worker, neither in the supervisor
            assert holder(young["port"]) != holder(teacher["port"])
            assert f"pid={proxy.pid}" not in (holder(young["port"]), holder(teacher["port"]))
        # The device: wireguard-go in the client namespace with the young tablet's configuration,
        # but claiming the TEACHER tablet's tunnel address.
        wg = topo.spawn(topo.client, ["wireguard-go", "-f", iface], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, env={**os.environ, "WG_PROCESS_FOREGROUND": "1"})
        try:
            deadline = time.monotonic() + 20
            while topo.run(topo.client, "ip", "link", "show", iface, check=False).returncode != 0:
                assert wg.poll() is None and time.monotonic() < deadline, "wireguard-go did not create its interface"
                time.sleep(0.1)
            wgconf = tmp_path / "wg-setconf.conf"
            wgconf.write_text("\n".join(ln for ln in Path(young["config"]).read_text().splitlines()
                                        if not ln.startswith(("Address", "DNS"))))
            topo.run(topo.client, "wg", "setconf", iface, str(wgconf))
            topo.run(topo.client, "ip", "addr", "add", f"{teacher['address']}/32", "dev", iface)
            topo.run(topo.client, "ip", "link", "set", iface, "up")
            topo.run(topo.client, "ip", "route", "add", f"{SITE_IP}/32", "dev", iface)

            def curl(url: str, cacert: Path):
                host = url.split("/")[2]
                r = topo.run(topo.client, "curl", "-sS", "--noproxy", "*", "--max-time", "20",
                             "--resolve", f"{host}:443:{SITE_IP}", "--cacert", str(cacert),
                             "-H", "Accept: application/json", "-w", "\n%{http_code}", url, check=False, timeout=40)
                body, _, code = r.stdout.rpartition("\n")
                return int(code or 0), body, r.stderr

            ca = home / "ca" / "mitmproxy-ca-cert.pem"
            deadline = time.monotonic() + 30
            while True:       # the first handshake takes a moment
                code, body, err = curl("https://www.instagram.com/explore/", ca)
                if code or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert code == 403, (code, body[:300], err, (tmp_path / "proxy.log").read_text()[-2000:])
            page = json.loads(body)
            assert page["blocked"] is True and page["platform"] == "instagram"
            # An ordinary site through the tunnel keeps its own certificate.
            code, body, err = curl("https://www.example.org/", pki.ca_cert)
            assert code == 200 and json.loads(body)["host"] == "www.example.org", (code, err)
            handshake = topo.run(topo.client, "wg", "show", iface, "latest-handshakes").stdout
            assert handshake.split()[-1] != "0", handshake
        finally:
            wg.terminate()

        # Revoking a device and a SIGHUP stop its listener; the other device's keeps running.
        def udp_listening(port: int) -> bool:
            return bool(topo.run(topo.gw, "ss", "-lunH", f"sport = :{port}", check=False).stdout.strip())
        assert udp_listening(teacher["port"])
        r = subprocess.run([sys.executable, "-m", "agent.cli", "devices", "wireguard", "revoke", "tab-teacher",
                            *common], capture_output=True, text=True, cwd=REPO, timeout=60)
        assert r.returncode == 0, r.stderr
        import signal
        proxy.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while udp_listening(teacher["port"]):
            assert time.monotonic() < deadline, "the revoked device's listener is still up after SIGHUP"
            time.sleep(0.2)
        assert udp_listening(young["port"]) and proxy.poll() is None
        log.close()
    lines = [json.loads(x) for f in (home / "activity").rglob("activity-*.jsonl") for x in f.read_text().splitlines()]
    insta = [ln for ln in lines if ln.get("platform") == "instagram"]
    assert insta and {(ln["user"], ln["device"], ln["verdict"]) for ln in insta} == {(roster.young, "tab-young", "block")}


# ------------------------------------------------------------------ listeners shared out over workers

@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_device_has_exactly_one_owner_and_the_split_is_even(workers):
    from proxy_addons.wireguard import owner
    ids = [f"tab-{i:04d}" for i in range(800)]
    owners = [owner(d, workers) for d in ids]
    assert set(owners) == set(range(workers))
    counts = [owners.count(w) for w in range(workers)]
    assert max(counts) - min(counts) < 0.25 * 800 / workers      # roughly even
    assert owners == [owner(d, workers) for d in ids]             # the same in every process


@pytest.mark.parametrize("device, workers, expected", [
    ("tab-young", 1, 0), ("tab-young", 2, 0), ("tab-teacher", 2, 1),   # the real-tunnel test relies on these
])
def test_owner_is_a_fixed_function_of_the_device_id(device, workers, expected):
    from proxy_addons.wireguard import owner
    assert owner(device, workers) == expected


def test_a_worker_runs_only_its_share_of_listeners(district, capsys, monkeypatch):
    from mitmproxy import ctx
    from mitmproxy.test import taddons

    from agent.context import AppContext
    from proxy_addons.state import Core, load_state
    from proxy_addons.wireguard import WireGuardDevices, owner

    base, roster, devices = district
    for d in ("tab-young", "tab-teacher"):
        assert add(capsys, district, d)[0] == 0
    core = Core(load_state(AppContext(base / "home", None, roster.directory, devices)))
    seen = {}
    for index in (0, 1):
        wg = WireGuardDevices(core, worker=index, workers=2)
        with taddons.context(wg) as tctx:
            tctx.options.crossingguard_wireguard = True
            wg.sync()
            seen[index] = [m for m in ctx.options.mode if m.startswith("wireguard:")]
        assert {d.device_id for d in wg.by_conf.values()} == \
            {d for d in ("tab-young", "tab-teacher") if owner(d, 2) == index}
    assert len(seen[0]) == len(seen[1]) == 1 and seen[0] != seen[1]
