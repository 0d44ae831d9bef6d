"""Documents people write by hand (the inventory file, questionnaires): YAML or JSON read with
the line of every field, and every problem told as ``FILE:LINE: path.to.field: what is wrong``.

One implementation for every such format, so that a problem reads the same wherever it is
found. Pure: no Flask, no database.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

FORMATS = ("yaml", "json")
_EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}

# A location in the document: keys and list indexes from the top, e.g. ("vendors", 3, "name").
JsonPath = tuple[str | int, ...]


def format_path(path: Iterable[str | int]) -> str:
    """``("vendors", 3, "data", 0, "records")`` as ``vendors[3].data[0].records``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


@dataclass(frozen=True)
class Problem:
    """Something wrong with a document, where it is, and what to do about it."""

    path: JsonPath
    message: str
    file: str | None = None
    line: int | None = None

    @property
    def field(self) -> str | None:
        """The field concerned (the last key of the path), if any."""
        return next((part for part in reversed(self.path) if isinstance(part, str)), None)

    @property
    def where(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        if self.file is None:
            return f"{self.where}: {self.message}"
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{place}: {self.where}: {self.message}"


@dataclass(frozen=True)
class ParsedDocument:
    """A file read: its document (None when it could not be read at all), the problems found
    in it, and the line of each path."""

    name: str
    document: Any | None
    problems: tuple[Problem, ...] = ()
    lines: Mapping[JsonPath, int] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems

    def line_of(self, path: JsonPath) -> int | None:
        # A missing field has no line of its own: the nearest entry that holds it has one.
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def locate(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems with this file's name and their lines, in the order of the file."""
        located = [replace(p, file=self.name, line=self.line_of(p.path)) for p in problems]
        return sorted(located, key=lambda p: p.line or 0)


# ---- reading -------------------------------------------------------------------------------


class _Unreadable(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems


def _unreadable(message: str, line: int | None = None) -> _Unreadable:
    return _Unreadable([Problem((), message, line=line)])


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: 2.5 times faster
    """Safe YAML where dates stay text: JSON has no date type, so a YAML file and its JSON twin
    give the same document, and the schema checks dates in one way for both."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line_map(root: yaml.Node) -> dict[JsonPath, int]:
    """The line (1-based) of every path of the composed YAML tree: a field's line is its key's.

    Refuses what would make the document ambiguous or dangerous: a key given twice in one
    entry (YAML keeps the last silently) and aliases (``*name``), which repeat a subtree: a
    few lines of them expand to billions of entries for every later walk of the document.
    """
    lines: dict[JsonPath, int] = {(): root.start_mark.line + 1}
    problems: list[Problem] = []
    seen: set[int] = set()

    def walk(node: yaml.Node, path: JsonPath) -> None:
        if id(node) in seen:
            message = "aliases (*name) are not supported: write the entry out in full"
            problems.append(Problem(path, message, line=lines.get(path)))
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a complex key: construction refuses it with its own message
                key, line = key_node.value, key_node.start_mark.line + 1
                if key in first_lines:
                    problems.append(
                        Problem(
                            (*path, key),
                            f"given twice in this entry (first on line {first_lines[key]})",
                            line=line,
                        )
                    )
                    continue
                first_lines[key] = lines[(*path, key)] = line
                walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index))

    walk(root, ())
    if problems:
        raise _Unreadable(problems)
    return lines


def _compose(text: str, what: str) -> tuple[_Loader, yaml.Node]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        loader.dispose()
        mark = exc.problem_mark or exc.context_mark
        raise _unreadable(f"not valid {what}: {exc.problem}", mark and mark.line + 1) from None
    except yaml.YAMLError as exc:
        loader.dispose()
        raise _unreadable(f"not valid {what}: {exc}") from None
    if node is None:
        loader.dispose()
        raise _unreadable("the file is empty")
    return loader, node


def _parse_yaml(text: str) -> tuple[Any, dict[JsonPath, int]]:
    loader, node = _compose(text, "YAML")
    try:
        lines = _line_map(node)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _unreadable(f"not valid YAML: {exc.problem}", mark and mark.line + 1) from None
    finally:
        loader.dispose()


def _parse_json(text: str) -> tuple[Any, dict[JsonPath, int]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _unreadable(f"not valid JSON: {exc.msg}", exc.lineno) from None
    # The values come from the JSON parser (YAML 1.1 reads 1e5 as text); the lines come from
    # the YAML composer, since JSON is YAML. Tabs, allowed between JSON tokens but not as
    # YAML indentation, never occur inside a JSON string, so they can become spaces.
    try:
        loader, node = _compose(text.replace("\t", " "), "JSON")
    except _Unreadable:
        return document, {}  # best effort: problems are then shown without a line
    try:
        return document, _line_map(node)
    finally:
        loader.dispose()


_PARSERS = {"yaml": _parse_yaml, "json": _parse_json}


def format_of(name: str | os.PathLike | None, text: str = "") -> str:
    """The format a file is in: from its extension, else from its first character."""
    if name is not None:
        found = _EXTENSIONS.get(Path(name).suffix.lower())
        if found:
            return found
    return "json" if text.lstrip()[:1] in ("{", "[") else "yaml"


def parse_document(text: str, *, name: str, fmt: str | None = None) -> ParsedDocument:
    """YAML or JSON text as a document with the line of each path, or the reason it cannot be
    read. Checks nothing of its content: that is the format's schema's work."""
    fmt = fmt or format_of(name, text)
    try:
        document, lines = _PARSERS[fmt](text)
    except _Unreadable as exc:
        return ParsedDocument(name, None, tuple(replace(p, file=name) for p in exc.problems))
    except RecursionError:
        return ParsedDocument(name, None, (Problem((), "nested too deeply", file=name),))
    return ParsedDocument(name, document, (), lines)


def read_document(
    path: str | os.PathLike, *, max_bytes: int, fmt: str | None = None
) -> ParsedDocument:
    """Read and parse a file (see :func:`parse_document`), refusing one larger than
    ``max_bytes``: a bigger file is a mistake, or an attack on the parser."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        return ParsedDocument(name, None, (Problem((), f"cannot read: {exc.strerror}", name),))
    return parse_bytes(raw, name=name, max_bytes=max_bytes, fmt=fmt)


def parse_bytes(raw: bytes, *, name: str, max_bytes: int, fmt: str | None = None) -> ParsedDocument:
    """The bytes of a file (read from disk, or uploaded) parsed as :func:`parse_document` does,
    refusing more than ``max_bytes`` and text that is not UTF-8 (with the line it stops at)."""
    if len(raw) > max_bytes:
        mb = 1024 * 1024
        size = f"{max_bytes // mb} MB" if max_bytes >= mb else f"{max_bytes} bytes"
        message = f"larger than {size}: split it into several files"
        return ParsedDocument(name, None, (Problem((), message, name),))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ParsedDocument(name, None, (Problem((), "not UTF-8 text", name, line),))
    return parse_document(text, name=name, fmt=fmt or format_of(name, text))


# ---- writing -------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Dates unquoted (the loader reads them back as text anyway), multi-line text as
    literal blocks, list items indented, and never an alias (the loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write them by hand.
        super().increase_indent(flow, False)


_Dumper.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(document: Mapping[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


# ---- dates ---------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def parse_date(text: str) -> date:
    """A calendar date written YYYY-MM-DD; ValueError otherwise."""
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 date and time with its zone, as an aware UTC datetime; ValueError otherwise."""
    if not _TIMESTAMP.fullmatch(text):
        raise ValueError(text)
    return datetime.fromisoformat(text).astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---- schemas -------------------------------------------------------------------------------

# Only the formats checked here, strictly: jsonschema's own accept what Python's parsers do.
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(parse_date(value))


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_timestamp(value: object) -> bool:
    return not isinstance(value, str) or bool(parse_timestamp(value))


def _inline_refs(node: Any, definitions: Mapping[str, Any], inlining: frozenset[str]) -> Any:
    """``node`` with each ``{"$ref": "#/$defs/x"}`` replaced by its definition, except where
    the definition contains itself (a recursive one stays a reference)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in inlining:
                return node
            return _inline_refs(definitions[name], definitions, inlining | {name})
        return {k: _inline_refs(v, definitions, inlining) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, definitions, inlining) for item in node]
    return node


def compile_schema(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A validator for a JSON Schema whose references are inlined: resolving references is
    most of the validation time of a large file. ``$defs`` stays, for recursive ones."""
    definitions = schema.get("$defs", {})
    inlined = {
        key: value if key == "$defs" else _inline_refs(value, definitions, frozenset())
        for key, value in schema.items()
    }
    return Draft202012Validator(inlined, format_checker=FORMAT_CHECKER)


def show(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: short, and in the file's own spelling."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return repr(text)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value)


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping (field: value)",
    "null": "nothing (null)",
}
_FORMAT_WORDS = {
    "date": "a date like 2024-03-31",
    "date-time": "a date and time with its zone, like 2024-03-31T09:30:00Z",
}
# YAML 1.1 reads these unquoted words as true or false, a surprise where text is expected.
_YAML_BOOLEAN_HINT = ' (in YAML, write "yes", "no", "on" or "off" in quotes to mean the text)'


def _path(error: ValidationError) -> JsonPath:
    return tuple(error.absolute_path)


def _wrong_type(error: ValidationError) -> Iterator[Problem]:
    expected = error.validator_value
    expected = expected if isinstance(expected, list) else [expected]
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
    hint = _YAML_BOOLEAN_HINT if isinstance(error.instance, bool) and "string" in expected else ""
    yield Problem(_path(error), f"expected {words}, not {show(error.instance)}{hint}")


def _not_in_enum(error: ValidationError) -> Iterator[Problem]:
    choices = ", ".join(str(v) for v in error.validator_value)
    yield Problem(_path(error), f"expected one of {choices}, not {show(error.instance)}")


def _not_const(error: ValidationError) -> Iterator[Problem]:
    yield Problem(_path(error), f"expected {show(error.validator_value)}")


def _missing(error: ValidationError) -> Iterator[Problem]:
    for name in error.validator_value:
        if name not in error.instance:
            yield Problem((*_path(error), name), "required, but missing")


def _unknown_fields(error: ValidationError) -> Iterator[Problem]:
    known = list(error.schema.get("properties", {}))
    for name in error.instance:
        if name in known:
            continue
        guess = get_close_matches(str(name), known, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"expected one of {', '.join(known)}"
        yield Problem((*_path(error), str(name)), f"unknown field {show(name)}: {hint}")


def _needs_together(error: ValidationError) -> Iterator[Problem]:
    for name, needed in error.validator_value.items():
        if name in error.instance:
            for other in needed:
                if other not in error.instance:
                    yield Problem((*_path(error), other), f"required with {name!r}, but missing")


def _too_small(error: ValidationError) -> Iterator[Problem]:
    yield Problem(_path(error), f"must be {error.validator_value} or more, not {error.instance}")


def _too_large(error: ValidationError) -> Iterator[Problem]:
    yield Problem(_path(error), f"must be at most {error.validator_value}, not {error.instance}")


def _too_short(error: ValidationError) -> Iterator[Problem]:
    yield Problem(_path(error), "must not be empty")


def _too_long(error: ValidationError) -> Iterator[Problem]:
    yield Problem(
        _path(error),
        f"must be at most {error.validator_value} characters (this is {len(error.instance)})",
    )


def _too_few(error: ValidationError) -> Iterator[Problem]:
    count = error.validator_value
    yield Problem(_path(error), f"needs at least {count} entr{'y' if count == 1 else 'ies'}")


def _repeated(error: ValidationError) -> Iterator[Problem]:
    yield Problem(_path(error), "lists the same entry twice")


def _no_match(error: ValidationError) -> Iterator[Problem]:
    # A schema says in words what its pattern means with "x-expected"; a regex is no message.
    described = error.schema.get("x-expected", f"text matching {error.validator_value}")
    yield Problem(_path(error), f"expected {described}, not {show(error.instance)}")


def _bad_format(error: ValidationError) -> Iterator[Problem]:
    words = _FORMAT_WORDS.get(error.validator_value, error.validator_value)
    yield Problem(_path(error), f"expected {words}, not {show(error.instance)}")


def _alternatives(error: ValidationError) -> Iterator[Problem]:
    """``oneOf``/``anyOf``: when each choice is a set of required fields (a form told apart
    by its key), say which keys; else the best-matching error of the choices."""
    choices = error.validator_value
    keys = [c.get("required") for c in choices if isinstance(c, dict) and set(c) == {"required"}]
    if len(keys) == len(choices) and all(len(k) == 1 for k in keys):
        if not isinstance(error.instance, dict):
            return  # not a mapping at all: the type error says so
        names = [k[0] for k in keys]
        given = [name for name in names if name in error.instance]
        if error.validator == "oneOf" and len(given) > 1:
            message = f"has the fields {', '.join(given)}: give only one of them"
        else:
            message = f"needs one of the fields {', '.join(names)}"
        yield Problem(_path(error), message)
        return
    nested = sorted(error.context or (), key=lambda e: -len(e.absolute_path))
    if not nested:
        yield Problem(_path(error), error.message)
        return
    yield from explain(nested[0])


def _as_is(error: ValidationError) -> Iterator[Problem]:
    yield Problem(_path(error), error.message)


# How each kind of schema error reads for a person, by the JSON Schema keyword that failed.
_EXPLAIN = {
    "type": _wrong_type,
    "enum": _not_in_enum,
    "const": _not_const,
    "required": _missing,
    "dependentRequired": _needs_together,
    "additionalProperties": _unknown_fields,
    "minimum": _too_small,
    "maximum": _too_large,
    "minLength": _too_short,
    "maxLength": _too_long,
    "minItems": _too_few,
    "uniqueItems": _repeated,
    "pattern": _no_match,
    "format": _bad_format,
    "oneOf": _alternatives,
    "anyOf": _alternatives,
}


def explain(error: ValidationError) -> Iterator[Problem]:
    """One schema error in plain words, at its path."""
    return _EXPLAIN.get(str(error.validator), _as_is)(error)


def schema_problems(validator: Draft202012Validator, document: Any) -> list[Problem]:
    """Every way the document departs from the validator's schema, in plain words."""
    return [problem for error in validator.iter_errors(document) for problem in explain(error)]
