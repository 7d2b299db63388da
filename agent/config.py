"""YAML loading that keeps line numbers, and a small schema validator.

Every mistake in a configuration file must come back to the person who made it as
`FILE:LINE: KEY: what was expected` (agent.errors.ConfigError), so this module never
hands out plain dicts straight from PyYAML: it composes the node tree (which carries
marks), converts it into `YMap` / `YList` (dict / list subclasses that remember the
line of every key and item), and the schema classes below check those values and
return the same shapes with the lines kept, so later cross-reference checks (an
unknown cohort named by a rule, say) can still point at the right line.

Scalars are resolved with a deliberately small YAML 1.2-like set of implicit types:
`true`/`false` only (not yes/no/on/off), decimal integers, plain floats, `null`/`~`.
PyYAML's YAML 1.1 resolver would turn an unquoted `15:30` into the sexagesimal
integer 930 and `no` into False; in a policy file full of times and short words that
is a trap, so everything else stays a string.
"""
from __future__ import annotations

import difflib
import re
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import yaml

from agent.errors import ConfigError, ConfigErrors

__all__ = [
    "YMap", "YList", "load_yaml", "load_yaml_text", "line_of",
    "Schema", "Any_", "Str", "Int", "Bool", "Enum", "ListOf", "MapOf", "Record", "Field",
    "OneOrList", "Nullable", "suggest", "collecting", "report", "raise_collected",
]


# --------------------------------------------------------------------------- every error in one run
# By default the first mistake raises (ConfigError). Inside `collecting()`, the containers
# (Record, MapOf, ListOf) record a child's mistake, drop that child and go on, so one run reports
# every mistake; cross-reference checks call `report()` the same way. The caller then raises
# them all at once (`raise_collected`). A value with mistakes is never returned as valid: a
# Record with a bad field is itself dropped by its parent (its errors are already recorded).
_collector: ContextVar[list | None] = ContextVar("crossingguard_config_errors", default=None)


class _Invalid(Exception):
    """A value whose mistakes were recorded in the collector; its container drops it."""


@contextmanager
def collecting() -> Iterator[list[ConfigError]]:
    errors: list[ConfigError] = []
    token = _collector.set(errors)
    try:
        yield errors
    finally:
        _collector.reset(token)


def report(error: ConfigError) -> None:
    """Record a mistake when collecting; raise it otherwise."""
    errors = _collector.get()
    if errors is None:
        raise error
    errors.append(error)


def raise_collected(errors: list[ConfigError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def _checked(schema: "Schema", value: Any, file: str, path: str, line: int | None) -> Any:
    """schema.check(...), or (collecting) record its mistake and raise _Invalid."""
    try:
        return schema.check(value, file, path, line)
    except ConfigError as exc:
        errors = _collector.get()
        if errors is None:
            raise
        errors.append(exc)
        raise _Invalid() from None


# --------------------------------------------------------------------------- loading

class _Loader(yaml.SafeLoader):
    """SafeLoader with a small, predictable set of implicit scalar types."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"), list("-+0123456789."))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class YMap(dict):
    """A mapping that remembers where it and each of its keys were written."""

    def __init__(self, *args, line: int | None = None, lines: dict | None = None, **kw):
        super().__init__(*args, **kw)
        self.line = line
        self.lines: dict[Any, int] = dict(lines or {})
        self.failed: set = set()   # keys whose values had mistakes (collected and left out)

    def line_of(self, key) -> int | None:
        return self.lines.get(key, self.line)


class YList(list):
    """A list that remembers where it and each of its items were written."""

    def __init__(self, *args, line: int | None = None, lines: list | None = None):
        super().__init__(*args)
        self.line = line
        self.lines: list[int] = list(lines or [])
        self.indices: list[int] = []   # each item's position in the file's list (items with mistakes left out)

    def line_of(self, index: int) -> int | None:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line

    def index_in_file(self, index: int) -> int:
        return self.indices[index] if 0 <= index < len(self.indices) else index


def line_of(container, key) -> int | None:
    fn = getattr(container, "line_of", None)
    return fn(key) if fn else None


def load_yaml(path: str | Path) -> Any:
    """Read and convert a YAML file; every problem is a located ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "(file)", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, "(file)", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(path), None, "(file)", f"cannot read: {exc.strerror or exc}") from None
    return load_yaml_text(text, str(path))


def load_yaml_text(text: str, file: str) -> Any:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError(file, line, "(syntax)", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # e.g. more than one document
        raise ConfigError(file, None, "(syntax)", f"invalid YAML: {exc}") from None
    if node is None:
        raise ConfigError(file, 1, "(file)", "the file is empty; expected a mapping of settings")
    return _convert(node, file, _Loader(""), "", [MAX_NODES])


# A policy or catalog is a few thousand values. YAML aliases (`*name`) repeat the node they point
# to, so nested aliases expand exponentially ("billion laughs": 443 bytes -> 4 GB and a minute of
# CPU before this bound). Every value converted counts, aliased ones each time they are repeated,
# and past the bound the file is refused with the line where it happened. A recursive alias
# (`&a [*a]`) hits the same bound instead of Python's recursion limit.
MAX_NODES = 100_000


MAX_DEPTH = 100


def _convert(node: yaml.Node, file: str, constructor: yaml.SafeLoader, path: str, budget: list,
             depth: int = 0) -> Any:
    line = node.start_mark.line + 1
    if depth > MAX_DEPTH:
        raise ConfigError(file, line, path or "(document)",
                          f"nested more than {MAX_DEPTH} levels deep (a recursive YAML alias?)")
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError(file, line, path or "(document)",
                          f"the file expands to more than {MAX_NODES} values (YAML aliases repeat what they "
                          "point to); write the values out instead of nesting aliases")
    if isinstance(node, yaml.MappingNode):
        out = YMap(line=line)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(file, key_node.start_mark.line + 1, path or "(document)",
                                  "expected a plain key (a word), got a nested mapping or list as a key")
            # `<<` merge keys are not resolved (not in our implicit types): a `<<` key
            # reaches the schema as an ordinary unknown key and is reported there.
            key = constructor.construct_object(key_node, deep=True)
            if key is None:
                key = ""
            key = str(key) if not isinstance(key, str) else key
            key_path = _join(path, key)
            key_line = key_node.start_mark.line + 1
            if key in out:
                raise ConfigError(file, key_line, key_path,
                                  f"duplicate key (first written on line {out.lines[key]})")
            out[key] = _convert(value_node, file, constructor, key_path, budget, depth + 1)
            out.lines[key] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        out = YList(line=line)
        for i, item in enumerate(node.value):
            out.append(_convert(item, file, constructor, f"{path}[{i}]", budget, depth + 1))
            out.lines.append(item.start_mark.line + 1)
        return out
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise ConfigError(file, line, path or "(document)", f"bad value: {exc}") from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --------------------------------------------------------------------------- schema

def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' when one known word is close, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class Schema:
    """check(value, file, path, line) -> the validated value, or raise ConfigError."""

    def check(self, value: Any, file: str, path: str, line: int | None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def fail(self, file: str, path: str, line: int | None, message: str):
        raise ConfigError(file, line, path or "(document)", message)


class Any_(Schema):
    def check(self, value, file, path, line):
        return value


class Nullable(Schema):
    def __init__(self, inner: Schema):
        self.inner = inner

    def check(self, value, file, path, line):
        return None if value is None else self.inner.check(value, file, path, line)


class Str(Schema):
    """A string; optionally matching a regex, non-empty, or passing a custom check.

    `validate(value) -> str | None` returns an error message (what was expected).
    """

    def __init__(self, *, pattern: str | None = None, what: str | None = None, allow_empty: bool = False,
                 validate: Callable[[str], str | None] | None = None, lower: bool = False):
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what or "a string"
        self.allow_empty = allow_empty
        self.validate = validate
        self.lower = lower

    def check(self, value, file, path, line):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value is None:
            self.fail(file, path, line, f"expected {self.what}; got {_type_name(value)}")
        if not isinstance(value, str):
            # A bare number where text is expected (a grade "9", a clause id) is fine as text,
            # but only when no pattern says otherwise.
            value = str(value)
        if self.lower:
            value = value.lower()
        if not value.strip() and not self.allow_empty:
            self.fail(file, path, line, f"expected {self.what}; got an empty string")
        if self.pattern and not self.pattern.fullmatch(value):
            self.fail(file, path, line, f"expected {self.what}; got {value!r}")
        if self.validate:
            problem = self.validate(value)
            if problem:
                self.fail(file, path, line, problem)
        return value


class Int(Schema):
    def __init__(self, *, min: int | None = None, max: int | None = None, what: str | None = None):
        self.min, self.max = min, max
        if what is None:
            if min is not None and max is not None:
                what = f"a whole number from {min} to {max}"
            elif min is not None:
                what = "a whole number of at least %d" % min
            else:
                what = "a whole number"
        self.what = what

    def check(self, value, file, path, line):
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(file, path, line, f"expected {self.what}; got {_type_name(value)}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            self.fail(file, path, line, f"expected {self.what}; got {value}")
        return value


class Bool(Schema):
    def check(self, value, file, path, line):
        if not isinstance(value, bool):
            self.fail(file, path, line, f"expected true or false; got {_type_name(value)}")
        return value


class Enum(Schema):
    def __init__(self, *choices: str):
        self.choices = tuple(choices)

    def check(self, value, file, path, line):
        if not isinstance(value, str) or value not in self.choices:
            got = repr(value) if isinstance(value, str) else _type_name(value)
            hint = suggest(value, self.choices) if isinstance(value, str) else ""
            self.fail(file, path, line, f"expected one of {', '.join(self.choices)}; got {got}{hint}")
        return value


class ListOf(Schema):
    """A list. When collecting, an item with a mistake makes the whole list invalid (its other
    items are still checked and reported), unless `keep_going` (independent entries such as
    rules): then the item is left out and the rest is kept for the checks that follow."""

    def __init__(self, item: Schema, *, min_items: int = 0, unique: bool = False, what: str = "a list",
                 keep_going: bool = False):
        self.item, self.min_items, self.unique, self.what = item, min_items, unique, what
        self.keep_going = keep_going

    def check(self, value, file, path, line):
        if not isinstance(value, list):
            self.fail(file, path, line, f"expected {self.what}; got {_type_name(value)}")
        if len(value) < self.min_items:
            self.fail(file, path, line, f"expected {self.what} with at least {self.min_items} item(s); got {len(value)}")
        out = YList(line=getattr(value, "line", line))
        seen: dict[Any, int] = {}
        bad = False
        for i, item in enumerate(value):
            item_line = line_of(value, i) or line
            try:
                checked = _checked(self.item, item, file, f"{path}[{i}]", item_line)
            except _Invalid:
                bad = True
                continue   # recorded; the other items are still checked
            if self.unique:
                try:
                    if checked in seen:
                        report(ConfigError(file, item_line, f"{path}[{i}]",
                                           f"{checked!r} is listed twice (also item {seen[checked]})"))
                        bad = True
                        continue
                    seen[checked] = i
                except TypeError:
                    pass
            out.append(checked)
            out.lines.append(item_line)
            out.indices.append(i)
        if bad and not self.keep_going:
            raise _Invalid()
        return out


class OneOrList(ListOf):
    """A single item or a list of them; always returns a list."""

    def check(self, value, file, path, line):
        if not isinstance(value, list):
            single = YList([value], line=line, lines=[line])
            return super().check(single, file, path, line)
        return super().check(value, file, path, line)


class MapOf(Schema):
    """A mapping from names (checked by `key`) to values (checked by `value`)."""

    def __init__(self, value: Schema, *, key: Schema | None = None, what: str = "a mapping", min_items: int = 0):
        self.value, self.key, self.what, self.min_items = value, key or Str(), what, min_items

    def check(self, value, file, path, line):
        if not isinstance(value, dict):
            self.fail(file, path, line, f"expected {self.what}; got {_type_name(value)}")
        if len(value) < self.min_items:
            self.fail(file, path, line, f"expected {self.what} with at least {self.min_items} entr(y/ies); got none")
        out = YMap(line=getattr(value, "line", line))
        for k, v in value.items():
            k_line = line_of(value, k) or line
            try:
                k2 = _checked(self.key, k, file, _join(path, str(k)), k_line)
                out[k2] = _checked(self.value, v, file, _join(path, str(k)), k_line)
            except _Invalid:
                out.failed.add(k)   # recorded; references to this name are not errors again
                continue
            out.lines[k2] = k_line
        return out


class Field:
    def __init__(self, schema: Schema, *, required: bool = False, default: Any = None):
        self.schema, self.required, self.default = schema, required, default


class Record(Schema):
    """A mapping with a fixed set of keys. Unknown keys are errors, with a suggestion.

    `partial=True` (the top of a file): a field with mistakes becomes None and its name goes in
    `out.failed`, so the checks that follow still see the rest; otherwise a Record with a bad
    field is dropped by its container when collecting (module note above)."""

    def __init__(self, fields: Mapping[str, Field], *, what: str = "a mapping", partial: bool = False):
        self.fields = dict(fields)
        self.what = what
        self.partial = partial

    def check(self, value, file, path, line):
        if not isinstance(value, dict):
            self.fail(file, path, line, f"expected {self.what}; got {_type_name(value)}")
        map_line = getattr(value, "line", line)
        bad = False
        meant: set[str] = set()   # fields an unknown key looks like a misspelling of
        for k in value:
            if k not in self.fields:
                known = ", ".join(self.fields)
                meant.update(difflib.get_close_matches(str(k), list(self.fields), n=1, cutoff=0.6))
                report(ConfigError(file, line_of(value, k) or line, _join(path, str(k)) or "(document)",
                                   f"unknown key{suggest(k, self.fields)}; expected one of {known}"))
                bad = True
        out = YMap(line=map_line)
        for name, field in self.fields.items():
            if name in value:
                k_line = line_of(value, name) or line
                try:
                    out[name] = _checked(field.schema, value[name], file, _join(path, name), k_line)
                except _Invalid:
                    out[name] = None
                    out.failed.add(name)
                    bad = True
                out.lines[name] = k_line
            elif field.required:
                if name not in meant:   # `actoin: block` is one mistake (the unknown key), not two
                    report(ConfigError(file, map_line, _join(path, name) or "(document)", "required key is missing"))
                out[name] = None
                out.failed.add(name)
                bad = True
            else:
                out[name] = field.default() if callable(field.default) else field.default
        if bad and not self.partial:
            raise _Invalid()
        return out
