"""Identity: which roster person is behind a flow (proxy login, device registry, DHCP).

Pure core: no mitmproxy imports. See docs/interfaces.md for the contract.
"""
from agent.identity.addresses import normalize_ip, normalize_mac
from agent.identity.registry import DeviceRegistry
from agent.identity.resolver import UNKNOWN, Identity, IdentityResolver

__all__ = ["DeviceRegistry", "Identity", "IdentityResolver", "UNKNOWN", "normalize_ip", "normalize_mac"]
