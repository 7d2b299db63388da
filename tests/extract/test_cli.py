"""The `crossingguard extract` contract (DESIGN.md), through agent.cli.main and as a real process."""
from __future__ import annotations

import base64
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from tests.extract.conftest import load_fixtures

REDDIT = {"method": "POST", "url": "https://oauth.reddit.com/api/comment/?raw_json=1",
          "headers": {"content-type": "application/x-www-form-urlencoded"},
          "body": "api_type=json&text=nice+one%21&thing_id=t3_abc"}
GZ_DISCORD = {"method": "POST", "url": "https://discord.com/api/v9/channels/9/messages",
              "headers": {"content-type": "application/json", "content-encoding": "gzip"},
              "body_b64": base64.b64encode(gzip.compress(b'{"content":"caf\\u00e9 \\ud83d\\ude00"}')).decode()}


def lines_in(*objs) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


def run_main(stdin: str, monkeypatch, capsys, *extra) -> tuple[int, list[dict], str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(["extract", *extra])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


def test_contract_output_keys_and_values(monkeypatch, capsys):
    rc, out, err = run_main(lines_in(REDDIT, GZ_DISCORD), monkeypatch, capsys)
    assert rc == 0 and err == ""
    assert out == [
        {"platform": "reddit", "posts": [{"kind": "comment", "text": "nice one!", "account": None, "target": "t3_abc",
                                          "attachments": []}]},
        {"platform": "discord", "posts": [{"kind": "message", "text": "café 😀", "account": None, "target": "9",
                                           "attachments": []}]},
    ]


def test_malformed_lines_keep_output_aligned(monkeypatch, capsys):
    stdin = lines_in(REDDIT, "not json", {"method": "POST"}, ["a list"], {**REDDIT, "body_b64": "%%%"},
                     {**REDDIT, "headers": {"a": ["x"]}}, GZ_DISCORD)
    rc, out, err = run_main(stdin, monkeypatch, capsys)
    assert rc == 1
    assert len(out) == 7
    assert out[0]["platform"] == "reddit" and out[6]["platform"] == "discord"
    for row in out[1:6]:
        assert row == {"platform": None, "posts": []}
    for lineno, word in ((2, "not JSON"), (3, "url"), (4, "not a JSON object"), (5, "body_b64"), (6, "headers")):
        assert f"<stdin>:{lineno}: " in err and word in err


def test_body_errors_are_reported_but_line_is_valid(monkeypatch, capsys):
    bad = {**REDDIT, "headers": {"content-type": "application/json"}, "url": "https://discord.com/api/v9/channels/1/messages",
           "body": "{broken"}
    rc, out, err = run_main(lines_in(bad), monkeypatch, capsys, "--errors")
    assert rc == 0
    assert out == [{"platform": "discord", "posts": [], "error": "malformed_json", "skipped": None}]
    assert "<stdin>:1: body not read: malformed_json" in err


def test_help_says_lines_stay_aligned(capsys):
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    assert "aligned" in capsys.readouterr().out


def test_file_argument_and_all_fixtures_through_the_cli(tmp_path, monkeypatch, capsys):
    rows = [row for _, row in load_fixtures() if "request" in row]
    src = tmp_path / "requests.jsonl"
    src.write_text(lines_in(*[r["request"] for r in rows]), encoding="utf-8")
    rc = main(["extract", str(src)])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and len(out) == len(rows)
    for row, got in zip(rows, out):
        assert got["platform"] == row["platform"], row["name"]
        texts = {(p["kind"], p["text"]) for p in got["posts"]}
        assert {(e["kind"], e["text"]) for e in row["expect"]} <= texts, row["name"]


@pytest.mark.e2e
def test_subprocess_contract(tmp_path):
    exe = Path(sys.executable).with_name("crossingguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "agent.cli"]
    stdin = lines_in(REDDIT, "{oops", GZ_DISCORD)
    proc = subprocess.run([*cmd, "extract", "--home", str(tmp_path)], input=stdin.encode(), capture_output=True,
                          timeout=60)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert proc.returncode == 1
    assert [o["platform"] for o in out] == ["reddit", None, "discord"]
    assert out[2]["posts"][0]["text"] == "café 😀"
    assert "<stdin>:2:" in proc.stderr.decode()


@pytest.mark.e2e
def test_subprocess_invalid_utf8_line_fails_alone(tmp_path):
    exe = Path(sys.executable).with_name("crossingguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "agent.cli"]
    stdin = lines_in(REDDIT).encode() + b'{"method": "POST", "url": "https://x.com/\xff\xfe", "body": "a"}\n' + \
        lines_in(REDDIT).encode()
    proc = subprocess.run([*cmd, "extract"], input=stdin, capture_output=True, timeout=60)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(out) == 3 and out[0]["platform"] == "reddit" and out[2]["platform"] == "reddit"
    assert out[1]["posts"] == []


def test_missing_input_file_is_a_clear_error(tmp_path, capsys):
    rc = main(["extract", str(tmp_path / "nope.jsonl")])
    assert rc != 0
    assert "nope.jsonl" in capsys.readouterr().err


def test_policy_catalog_extension_is_honoured(tmp_path, monkeypatch, capsys):
    shipped = Path(__file__).resolve().parents[2] / "agent" / "policies" / "ensatsd.yaml"
    policy = tmp_path / "policy.yaml"
    policy.write_text(shipped.read_text(encoding="utf-8") +
                      "\ncatalog:\n  platforms:\n    myforum:\n      name: My forum\n      category: forum\n"
                      "      domains: [myforum.example]\n", encoding="utf-8")
    forum = {"method": "POST", "url": "https://www.myforum.example/api/posts",
             "headers": {"content-type": "application/json"}, "body": json.dumps({"body": "hello forum friends"})}
    rc, out, _ = run_main(lines_in(forum, REDDIT), monkeypatch, capsys, "--policy", str(policy))
    assert rc == 0
    assert out[0] == {"platform": "myforum", "posts": [{"kind": "post", "text": "hello forum friends", "account": None,
                                                       "target": None, "attachments": []}]}
    assert out[1]["platform"] == "reddit"
    rc, out, _ = run_main(lines_in(forum), monkeypatch, capsys)          # shipped catalog: not a platform
    assert out == [{"platform": None, "posts": []}]
