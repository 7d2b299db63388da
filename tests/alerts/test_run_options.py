"""`crossingguard run --alert-webhook URL --alert-secret-file FILE`: refused clearly before the
proxy starts when wrong; passed to the alerts addon as mitmproxy options when right."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent.cli import main
from agent.commands.run import mitmproxy_arguments


@pytest.mark.parametrize("args, message", [
    (["--alert-webhook", "ftp://pager.example.org/x"], "expected an http:// or https:// URL"),
    (["--alert-webhook", "https://pager.example.org/x"], "--alert-webhook needs --alert-secret-file"),
    (["--alert-webhook", "https://pager.example.org/x", "--alert-secret-file", "/nonexistent/secret"],
     "--alert-secret-file"),
    (["--alert-secret-file", "EMPTY"], "is empty"),
])
def test_bad_alert_options_exit_2(tmp_path, capsys, args, message):
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    args = [str(empty) if a == "EMPTY" else a for a in args]
    rc = main(["run", "--home", str(tmp_path / "home"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err


def test_alert_options_become_mitmproxy_options(tmp_path):
    class Ctx:
        confdir, home = tmp_path / "ca", tmp_path
        policy_path, roster_path, devices_path = tmp_path / "p.yaml", tmp_path / "r", None

    args = argparse.Namespace(listen_host="127.0.0.1", listen_port=8080, metrics_port=None, mitmproxy_args=[],
                              alert_webhook=["https://a.example.org/h", "http://b.example.org/h?x=1"],
                              alert_secret_file="secret")
    argv = mitmproxy_arguments(args, Ctx)
    sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    assert "crossingguard_alert_webhooks=https://a.example.org/h" in sets
    assert "crossingguard_alert_webhooks=http://b.example.org/h?x=1" in sets
    assert f"crossingguard_alert_secret_file={Path('secret').resolve()}" in sets
