"""`crossingguard check-config FILE`: validate a policy file without starting anything.

Success: one JSON line summarising the file. Failure: the located error
(`FILE:LINE: KEY: what was expected`) on stderr and exit status 2. A platform catalog
file (only a top-level `platforms:` key, like agent/policies/catalog.yaml) is checked
as a catalog.
"""
from __future__ import annotations

import json


def register(sub, common):
    p = sub.add_parser("check-config", parents=[common], help="validate a policy file (errors name file, line, key)")
    p.add_argument("file", metavar="FILE", nargs="?", default=None,
                   help="policy YAML to check (default: --policy, else the shipped ENSATSD policy)")
    p.set_defaults(func=run)


def run(args) -> int:
    from agent.config import load_yaml
    from agent.context import DEFAULT_POLICY
    from agent.policy.catalog import load_catalog
    from agent.policy.loader import load_policy

    path = args.file or args.policy or DEFAULT_POLICY
    raw = load_yaml(path)      # ConfigError -> the CLI prints it on stderr, exit 2
    if isinstance(raw, dict) and set(raw) == {"platforms"}:
        catalog = load_catalog(path)
        summary = {"ok": True, "file": str(path), "kind": "catalog", "platforms": len(catalog),
                   "categories": sorted({p.category for p in catalog})}
    else:
        summary = {**load_policy(path).summary(), "kind": "policy"}
    print(json.dumps(summary, ensure_ascii=False))
    return 0
