"""CrossingGuard: the daemon side and the pure core (policy, roster, identity). No mitmproxy here."""

__version__ = "0.1.0"
