"""The full list of CrossingGuard addons, in hook order.

Order matters: mitmproxy calls addons in list order for each hook (built-ins such as proxyauth
first). Core loads state; Identity fills in who; Passthrough decides interception; Enforce
decides and blocks; SafeSearch rewrites what is allowed; Activity logs the outcome; the metrics
exporter and post classification (owned elsewhere) come last when present.
"""
from __future__ import annotations

import importlib
import logging

from proxy_addons.activity import Activity
from proxy_addons.authguard import AuthGuard
from proxy_addons.certs import shorten_leaf_lifetime
from proxy_addons.core import Core
from proxy_addons.enforce import Enforce
from proxy_addons.identity import IdentityAddon
from proxy_addons.passthrough import Passthrough
from proxy_addons.safesearch import SafeSearch
from proxy_addons.sessions import SessionCache

log = logging.getLogger(__name__)

# Optional addons maintained in other modules: (module, what to take from it).
OPTIONAL = ("proxy_addons.metrics", "proxy_addons.posts")


def optional_addons(core) -> list:
    """Addons from modules owned by other parts of the project, if those modules exist.

    Each module may expose `make_addons(core) -> list`, `addons` (a list), or one class whose
    name ends in "Addon"/"Exporter" constructed without arguments.
    """
    found = []
    for name in OPTIONAL:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        if hasattr(module, "make_addons"):
            found.extend(module.make_addons(core))
        elif hasattr(module, "addons"):
            found.extend(module.addons)
    return found


def build_addons(preloaded=None, *, with_optional: bool = True) -> list:
    shorten_leaf_lifetime()
    core = Core(preloaded)
    sessions = SessionCache(core)
    identity = IdentityAddon(core)
    addons = [core, AuthGuard(), sessions, identity, Passthrough(core, identity), Enforce(core, sessions),
              SafeSearch(core), Activity(core)]
    if with_optional:
        addons += optional_addons(core)
    return addons
