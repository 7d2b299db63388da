"""Throw-away certificate authorities and leaf certificates for local HTTPS origins.

The test origin needs a certificate that mitmproxy (with `ssl_insecure`) or a client
(verifying against this CA) accepts for every host name the tests use, so one leaf
carries all of them as subjectAltNames (plus wildcards for their subdomains).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Hosts the local origin answers for (each also as *.host). Extend freely.
DEFAULT_HOSTS = (
    "instagram.com", "cdninstagram.com", "youtube.com", "youtubekids.com", "googlevideo.com",
    "google.com", "bing.com", "tiktok.com", "facebook.com", "reddit.com", "discord.com",
    "x.com", "twitter.com", "pbskids.org", "example.com", "example.org", "ordinary.test",
    "dns.google", "cloudflare-dns.com", "localhost",
)


@dataclass(frozen=True)
class TestPKI:
    """Paths of a generated CA and a leaf signed by it (PEM files)."""
    ca_cert: Path
    leaf_cert: Path          # leaf then CA (a chain file)
    leaf_key: Path
    ca_fingerprint: str      # SHA-256 hex of the CA certificate


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(directory: Path, hosts: tuple[str, ...] = DEFAULT_HOSTS,
             org: str = "CrossingGuard Test Origin") -> TestPKI:
    """Create a CA and one leaf for `hosts` (and their subdomains) under `directory`.

    EC P-256 keys: generation is instant, which keeps fixtures fast.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder()
          .subject_name(_name(f"{org} CA", org)).issuer_name(_name(f"{org} CA", org))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for h in hosts:
        sans += [x509.DNSName(h), x509.DNSName(f"*.{h}")]
    leaf = (x509.CertificateBuilder()
            .subject_name(_name(hosts[0], org)).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path, leaf_path, key_path = directory / "origin-ca.pem", directory / "origin-leaf.pem", directory / "origin-key.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    leaf_path.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_path.write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    key_path.chmod(0o600)
    return TestPKI(ca_path, leaf_path, key_path, ca.fingerprint(hashes.SHA256()).hex())


def cert_fingerprint(der: bytes) -> str:
    """SHA-256 hex of a DER certificate (what `ssl.SSLSocket.getpeercert(True)` returns)."""
    return x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex()


def cert_issuer_org(der: bytes) -> str | None:
    attrs = x509.load_der_x509_certificate(der).issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return attrs[0].value if attrs else None


def cert_lifetime_days(der: bytes) -> float:
    c = x509.load_der_x509_certificate(der)
    return (c.not_valid_after_utc - c.not_valid_before_utc).total_seconds() / 86400
