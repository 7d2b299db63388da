"""Everything a command needs, built lazily from the common options.

Commands ask the context for what they use (`ctx.engine`, `ctx.store`, ...) so that
`crossingguard decide` never opens the activity log and `check-config` never
touches the database.
"""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_POLICY = PACKAGE_DIR / "policies" / "ensatsd.yaml"
DEFAULT_ROSTER = PACKAGE_DIR / "policies" / "demo_roster"


class AppContext:
    def __init__(self, home: str | os.PathLike | None = None, policy: str | os.PathLike | None = None,
                 roster: str | os.PathLike | None = None, devices: str | os.PathLike | None = None):
        self.home = Path(home or os.environ.get("CROSSINGGUARD_HOME") or "var").resolve()
        self.policy_path = Path(policy) if policy else DEFAULT_POLICY
        self.roster_path = Path(roster) if roster else DEFAULT_ROSTER
        # The demo roster ships with a demo device registry (127.0.0.x addresses) so that
        # `make run` identifies demo devices out of the box; a real roster brings its own.
        if devices:
            self.devices_path: Path | None = Path(devices)
        elif not roster:
            self.devices_path = DEFAULT_ROSTER / "devices.csv"
        else:
            self.devices_path = None

    @classmethod
    def from_args(cls, args) -> "AppContext":
        return cls(args.home, args.policy, args.roster, args.devices)

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.home, 0o750)
        except OSError:
            pass
        return self.home

    @cached_property
    def policy(self):
        from agent.policy.loader import load_policy
        return load_policy(self.policy_path)

    @cached_property
    def roster(self):
        from agent.roster import Roster
        return Roster.load(self.roster_path)

    @cached_property
    def devices(self):
        from agent.identity import DeviceRegistry
        if self.devices_path is None:
            return DeviceRegistry.empty()
        return DeviceRegistry.load(self.devices_path)

    @cached_property
    def engine(self):
        from agent.policy.engine import PolicyEngine
        return PolicyEngine(self.policy, self.roster)

    @cached_property
    def store(self):
        from agent.store import open_store
        self.ensure_home()
        return open_store(self.policy.store_url, home=self.home)

    @property
    def activity_dir(self) -> Path:
        return self.home / "activity"

    @property
    def confdir(self) -> Path:
        """mitmproxy's confdir: the district CA lives here."""
        return self.home / "ca"
