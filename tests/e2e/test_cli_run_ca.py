"""`crossingguard run` start-up contract, `crossingguard ca`, proxy auth, and plain `mitmdump -s`."""
from __future__ import annotations

import base64
import hashlib
import json
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.e2e.conftest import UNKNOWN_IP, start_proxy
from tests.support import (ManagedProcess, crossingguard_argv, free_port, mitmdump_argv, proxied_client)

pytestmark = pytest.mark.e2e


def _cli(*args, timeout=60):
    return subprocess.run(crossingguard_argv(*args), capture_output=True, text=True, timeout=timeout)


def test_run_with_a_bad_policy_reports_file_line_key_and_does_not_start(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("district:\n  name: Test\n  shortname: T\nnot_a_key: 1\n", encoding="utf-8")
    r = _cli("run", "--home", str(tmp_path / "home"), "--policy", str(bad),
             "--listen-port", str(free_port()), timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith("crossingguard run: ")
    assert f"{bad}:4: not_a_key: " in r.stderr          # FILE:LINE: KEY: MESSAGE
    assert "listening" not in r.stdout


def test_ca_export_writes_pem_and_der_never_the_key(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    r = _cli("ca", "export", "--home", str(home), "--out", str(out))
    assert r.returncode == 0, r.stderr
    pem, der = out / "crossingguard-ca.pem", out / "crossingguard-ca.cer"
    cert_pem = x509.load_pem_x509_certificate(pem.read_bytes())
    cert_der = x509.load_der_x509_certificate(der.read_bytes())
    assert cert_pem == cert_der
    for f in out.iterdir():
        assert b"PRIVATE KEY" not in f.read_bytes()
    assert cert_pem.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    org = cert_pem.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value
    assert "School District" in org
    # the CA directory and key are private to the service
    assert stat.S_IMODE((home / "ca").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "ca" / "mitmproxy-ca.pem").stat().st_mode) == 0o600

    shown = _cli("ca", "show", "--home", str(home))
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    fp = cert_pem.fingerprint(hashes.SHA256()).hex().upper()
    assert info["sha256"].replace(":", "") == fp
    assert info["path"].endswith("mitmproxy-ca-cert.pem")
    # exporting again keeps the same CA (not regenerated)
    again = _cli("ca", "export", "--home", str(home), "--out", str(tmp_path / "out2"))
    assert json.loads(again.stdout)["sha256"] == info["sha256"]


def test_proxy_auth_identifies_the_user_whatever_the_address(tmp_path, district, upstream):
    _, roster, _ = district
    htpasswd = tmp_path / "users.htpasswd"
    # Apache {SHA} entries: read by mitmproxy 11 (passlib) and 12 (its own reader) alike.
    # (Weak hashing; fine for a synthetic test account. Real deployments use bcrypt entries.)
    digest = base64.b64encode(hashlib.sha1(b"s3cret-test").digest()).decode()
    htpasswd.write_text(f"teen.student:{{SHA}}{digest}\n", encoding="utf-8")
    proxy = start_proxy(tmp_path / "home", district, upstream, ["--proxyauth", f"@{htpasswd}"])
    proxy.start()
    try:
        # From an unregistered address, but logged in as the 15-year-old: YouTube is readable.
        with proxied_client(proxy.url, proxy.ca_file, source_ip=UNKNOWN_IP,
                            proxy_auth=("teen.student", "s3cret-test")) as c:
            r = c.get("https://www.youtube.com/watch?v=1")
            assert r.status_code == 200, r.text[:300]
            assert r.json()["headers"]["YouTube-Restrict"] == "Strict"
            assert "Proxy-Authorization" not in r.json()["headers"]
        with proxied_client(proxy.url, proxy.ca_file, source_ip=UNKNOWN_IP) as c:
            with pytest.raises(Exception):   # no credentials: 407 on CONNECT
                c.get("https://www.youtube.com/")
    finally:
        proxy.stop()


def test_plain_mitmdump_with_the_entry_script(tmp_path, district, upstream):
    """`mitmdump -s proxy_addons/entry.py --set crossingguard_home=...` enforces the same policy."""
    import proxy_addons.entry as entry_module
    _, roster, devices = district
    _, forwarder = upstream
    port = free_port()
    home = tmp_path / "home"
    argv = mitmdump_argv("-q", "-s", entry_module.__file__, "--listen-host", "127.0.0.1",
                         "--listen-port", str(port), "--set", f"confdir={home / 'ca'}",
                         "--set", f"crossingguard_home={home}", "--set", f"crossingguard_roster={roster.directory}",
                         "--set", f"crossingguard_devices={devices}", "--set", "crossingguard_metrics_port=0",
                         "--mode", f"upstream:{forwarder.url}", "--set", "ssl_insecure=true")
    with ManagedProcess(argv, port, tmp_path / "mitmdump.log") as p:
        with proxied_client(p.url, home / "ca" / "mitmproxy-ca-cert.pem", source_ip=UNKNOWN_IP) as c:
            assert c.get("https://www.instagram.com/").status_code == 403
            assert c.get("https://www.youtubekids.com/").status_code == 200
