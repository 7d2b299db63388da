"""Reusable test infrastructure: local HTTPS origins, an upstream CONNECT forwarder, throw-away
CAs, synthetic rosters, and `crossingguard run` as a managed subprocess.

Typical end-to-end setup (see tests/e2e/conftest.py)::

    pki = make_pki(tmp / "pki")
    with LocalOrigin(pki.leaf_cert, pki.leaf_key) as origin, \\
         ConnectForwarder(origin.https_port, origin.http_port) as fwd, \\
         CrossingGuardProcess(tmp / "home", roster=..., devices=...,
                              mitm_args=["--mode", f"upstream:{fwd.url}", "--set", "ssl_insecure=true"]) as proxy:
        with proxied_client(proxy.url, proxy.ca_file, source_ip="127.0.0.11") as c:
            c.get("https://instagram.com/")

Everything binds 127.0.0.1 on free ports; nothing here needs the network.
"""
from tests.support.clients import connect_tunnel, peer_certificate, proxied_client, read_head, trust
from tests.support.forwarder import ConnectForwarder
from tests.support.origin import LocalOrigin
from tests.support.pki import TestPKI, cert_fingerprint, cert_issuer_org, cert_lifetime_days, make_pki
from tests.support.proxy import (CrossingGuardProcess, ManagedProcess, crossingguard_argv, free_port,
                                 mitmdump_argv, wait_for_port)
from tests.support.spawn import Spawned, spawn_forwarder, spawn_origin
from tests.support.roster import TestRoster, birth_date_for_age, write_devices, write_test_roster

__all__ = [
    "ConnectForwarder", "CrossingGuardProcess", "LocalOrigin", "ManagedProcess", "TestPKI", "TestRoster",
    "birth_date_for_age", "cert_fingerprint", "cert_issuer_org", "cert_lifetime_days", "connect_tunnel", "read_head",
    "crossingguard_argv", "free_port", "make_pki", "mitmdump_argv", "peer_certificate", "proxied_client", "trust",
    "wait_for_port", "write_devices", "write_test_roster", "Spawned", "spawn_forwarder", "spawn_origin",
]
