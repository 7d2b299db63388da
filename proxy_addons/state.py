"""Core addon: our options, and the policy/roster/devices loaded once per configuration.

Options (all addons read the loaded state from `Core.state`, never from files):
  crossingguard_home     state directory (activity log, database, CA)   default $CROSSINGGUARD_HOME or ./var
  crossingguard_policy   policy YAML        default: the shipped ENSATSD policy
  crossingguard_roster   OneRoster CSV dir  default: the shipped demo roster
  crossingguard_devices  device registry CSV (device_id,user_id,ip,mac)  default: none

configure() loads everything when one of these changes and raises OptionsError with the
located ConfigError message (FILE:LINE: KEY: MESSAGE) on bad input; the previous state stays
in force when a reload fails, so a typo pushed to a running proxy does not open the filter.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mitmproxy import ctx, exceptions

from agent.context import AppContext
from agent.errors import CrossingGuardError
from agent.identity import DeviceRegistry, IdentityResolver
from agent.policy import Policy, PolicyEngine
from agent.roster import Roster

log = logging.getLogger(__name__)

OPTIONS = ("crossingguard_home", "crossingguard_policy", "crossingguard_roster", "crossingguard_devices")


@dataclass(frozen=True)
class CoreState:
    """Everything loaded for one configuration; replaced as a whole (readers never see a mix)."""
    context: AppContext
    policy: Policy
    roster: Roster
    devices: DeviceRegistry
    engine: PolicyEngine
    resolver: IdentityResolver

    @property
    def home(self) -> Path:
        return self.context.home


def load_state(context: AppContext) -> CoreState:
    """Load and validate policy, roster and devices (raises CrossingGuardError on bad input)."""
    policy, roster, devices = context.policy, context.roster, context.devices
    engine = context.engine
    return CoreState(context, policy, roster, devices, engine, IdentityResolver(roster, devices))


class Core:
    name = "crossingguard_core"   # mitmproxy addon name (unique; built-ins use short names)

    def __init__(self, preloaded: CoreState | None = None) -> None:
        # `crossingguard run` loads (and reports errors) before mitmproxy starts and hands the
        # result over, so the files are parsed once, not twice.
        self.state: CoreState | None = preloaded
        self.generation = 0   # bumped on each (re)load; dependent addons compare it

    def load(self, loader) -> None:
        loader.add_option("crossingguard_home", str, "", "CrossingGuard state directory (default ./var).")
        loader.add_option("crossingguard_policy", str, "", "Policy YAML (default: shipped ENSATSD policy).")
        loader.add_option("crossingguard_roster", str, "", "OneRoster 1.1 CSV folder (default: demo roster).")
        loader.add_option("crossingguard_devices", str, "", "Device registry CSV (device_id,user_id,ip,mac).")

    def configure(self, updated) -> None:
        if not any(name in updated for name in OPTIONS) and self.state is not None:
            return
        o = ctx.options
        context = AppContext(o.crossingguard_home or None, o.crossingguard_policy or None,
                             o.crossingguard_roster or None, o.crossingguard_devices or None)
        if self.state is not None and _same_files(self.state.context, context):
            return  # preloaded by `crossingguard run`, or an unrelated option change
        try:
            state = load_state(context)
        except CrossingGuardError as exc:
            raise exceptions.OptionsError(str(exc)) from exc
        issues = getattr(state.roster, "issues", ())
        if issues:
            log.warning("roster: %d bad rows skipped (first: %s)", len(issues), issues[0])
        self.state = state
        self.generation += 1

    def require(self) -> CoreState:
        if self.state is None:
            raise RuntimeError("CrossingGuard core is not configured")
        return self.state


def _same_files(a: AppContext, b: AppContext) -> bool:
    return (a.home, a.policy_path, a.roster_path, a.devices_path) == \
           (b.home, b.policy_path, b.roster_path, b.devices_path)
