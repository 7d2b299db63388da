"""The district CA (mitmproxy's confdir under <home>/ca) and the leaf certificate lifetime.

- The CA is generated before mitmproxy starts, named after the district (organization and CN),
  with mitmproxy's own file layout (mitmproxy-ca.pem = key+cert, mitmproxy-ca-cert.pem/.cer/.p12),
  so mitmproxy simply loads it. Directory 0700, key files 0600 (only the service reads them).
- Leaf lifetime: mitmproxy 11.0.2 signs leaves for 365 days; current Chromium rejects leaves over
  200 days under a manually installed root. We lower mitmproxy.certs.CERT_EXPIRY so that a leaf
  ends at most 197 days from now (199 days in all with mitmproxy's 2-day backdating), only where
  it is longer, before any leaf is made. mitmproxy 12.3 already does this (nothing to change).
  (docs/mitmproxy-internals.md, item 9.)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from mitmproxy import certs

LEAF_LIFETIME = dt.timedelta(days=197)
CONF_BASENAME = "mitmproxy"   # mitmproxy's file names (mitmproxy.options.CONF_BASENAME)
KEY_SIZE = 2048


def shorten_leaf_lifetime(limit: dt.timedelta = LEAF_LIFETIME) -> dt.timedelta:
    """Cap mitmproxy's leaf certificate lifetime so that notAfter is at most `limit` from now.

    Returns how long a new leaf stays valid from now. mitmproxy backdates notBefore by 2 days
    (clock skew), so the whole validity period is 199 days, under Chromium's 200.
    mitmproxy <= 12.2: notAfter = now + CERT_EXPIRY (11.0.2: 365 days).
    mitmproxy >= 12.3: notAfter = now + CERT_VALIDITY_OFFSET (-2 days) + CERT_EXPIRY (199 days).
    """
    offset = getattr(certs, "CERT_VALIDITY_OFFSET", None)
    offset = offset if isinstance(offset, dt.timedelta) else dt.timedelta(0)
    current = getattr(certs, "CERT_EXPIRY", None)
    if isinstance(current, dt.timedelta) and current + offset > limit:
        certs.CERT_EXPIRY = limit - offset
    return getattr(certs, "CERT_EXPIRY", limit) + offset


def ca_paths(confdir: Path) -> dict[str, Path]:
    confdir = Path(confdir)
    return {
        "key_and_cert": confdir / f"{CONF_BASENAME}-ca.pem",      # private key: never exported
        "cert_pem": confdir / f"{CONF_BASENAME}-ca-cert.pem",
        "cert_cer": confdir / f"{CONF_BASENAME}-ca-cert.cer",
        "p12_with_key": confdir / f"{CONF_BASENAME}-ca.p12",
    }


def ensure_ca(confdir: Path, organization: str, common_name: str) -> Path:
    """Create the CA under `confdir` if absent; fix permissions; return the certificate path."""
    confdir = Path(confdir)
    confdir.mkdir(parents=True, exist_ok=True)
    os.chmod(confdir, 0o700)
    paths = ca_paths(confdir)
    if not paths["key_and_cert"].exists():
        try:
            certs.CertStore.create_store(confdir, CONF_BASENAME, KEY_SIZE,
                                         organization=organization, cn=common_name)
        except TypeError:  # a mitmproxy without the naming parameters: its default names
            certs.CertStore.create_store(confdir, CONF_BASENAME, KEY_SIZE)
    for name in ("key_and_cert", "p12_with_key"):
        if paths[name].exists():
            os.chmod(paths[name], 0o600)
    return paths["cert_pem"]


def ca_certificate(confdir: Path):
    """The CA certificate (cryptography x509.Certificate)."""
    from cryptography import x509
    return x509.load_pem_x509_certificate(ca_paths(confdir)["cert_pem"].read_bytes())


def sha256_fingerprint(cert) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding
    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def ca_names(policy) -> tuple[str, str]:
    """(organization, CN) for the district CA."""
    short = getattr(policy, "district_short", None) or "District"
    name = getattr(policy, "district_name", None) or short
    return f"{name}"[:64], f"{short} CrossingGuard CA"[:64]
