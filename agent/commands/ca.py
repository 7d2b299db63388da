"""`crossingguard ca`: the district CA that devices must trust for interception.

    crossingguard ca export --out DIR   writes the CA certificate as PEM and DER (never the key), and
                                        an Apple configuration profile (.mobileconfig) for MDM
    crossingguard ca show               prints {"path", "sha256", "subject", "not_after"} as JSON

The CA is generated under <home>/ca (mitmproxy's confdir) if it does not exist yet.
"""
from __future__ import annotations

import json
import os
import plistlib
import re
import sys
import uuid
from pathlib import Path

# Namespace for the profile's UUIDs: derived from the certificate, so exporting the same CA again
# gives the same profile (an MDM then replaces it instead of installing a second copy) and a new CA
# gives a new one.
_PROFILE_NS = uuid.UUID("5b0f3d7e-1c2a-4f57-9a52-3c5d0c1e9a11")


def mobileconfig(cert_der: bytes, fingerprint: str, district: str, short_name: str) -> bytes:
    """An unsigned Apple configuration profile installing `cert_der` as a trusted root
    (payload type com.apple.security.root). The MDM signs it when it pushes it; iPadOS/macOS
    devices enrolled in MDM then trust it fully without a user step (docs/deploy.md)."""
    slug = re.sub(r"[^a-z0-9]+", "-", short_name.lower()).strip("-") or "district"
    ident = f"org.{slug}.crossingguard.ca"
    cert_payload = {
        "PayloadType": "com.apple.security.root",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{ident}.root",
        "PayloadUUID": str(uuid.uuid5(_PROFILE_NS, f"root:{fingerprint}")).upper(),
        "PayloadDisplayName": f"{short_name} CrossingGuard CA",
        "PayloadDescription": "The district's filtering certificate authority (public certificate only).",
        "PayloadCertificateFileName": "crossingguard-ca.cer",
        "PayloadContent": cert_der,
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": ident,
        "PayloadUUID": str(uuid.uuid5(_PROFILE_NS, f"profile:{fingerprint}")).upper(),
        "PayloadDisplayName": f"{short_name} web filter certificate",
        "PayloadDescription": f"Lets {district} devices trust the district web filter (CrossingGuard).",
        "PayloadOrganization": district,
        "PayloadScope": "System",
        "PayloadRemovalDisallowed": True,
        "PayloadContent": [cert_payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def register(sub, common) -> None:
    p = sub.add_parser("ca", parents=[common], help="export or show the district CA certificate")
    from agent.cli import nested_common
    leaf = nested_common(common)
    ca_sub = p.add_subparsers(dest="ca_command", metavar="ACTION")
    ca_sub.required = True
    ex = ca_sub.add_parser("export", parents=[leaf], help="write the CA certificate (PEM and DER) for MDM")
    ex.add_argument("--out", required=True, metavar="DIR")
    ca_sub.add_parser("show", parents=[leaf], help="print the CA certificate path and SHA-256 fingerprint")
    p.set_defaults(func=run)


def _ensure(args):
    from agent.context import AppContext
    from agent.errors import CrossingGuardError
    from proxy_addons.certs import ca_names, ensure_ca

    context = AppContext.from_args(args)
    context.ensure_home()
    if not (context.confdir / "mitmproxy-ca.pem").exists():
        try:   # name it after the district on first creation
            organization, cn = ca_names(context.policy)
        except CrossingGuardError as exc:
            # The CA does not depend on the policy being valid: generic names, and say why.
            print(f"crossingguard ca: policy not loaded ({exc}); using generic CA names", file=sys.stderr)
            organization, cn = "CrossingGuard", "CrossingGuard CA"
        ensure_ca(context.confdir, organization, cn)
    else:
        ensure_ca(context.confdir, "", "")            # only fixes permissions
    return context


def _district_names(context) -> tuple[str, str]:
    from agent.errors import CrossingGuardError
    try:
        policy = context.policy
        return policy.district_name, policy.district_short or "District"
    except CrossingGuardError:
        return "the district", "District"


def run(args) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding

    from proxy_addons.certs import ca_certificate, ca_paths, sha256_fingerprint

    context = _ensure(args)
    cert = ca_certificate(context.confdir)
    short = "crossingguard-ca"
    if args.ca_command == "export":
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        pem, der, profile = out / f"{short}.pem", out / f"{short}.cer", out / f"{short}.mobileconfig"
        pem.write_bytes(cert.public_bytes(Encoding.PEM))
        der.write_bytes(cert.public_bytes(Encoding.DER))
        district, short_name = _district_names(context)
        profile.write_bytes(mobileconfig(cert.public_bytes(Encoding.DER), sha256_fingerprint(cert),
                                         district, short_name))
        for f in (pem, der, profile):
            os.chmod(f, 0o644)   # a public certificate: devices and MDM read it
        print(json.dumps({"pem": str(pem), "der": str(der), "mobileconfig": str(profile),
                          "sha256": sha256_fingerprint(cert)}))
        return 0
    print(json.dumps({
        "path": str(ca_paths(context.confdir)["cert_pem"]),
        "sha256": sha256_fingerprint(cert),
        "subject": cert.subject.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }, ensure_ascii=False))
    return 0
