"""The full list of CrossingGuard addons, in hook order.

Order matters: mitmproxy calls addons in list order for each hook (built-ins such as proxyauth
first) and awaits async hooks before calling the next addon. Core loads state; AuthGuard hardens
proxy auth; Identity fills in who; Passthrough decides interception; Enforce decides and blocks;
SafeSearch rewrites what is allowed; UpstreamPages answers for a site that cannot be reached;
Posts judges what students send (and may hold it); Activity
then logs the final outcome; Metrics serves /metrics.
"""
from __future__ import annotations

from proxy_addons.activity import Activity
from proxy_addons.authguard import AuthGuard
from proxy_addons.certs import shorten_leaf_lifetime
from proxy_addons.state import Core
from proxy_addons.enforce import Enforce
from proxy_addons.identity import IdentityAddon
from proxy_addons.metrics import Metrics
from proxy_addons.leanlog import LeanLogging
from proxy_addons.passthrough import Passthrough
from proxy_addons.tunnel import TunnelDecider
from proxy_addons.posts import Posts
from proxy_addons.safesearch import SafeSearch
from proxy_addons.sessions import SessionCache
from proxy_addons.upstream import UpstreamPages


def build_addons(preloaded=None, *, with_posts: bool = True) -> list:
    """All addons sharing one Core. `with_posts=False` leaves out post classification (tests and
    benchmarks of the enforcement path alone; in production use the crossingguard_classify option)."""
    shorten_leaf_lifetime()
    core = Core(preloaded)
    sessions = SessionCache(core)
    identity = IdentityAddon(core)
    passthrough = Passthrough(core, identity)
    # TunnelDecider moves itself before mitmproxy's next_layer addon at startup (tunnel.py).
    addons = [core, LeanLogging(), AuthGuard(), sessions, identity, passthrough, TunnelDecider(passthrough),
              Enforce(core, sessions), SafeSearch(core), UpstreamPages(core, passthrough)]
    if with_posts:
        addons.append(Posts(core))
    addons += [Activity(core), Metrics(core)]
    return addons
