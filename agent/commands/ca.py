"""`crossingguard ca`: the district CA that devices must trust for interception.

    crossingguard ca export --out DIR   writes the CA certificate as PEM and DER (never the key)
    crossingguard ca show               prints {"path", "sha256", "subject", "not_after"} as JSON

The CA is generated under <home>/ca (mitmproxy's confdir) if it does not exist yet.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


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


def run(args) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding

    from proxy_addons.certs import ca_certificate, ca_paths, sha256_fingerprint

    context = _ensure(args)
    cert = ca_certificate(context.confdir)
    short = "crossingguard-ca"
    if args.ca_command == "export":
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        pem, der = out / f"{short}.pem", out / f"{short}.cer"
        pem.write_bytes(cert.public_bytes(Encoding.PEM))
        der.write_bytes(cert.public_bytes(Encoding.DER))
        for f in (pem, der):
            os.chmod(f, 0o644)   # a public certificate: devices and MDM read it
        print(json.dumps({"pem": str(pem), "der": str(der), "sha256": sha256_fingerprint(cert)}))
        return 0
    print(json.dumps({
        "path": str(ca_paths(context.confdir)["cert_pem"]),
        "sha256": sha256_fingerprint(cert),
        "subject": cert.subject.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }, ensure_ascii=False))
    return 0
