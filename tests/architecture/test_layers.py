"""The layers are a checked rule: `lint-imports` runs the contracts in pyproject.toml.

A new import across a layer (classifiers -> agent, the agent core -> mitmproxy/proxy_addons/CLI,
the classifier pool -> mitmproxy) fails this test, and with it CI.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "classifiers", "proxy_addons")
CLI = {"cli", "commands"}


def lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240)


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_the_layer_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_core_contract_lists_every_module_of_agent_but_the_cli():
    """A new module in agent/ is core unless it is the CLI: the contract must name it."""
    children = set()
    for path in (ROOT / "agent").iterdir():
        if path.name.startswith(("_", ".")):
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            children.add(path.name)
        elif path.suffix == ".py":
            children.add(path.stem)
    listed = {m.removeprefix("agent.") for m in contracts()["agent-core-pure"]["source_modules"]}
    assert listed == children - CLI


def test_a_forbidden_import_is_caught(tmp_path):
    """The contracts bite: a copy of the tree where classifiers imports the agent, and the agent
    core imports mitmproxy, breaks both contracts."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.npz", "*.json", "*.csv", "*.yaml"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "classifiers" / "leak.py").write_text("from agent.policy import Decision\n")
    (tmp_path / "agent" / "policy" / "leak.py").write_text("import mitmproxy.http\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = lint_imports(tmp_path, env)
    assert result.returncode != 0, result.stdout
    assert "2 broken" in result.stdout, result.stdout
    assert "classifiers.leak -> agent.policy" in result.stdout
    assert "agent.policy.leak -> mitmproxy" in result.stdout
