"""`crossingguard accounts add USERNAME --role counselor|admin|auditor|it [--school ORG_ID ...]
--password-stdin`, `accounts list`, `accounts disable USERNAME` (DESIGN.md): staff accounts of
the review app. Changes are written to the audit trail."""
from __future__ import annotations

import getpass
import json
import re
import sys

from agent.errors import UsageError

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def register(sub, common) -> None:
    from agent.cli import nested_common
    from agent.store.lifecycle import ROLES
    p = sub.add_parser("accounts", parents=[common], help="staff accounts of the review app")
    leaf = nested_common(common)
    ss = p.add_subparsers(dest="accounts_command", metavar="ACTION")
    ss.required = True
    add = ss.add_parser("add", parents=[leaf], help="create an account (password read from stdin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--school", action="append", default=[], metavar="ORG_ID",
                     help="a school the counselor sees (repeat for several); roster org sourcedId")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin (at least 10 characters)")
    add.add_argument("--no-password", action="store_true",
                     help="no password: the account signs in only through OIDC (crossingguard review --oidc-issuer)")
    add.set_defaults(func=run_add)
    ls = ss.add_parser("list", parents=[leaf], help="one JSON line per account (never the password)")
    ls.set_defaults(func=run_list)
    dis = ss.add_parser("disable", parents=[leaf], help="disable an account (its sessions end)")
    dis.add_argument("username")
    dis.set_defaults(func=run_disable)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "cli"


def run_add(args) -> int:
    from agent.context import AppContext
    from agent.review.auth import hash_password

    if not USERNAME.match(args.username):
        raise UsageError(f"username {args.username!r}: letters, digits and . _ @ - only (at most 100)")
    if args.password_stdin and args.no_password:
        raise UsageError("--password-stdin and --no-password exclude each other")
    if not args.password_stdin and not args.no_password:
        raise UsageError("give the password on stdin with --password-stdin "
                         "(e.g. `printf '%s\\n' \"$PW\" | crossingguard accounts add ...`)")
    if args.role == "counselor" and not args.school:
        raise UsageError("a counselor needs at least one --school ORG_ID")
    if args.role != "counselor" and args.school:
        raise UsageError(f"--school applies to counselors only (role {args.role} sees "
                         + ("all schools" if args.role in ("admin", "it") else "no incidents") + ")")
    ctx = AppContext.from_args(args)
    schools = []
    for org in args.school:
        o = ctx.roster.org(org)
        if o is None:
            known = ", ".join(sorted(x.org_id for x in ctx.roster.orgs() if x.type == "school"))
            raise UsageError(f"--school {org!r}: not an org in the roster ({known})")
        if org not in schools:
            schools.append(org)
    hashed = None
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.rstrip("\r")
        try:
            hashed = hash_password(password)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    try:
        account = ctx.store.add_account(args.username, args.role, tuple(schools), hashed, actor=_actor())
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(account.to_json(), ensure_ascii=False))
    return 0


def run_list(args) -> int:
    from agent.context import AppContext
    for account in AppContext.from_args(args).store.accounts():
        print(json.dumps(account.to_json(), ensure_ascii=False))
    return 0


def run_disable(args) -> int:
    from agent.context import AppContext
    from agent.store.lifecycle import NotFound
    try:
        account = AppContext.from_args(args).store.set_account(args.username, disabled=True, actor=_actor())
    except NotFound as exc:
        raise UsageError(f"no account {args.username!r}") from exc
    print(json.dumps(account.to_json(), ensure_ascii=False))
    return 0
