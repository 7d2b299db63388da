"""The full list of CrossingGuard addons, in hook order.

Order matters: mitmproxy calls addons in list order for each hook (built-ins such as proxyauth
first) and awaits async hooks before calling the next addon. Core loads state; AuthGuard hardens
proxy auth; Identity fills in who; Destinations refuses the proxy's own machine and local links;
Passthrough decides interception; Report answers crossingguard.internal itself (the students'
report page); Enforce decides and blocks; Bodies streams large bodies; Framing gives an HTTP/2 body
with no length one an HTTP/1.1 site can read; SafeSearch rewrites what
is allowed; UpstreamPages answers for a site that cannot be reached; Posts judges what students send (and may hold it); Alerts queues urgent alerts for the
critical incidents Posts wrote; Activity then logs the final outcome; SpoolReplayer writes spooled
incidents once the database is back; Metrics serves /metrics.
"""
from __future__ import annotations

from proxy_addons.activity import Activity
from proxy_addons.alerts import Alerts
from proxy_addons.authguard import AuthGuard
from proxy_addons.bodies import Bodies
from proxy_addons.certs import shorten_leaf_lifetime
from proxy_addons.destinations import Destinations
from proxy_addons.state import Core
from proxy_addons.enforce import Enforce
from proxy_addons.framing import Framing
from proxy_addons.identity import IdentityAddon
from proxy_addons.metrics import Metrics
from proxy_addons.leanlog import LeanLogging
from proxy_addons.limits import ConnectionLimits
from proxy_addons.passthrough import Passthrough
from proxy_addons.tunnel import TunnelDecider
from proxy_addons.posts import Posts
from proxy_addons.report import Report
from proxy_addons.safesearch import SafeSearch
from proxy_addons.sessions import SessionCache
from proxy_addons.spool import SpoolReplayer
from proxy_addons.wireguard import WireGuardDevices
from proxy_addons.upstream import UpstreamPages


def worker_count() -> int:
    """N of `run --workers N`, as the supervisor passes it to its workers (agent/supervisor.py)."""
    import os
    try:
        return max(1, int(os.environ.get("CROSSINGGUARD_WORKER_COUNT", "1")))
    except ValueError:
        return 1


def build_addons(preloaded=None, *, with_posts: bool = True, worker: int | None = None) -> list:
    """All addons sharing one Core. `with_posts=False` leaves out post classification (tests and
    benchmarks of the enforcement path alone; in production use the crossingguard_classify option).
    `worker`: this process's index under `crossingguard run --workers N` (its own activity chain)."""
    shorten_leaf_lifetime()
    core = Core(preloaded)
    sessions = SessionCache(core)
    # WireGuard listeners are UDP sockets bound by mitmproxy_rs (no SO_REUSEPORT): under
    # `run --workers N` each worker runs its share of them (proxy_addons/wireguard.py).
    tunnels = WireGuardDevices(core, worker=worker or 0, workers=worker_count() if worker is not None else 1)
    identity = IdentityAddon(core, tunnels)
    passthrough = Passthrough(core, identity)
    # TunnelDecider moves itself before mitmproxy's next_layer addon at startup (tunnel.py).
    addons = [core, LeanLogging(), ConnectionLimits(), AuthGuard(), sessions, tunnels, identity, Destinations(core),
              passthrough, TunnelDecider(passthrough),
              Report(core), Enforce(core, sessions), Bodies(core), Framing(), SafeSearch(core),
              UpstreamPages(core, passthrough)]
    if with_posts:
        addons.append(Posts(core))
    addons.append(Alerts(core))
    addons += [Activity(core, worker), SpoolReplayer(core), Metrics(core)]
    return addons
