"""Reading VSAQON, VSAQ's JSON-ish source: comments dropped, `"a" + "b"` joined, `\\xHH`
escapes converted, then parsed as JSON with its lines kept (see the package docstring).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .limits import _MAX_JSON_DEPTH, MAX_BYTES, VsaqError

# Runs of characters that need no change: most of a document, consumed at once for speed.
_PLAIN_RUN = re.compile(r'[^"/\[\]{}]+')
_STRING_RUN = re.compile(r'[^"\\]+')


def _skip_blank(text: str, i: int) -> tuple[int, int]:
    """Skip whitespace and comments from `i`; return where the next token starts and how many
    line breaks were skipped (kept, so that JSON errors still point at the right line)."""
    newlines = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            newlines += ch == "\n"
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                break
            newlines += text.count("\n", i, end)
            i = end + 2
        else:
            break
    return i, newlines


def _read_string(text: str, i: int) -> tuple[str, int]:
    """Read the string literal starting at `i`; return it as JSON text and the index after it.

    `\\xHH` escapes, which JavaScript allows and JSON does not, become `\\u00HH`. An unterminated
    string is returned as it is, so that the JSON parser reports it where it starts.
    """
    parts = ['"']
    j = i + 1
    n = len(text)
    while j < n:
        run = _STRING_RUN.match(text, j)
        if run:
            parts.append(run[0])
            j = run.end()
            continue
        ch = text[j]
        if ch == "\\":
            escaped = text[j + 1 : j + 2]
            parts.append("\\u00" if escaped == "x" else "\\" + escaped)
            j += 2
        else:  # the closing quote
            parts.append('"')
            return "".join(parts), j + 1
    return "".join(parts), n


def _blank_out(chunk: str) -> str:
    """The same length of spaces, keeping line breaks: comments vanish, positions stay."""
    return "".join("\n" if ch == "\n" else " " for ch in chunk)


def _to_json(text: str, name: str) -> str:
    """Turn VSAQON into JSON: drop comments, join `"a" + "b"` and convert `\\x` escapes."""
    out: list[str] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        run = _PLAIN_RUN.match(text, i)
        if run:
            out.append(run[0])
            i = run.end()
            continue
        ch = text[i]
        if ch == '"':
            literal, i = _read_string(text, i)
            held_newlines = 0
            while True:
                plus, skipped = _skip_blank(text, i)
                if plus >= n or text[plus] != "+":
                    break
                start, skipped_after = _skip_blank(text, plus + 1)
                if start >= n or text[start] != '"':
                    break
                following, i = _read_string(text, start)
                literal = literal[:-1] + following[1:]
                held_newlines += skipped + skipped_after
            out.append(literal + "\n" * held_newlines)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(_blank_out(text[i:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise VsaqError([f"{name}:{line}: a /* comment is never closed"])
            out.append(_blank_out(text[i : end + 2]))
            i = end + 2
        else:
            if ch in "[{":
                depth += 1
                if depth > _MAX_JSON_DEPTH:
                    line = text.count("\n", 0, i) + 1
                    raise VsaqError([f"{name}:{line}: nested deeper than {_MAX_JSON_DEPTH} levels"])
            elif ch in "]}":
                depth -= 1
            out.append(ch)
            i += 1
    return "".join(out)


def _decode(text: str, name: str) -> tuple[Any, str]:
    """The document, and the JSON it was read from (its lines are those of `text`)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise VsaqError([f"{name}: {size:,} bytes, more than the {MAX_BYTES:,} allowed"])
    converted = _to_json(text.removeprefix("\ufeff"), name)
    try:
        return json.loads(converted), converted
    except json.JSONDecodeError as error:
        raise VsaqError(
            [f"{name}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"]
        ) from None
    except ValueError as error:  # a number of more than 4,300 digits
        raise VsaqError([f"{name}: not valid JSON: {error}"]) from None


def looks_like_vsaq(text: str) -> bool:
    """Whether `text` is meant as a VSAQ document rather than one of our YAML or JSON files.

    A VSAQ document with a mistake in it still counts, so that its author gets VSAQ's problems
    ("not valid JSON at line 40") instead of a YAML parser's.
    """
    try:
        document, _ = _decode(text, "<vsaq>")
    except VsaqError:
        start, _ = _skip_blank(text.removeprefix("\ufeff"), 0)
        head = text[start : start + 65536]
        return head.startswith("{") and re.search(r'"questionnaire"\s*:\s*\[', head) is not None
    return isinstance(document, dict) and isinstance(document.get("questionnaire"), list)
