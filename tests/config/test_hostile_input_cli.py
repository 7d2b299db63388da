"""Issue 11, resources, through the real CLI: a billion-laughs YAML is refused fast with FILE:LINE;
JSON-lines commands report a hostile line (200,000 nested brackets, an over-long line) with its
number and go on with the next."""
from __future__ import annotations

import json
import subprocess
import time

from tests.support import crossingguard_argv

LAUGHS = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi"))


def run(*args, stdin: str | None = None, timeout: float = 60):
    return subprocess.run(crossingguard_argv(*args), input=stdin, capture_output=True, text=True, timeout=timeout)


def test_billion_laughs_is_refused_fast_with_file_and_line(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    assert len(LAUGHS) < 500
    started = time.monotonic()
    r = run("check-config", str(path), timeout=30)
    assert r.returncode != 0
    assert time.monotonic() - started < 20
    assert f"{path}:1:" in r.stderr and "expands to more than" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_recursive_alias_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("version: 1\nrules: &r [*r]\n")
    r = run("check-config", str(path), timeout=30)
    assert r.returncode != 0 and f"{path}:2:" in r.stderr and "Traceback" not in r.stderr


def test_classify_reports_hostile_lines_and_goes_on(tmp_path):
    lines = [json.dumps({"id": 1, "text": "hello there"}), "[" * 200_000 + "]" * 200_000,
             json.dumps({"id": 2, "text": "a" * 8_100_000}), json.dumps({"id": 3, "text": "still read"})]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    r = run("classify", str(path), timeout=120)
    assert r.returncode == 1
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == [1, 3]
    assert f"{path}:2: nested too deeply" in r.stderr
    assert f"{path}:3: line longer than" in r.stderr
    assert "Traceback" not in r.stderr


def test_extract_reports_hostile_lines_and_goes_on():
    good = json.dumps({"method": "POST", "url": "https://discord.com/api/v9/channels/1/messages",
                       "headers": {"content-type": "application/json"}, "body": '{"content": "hi there"}'})
    r = run("extract", "-", stdin="\n".join([good, "{" * 200_000, good]) + "\n", timeout=120)
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 3 and out[0]["posts"] and out[2]["posts"] and not out[1]["posts"]
    assert "<stdin>:2:" in r.stderr and "Traceback" not in r.stderr
