"""`crossingguard ca export` writes an Apple configuration profile next to the PEM and DER: parsed
back with plistlib, it installs exactly the exported CA certificate as a trusted root, and a
second export of the same CA gives the same profile identity (MDM replaces, never duplicates)."""
from __future__ import annotations

import json
import plistlib
import uuid

from cryptography import x509

from agent.cli import main


def export(capsys, home, out) -> dict:
    assert main(["ca", "export", "--home", str(home), "--out", str(out)]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_mobileconfig_installs_the_exported_ca_as_a_root(tmp_path, capsys):
    info = export(capsys, tmp_path / "home", tmp_path / "out")
    path = tmp_path / "out" / "crossingguard-ca.mobileconfig"
    assert info["mobileconfig"] == str(path)
    raw = path.read_bytes()
    assert b"PRIVATE KEY" not in raw
    profile = plistlib.loads(raw)
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    assert profile["PayloadIdentifier"] == "org.ensatsd.crossingguard.ca"
    assert "Essex North Shore" in profile["PayloadOrganization"]
    uuid.UUID(profile["PayloadUUID"])
    [root] = profile["PayloadContent"]
    assert root["PayloadType"] == "com.apple.security.root"
    assert root["PayloadIdentifier"].startswith(profile["PayloadIdentifier"] + ".")
    assert root["PayloadUUID"] != profile["PayloadUUID"]
    cert = x509.load_der_x509_certificate(root["PayloadContent"])
    assert cert == x509.load_der_x509_certificate((tmp_path / "out" / "crossingguard-ca.cer").read_bytes())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    again = export(capsys, tmp_path / "home", tmp_path / "out2")
    second = plistlib.loads((tmp_path / "out2" / "crossingguard-ca.mobileconfig").read_bytes())
    assert again["sha256"] == info["sha256"]
    assert (second["PayloadUUID"], second["PayloadContent"][0]["PayloadUUID"]) == \
           (profile["PayloadUUID"], root["PayloadUUID"])

    other = export(capsys, tmp_path / "home-b", tmp_path / "out3")   # another CA: another profile
    third = plistlib.loads((tmp_path / "out3" / "crossingguard-ca.mobileconfig").read_bytes())
    assert other["sha256"] != info["sha256"] and third["PayloadUUID"] != profile["PayloadUUID"]
