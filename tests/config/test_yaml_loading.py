"""The YAML layer: line numbers kept, small predictable scalar types, located errors."""
from __future__ import annotations

import pytest

from agent.config import Enum, Field, Int, ListOf, MapOf, Record, Str, YList, YMap, load_yaml, load_yaml_text
from agent.errors import ConfigError


def test_lines_are_kept_for_keys_and_items():
    data = load_yaml_text("a: 1\nb:\n  - x\n  - y\nc:\n  d: true\n", "f.yaml")
    assert isinstance(data, YMap) and isinstance(data["b"], YList)
    assert data.line_of("a") == 1 and data.line_of("b") == 2 and data.line_of("c") == 5
    assert data["b"].line_of(0) == 3 and data["b"].line_of(1) == 4
    assert data["c"].line_of("d") == 6


@pytest.mark.parametrize("text,value", [
    ("v: yes", "yes"), ("v: no", "no"), ("v: on", "on"), ("v: off", "off"),
    ("v: true", True), ("v: False", False),
    ("v: 15:30", "15:30"), ("v: 08:00", "08:00"), ("v: 0755", "0755"),
    ("v: 12", 12), ("v: -3", -3), ("v: 1.5", 1.5),
    ("v: ~", None), ("v: null", None), ("v:", None),
    ("v: 2024-01-01", "2024-01-01"), ("v: '12'", "12"),
])
def test_scalar_types_are_small_and_predictable(text, value):
    assert load_yaml_text(text, "f.yaml")["v"] == value


@pytest.mark.parametrize("text,expected", [
    ("a: 1\na: 2\n", "f.yaml:2: a: duplicate key (first written on line 1)"),
    ("r:\n  - id: 1\n    id: 2\n", "f.yaml:3: r[0].id: duplicate key (first written on line 2)"),
    ("", "f.yaml:1: (file): the file is empty; expected a mapping of settings"),
    ("a: 1\n---\nb: 2\n", None),
    ("a: [1, 2\n", None),
    ("? [a, b]\n: 1\n", "f.yaml:1: (document): expected a plain key (a word), got a nested mapping or list as a key"),
])
def test_yaml_level_errors(text, expected):
    with pytest.raises(ConfigError) as info:
        load_yaml_text(text, "f.yaml")
    if expected:
        assert str(info.value) == expected
    else:
        assert info.value.key == "(syntax)" and "invalid YAML" in info.value.message


SCHEMA = Record({
    "name": Field(Str(), required=True),
    "size": Field(Int(min=0), default=3),
    "kind": Field(Enum("a", "b")),
    "tags": Field(ListOf(Str(), unique=True), default=list),
    "extra": Field(MapOf(Int())),
})


@pytest.mark.parametrize("text,expected", [
    ("name: x\nsize: -1\n", "f.yaml:2: size: expected a whole number of at least 0; got -1"),
    ("name: x\nsize: '3'\n", "f.yaml:2: size: expected a whole number of at least 0; got '3' (a string)"),
    ("name: x\nkind: c\n", "f.yaml:2: kind: expected one of a, b; got 'c'"),
    ("name: x\ntags: [p, q, p]\n", "f.yaml:2: tags[2]: 'p' is listed twice (also item 0)"),
    ("name: x\ntags: p\n", "f.yaml:2: tags: expected a list; got 'p' (a string)"),
    ("name: x\nextra:\n  k: true\n", "f.yaml:3: extra.k: expected a whole number; got true (a boolean)"),
    ("size: 1\n", "f.yaml:1: name: required key is missing"),
    ("name: [x]\n", "f.yaml:1: name: expected a string; got a list"),
    ("name: x\nnmae: y\n", "f.yaml:2: nmae: unknown key (did you mean 'name'?); expected one of name, size, kind, tags, extra"),
])
def test_schema_errors_name_key_path_and_expectation(text, expected):
    with pytest.raises(ConfigError) as info:
        SCHEMA.check(load_yaml_text(text, "f.yaml"), "f.yaml", "", 1)
    assert str(info.value) == expected


def test_schema_fills_defaults_and_keeps_lines(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\ntags: [a, b]\n", encoding="utf-8")
    out = SCHEMA.check(load_yaml(p), str(p), "", 1)
    assert out == {"name": "x", "size": 3, "kind": None, "tags": ["a", "b"], "extra": None}
    assert out.line_of("tags") == 2 and out["tags"].line_of(1) == 2


def test_non_utf8_file_is_located(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(p)
    assert str(info.value).startswith(f"{p}: (file): not UTF-8 text")
