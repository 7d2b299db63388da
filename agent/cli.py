"""The `crossingguard` console script.

Each subcommand lives in its own module under `agent/commands/` and exposes
`register(subparsers, common)`; this file only wires them together, so adding a
command never touches another command's code. Contracts: ../shared/DESIGN.md.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order shown in --help.
COMMANDS = (
    "run",
    "decide",
    "session",
    "check_config",
    "users",
    "verify_log",
    "purge",
    "ca",
    "devices",
    "incidents",
    "extract",
    "classify",
    "train",
    "evaluate",
    "sensor",
    "review",
    "accounts",
    "export_labels",
)


def common_parser() -> argparse.ArgumentParser:
    """Options every command accepts (DESIGN.md: --home, --policy, --roster, --devices)."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--home", metavar="DIR", default=None,
                   help="state directory (database, logs, CA); default $CROSSINGGUARD_HOME, else ./var")
    g.add_argument("--policy", metavar="FILE", default=None,
                   help="policy YAML; default: the shipped ENSATSD policy")
    g.add_argument("--roster", metavar="DIR", default=None,
                   help="OneRoster 1.1 CSV folder; default: the shipped demo roster")
    g.add_argument("--devices", metavar="FILE", default=None,
                   help="device registry CSV (device_id,user_id,ip,mac)")
    return p


def nested_common(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The common options again for nested subcommands (`session open`, `ca export`), with SUPPRESS
    defaults: argparse lets a subparser's defaults overwrite values parsed by its parent, so
    `crossingguard session --home X open` would otherwise lose --home."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    for action in common._actions:  # noqa: SLF001 - argparse has no public accessor
        if action.option_strings:
            g.add_argument(*action.option_strings, dest=action.dest, metavar=action.metavar,
                           help=action.help, default=argparse.SUPPRESS)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crossingguard",
        description="Student-safety social media filter for the district network.",
    )
    common = common_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"agent.commands.{name}").register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    from agent.errors import CrossingGuardError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except CrossingGuardError as exc:
        # Several configuration mistakes (ConfigErrors): one `FILE:LINE: KEY: message` line each.
        for line in str(exc).splitlines() or [""]:
            print(f"crossingguard {args.command}: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
