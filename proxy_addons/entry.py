"""Entry point for plain mitmproxy:

    mitmdump -s proxy_addons/entry.py --set crossingguard_home=./var [--set crossingguard_policy=...]

`crossingguard run` uses the same list (proxy_addons.bundle.build_addons).
"""
from proxy_addons.bundle import build_addons

addons = build_addons()
