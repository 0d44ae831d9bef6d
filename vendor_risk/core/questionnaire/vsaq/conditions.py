"""Conditions: VSAQ's `cond` read by a tokenizer and a recursive-descent parser, then resolved
through the VSAQ ids into our `all`/`any`/`not` structure, `^id` expanded with its growth
bounded (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .items import _Item, _Target
from .limits import _MAX_CONDITION_DEPTH, _MAX_EXPANSION_NESTING, MAX_CONDITION_TESTS

Condition = dict[str, Any]


class _ConditionError(Exception):
    """A `cond` that cannot be read or has no equivalent in our format."""


@dataclass(frozen=True)
class _Token:
    kind: str  # name, string, &&, ||, !, (, ), ",", end
    text: str
    at: int


@dataclass(frozen=True)
class _Name:
    text: str


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _And:
    operands: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    operands: tuple[_Node, ...]


_Node = _Name | _Not | _And | _Or

# As in VSAQ: a name runs until white space or one of these characters.
_NAME_END = frozenset('()!&|,"')


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch.isspace():
            i += 1
        elif ch in "&|":
            if expression[i + 1 : i + 2] != ch:
                raise _ConditionError(f'a single "{ch}" at position {i + 1}; write "{ch * 2}"')
            tokens.append(_Token(ch * 2, ch * 2, i))
            i += 2
        elif ch in "!(),":
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif ch == '"':
            end = i + 1
            while end < n and expression[end] != '"':
                end += 2 if expression[end] == "\\" else 1
            if end >= n:
                raise _ConditionError(f"a string at position {i + 1} is never closed")
            tokens.append(_Token("string", expression[i : end + 1], i))
            i = end + 1
        else:
            end = i
            while end < n and expression[end] not in _NAME_END and not expression[end].isspace():
                end += 1
            tokens.append(_Token("name", expression[i:end], i))
            i = end
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    """Recursive descent over: or := and ("||" and)*; and := not ("&&" not)*;
    not := "!" not | "(" or ")" | name."""

    def __init__(self, expression: str) -> None:
        self.tokens = _tokenize(expression)
        self.position = 0

    def parse(self) -> _Node:
        node = self.disjunction(0)
        token = self.peek()
        if token.kind != "end":
            raise _ConditionError(f'unexpected "{token.text}" at position {token.at + 1}')
        return node

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def disjunction(self, depth: int) -> _Node:
        first, _ = self.conjunction(depth)
        operands = [first]
        while self.peek().kind == "||":
            self.take()
            operand, is_bare_conjunction = self.conjunction(depth)
            if is_bare_conjunction:
                # VSAQ folds left to right: "a || b && c" is "(a || b) && c" there.
                raise _ConditionError(
                    '"&&" after "||" without parentheses: VSAQ reads "a || b && c" as '
                    '"(a || b) && c", most readers as "a || (b && c)"; add parentheses'
                )
            operands.append(operand)
        return first if len(operands) == 1 else _Or(tuple(operands))

    def conjunction(self, depth: int) -> tuple[_Node, bool]:
        operands = [self.negation(depth)]
        while self.peek().kind == "&&":
            self.take()
            operands.append(self.negation(depth))
        if len(operands) == 1:
            return operands[0], False
        return _And(tuple(operands)), True

    def negation(self, depth: int) -> _Node:
        if depth > _MAX_CONDITION_DEPTH:
            raise _ConditionError(f"nested deeper than {_MAX_CONDITION_DEPTH} levels")
        token = self.take()
        if token.kind == "!":
            return _Not(self.negation(depth + 1))
        if token.kind == "(":
            node = self.disjunction(depth + 1)
            closing = self.take()
            if closing.kind != ")":
                raise _ConditionError(f'"(" at position {token.at + 1} is never closed')
            return node
        if token.kind == "name":
            if self.peek().kind == "(":
                raise _ConditionError(f'the function "{token.text}" has no equivalent')
            return _Name(token.text)
        if token.kind == "string":
            raise _ConditionError("quoted strings belong to functions, which have no equivalent")
        if token.kind == "end":
            raise _ConditionError("the expression ends where a name was expected")
        raise _ConditionError(f'unexpected "{token.text}" at position {token.at + 1}')


def _excerpt(expression: str, limit: int = 100) -> str:
    return expression if len(expression) <= limit else expression[: limit - 1] + "…"


def _equals(question: str, value: str) -> Condition:
    return {"question": question, "equals": value}


def _negate(condition: Condition) -> Condition:
    return condition["not"] if set(condition) == {"not"} else {"not": condition}


def _joined(kind: str, conditions: list[Condition]) -> Condition:
    """`all` or `any` of the conditions, with nested ones of the same kind merged in."""
    flat: list[Condition] = []
    for condition in conditions:
        flat.extend(condition[kind] if set(condition) == {kind} else [condition])
    return flat[0] if len(flat) == 1 else {kind: flat}


def _questions_in(condition: Condition) -> Iterator[str]:
    if "question" in condition:
        yield condition["question"]
    for kind in ("all", "any"):
        for member in condition.get(kind, []):
            yield from _questions_in(member)
    if "not" in condition:
        yield from _questions_in(condition["not"])


@dataclass(frozen=True)
class _Resolved:
    condition: Condition
    references: tuple[tuple[str, str], ...]  # (name in the expression, our question id)


@dataclass(frozen=True)
class _Built:
    """A condition under construction, with what bounds it: the number of tests it holds and
    how deep it nests (each `^id` copies conditions, so these are counted as it grows, before
    anything is copied). `condition` is True or False while it is a constant: `^id` of an
    item that is always shown is true, and constants are folded away as parts are joined."""

    condition: Condition | bool
    tests: int = 0
    depth: int = 0
    references: tuple[tuple[str, str], ...] = ()
    expanded: bool = False  # holds an `^id`: the bounds apply (the parser bounds the rest)


_TRUE, _FALSE = _Built(True), _Built(False)


def _kind(condition: Condition | bool) -> str | None:
    """`all`, `any` or `not` for such a condition, else None."""
    if isinstance(condition, dict) and len(condition) == 1:
        (key,) = condition
        return key if key in ("all", "any", "not") else None
    return None


def _check_size(tests: int, depth: int, expanded: bool) -> None:
    if not expanded:
        return
    if tests > MAX_CONDITION_TESTS:
        raise _ConditionError(
            f"more than {MAX_CONDITION_TESTS} tests once ^ is expanded (each ^id repeats the "
            "conditions of the item and of the blocks around it); shorten the chain of ^"
        )
    if depth > _MAX_CONDITION_DEPTH:
        raise _ConditionError(
            f"nested deeper than {_MAX_CONDITION_DEPTH} levels once ^ is expanded; shorten the "
            "chain of ^"
        )


def _combined(kind: str, parts: list[_Built]) -> _Built:
    """`all` or `any` of the parts, constants folded, nested ones of the same kind merged."""
    absorbing = kind == "any"  # True decides an `any`, False an `all`
    kept = []
    for part in parts:
        if part.condition is absorbing:
            return _TRUE if absorbing else _FALSE
        if part.condition is not (not absorbing):
            kept.append(part)
    if not kept:
        return _FALSE if absorbing else _TRUE
    if len(kept) == 1:
        return kept[0]
    depth = 1 + max(p.depth - (_kind(p.condition) == kind) for p in kept)
    tests = sum(p.tests for p in kept)
    expanded = any(p.expanded for p in kept)
    _check_size(tests, depth, expanded)  # before anything is copied
    condition = _joined(kind, [p.condition for p in kept])  # type: ignore[misc]
    references = tuple(reference for p in kept for reference in p.references)
    return _Built(condition, tests, depth, references, expanded)


def _negated(built: _Built) -> _Built:
    if isinstance(built.condition, bool):
        return _TRUE if built.condition is False else _FALSE
    depth = built.depth - 1 if _kind(built.condition) == "not" else built.depth + 1
    _check_size(built.tests, depth, built.expanded)
    return _Built(_negate(built.condition), built.tests, depth, built.references, built.expanded)


class _Cycle(Exception):
    """The visibility of `item` depends on itself, through the `^id` names `through`."""

    def __init__(self, item: _Item, through: list[str]) -> None:
        super().__init__(
            f'its visibility depends on itself: "{item.label}" reads {", then ".join(through)}, '
            f'which leads back to "{item.label}"'
        )
        self.item = item


class _Dependent(Exception):
    """A condition needs another that was refused (and reported there): refused as well,
    without a second message."""


class _Resolver:
    """Turns a parsed `cond` into our condition structure, through the VSAQ ids; `^id` is
    expanded by `visibility` (given by the writer, which knows every item's condition)."""

    def __init__(
        self, targets: dict[str, _Target], visibility: Callable[[_Item, _Item, str], _Built]
    ) -> None:
        self.targets = targets
        self.visibility = visibility
        self.nesting = 0

    def resolve(self, expression: str, reader: _Item) -> tuple[_Built | None, list[str]]:
        """The condition of `reader`, or the problems that stop it. Raises `_Cycle` when an
        `^id` leads back to an item whose condition is being resolved."""
        try:
            tree = _Parser(expression).parse()
        except _ConditionError as error:
            return None, [str(error)]
        errors: list[str] = []
        try:
            built = self.build(tree, reader, errors)
        except _ConditionError as error:  # too large: the rest is beside the point
            return None, [str(error)]
        except _Dependent:
            return None, []
        return (None, errors) if errors else (built, [])

    def build(self, node: _Node, reader: _Item, errors: list[str]) -> _Built:
        # Counted across `^id`, which resolves the conditions it names inside this one: a long
        # chain of them is refused before Python's own stack runs out.
        self.nesting += 1
        try:
            if self.nesting > _MAX_EXPANSION_NESTING:
                raise _ConditionError(
                    f"^ leads through more than {_MAX_EXPANSION_NESTING} conditions, each needing "
                    "the next; shorten the chain of ^"
                )
            return self.build_node(node, reader, errors)
        finally:
            self.nesting -= 1

    def build_node(self, node: _Node, reader: _Item, errors: list[str]) -> _Built:
        if isinstance(node, _Not):
            return _negated(self.build(node.operand, reader, errors))
        if isinstance(node, _And | _Or):
            kind = "all" if isinstance(node, _And) else "any"
            return _combined(kind, [self.build(each, reader, errors) for each in node.operands])
        try:
            if node.text.startswith("^"):
                return self.visible(node.text, reader)
            condition, question = self.reference(node.text)
        except _ConditionError as error:
            errors.append(str(error))
            return _TRUE  # a placeholder: the condition is refused
        return _Built(condition, 1, 1, ((node.text, question),))

    def visible(self, name: str, reader: _Item) -> _Built:
        """`^id`: the item is visible, its own condition and those of the blocks around it."""
        vsaq_id = name[1:]
        if not vsaq_id or "/" in vsaq_id:
            raise _ConditionError(f'"{name}": the visibility operator ^ takes an item id alone')
        target = self.targets.get(vsaq_id)
        if target is None:
            raise _ConditionError(f'"{vsaq_id}" is not the id of any item')
        if target.item is None:
            raise _ConditionError(f'"{vsaq_id}" names an item that cannot be imported')
        # A choice is visible with its group.
        return self.visibility(target.item, reader, name)

    def reference(self, name: str) -> tuple[Condition, str]:
        if name == "false":
            raise _ConditionError('the constant "false" has no equivalent')
        base, _, suffix = name.rpartition("/")
        if suffix not in ("yes", "no", "value"):
            base, suffix = name, ""
        if suffix == "value":
            raise _ConditionError(f'"{name}": /value is only used with functions')
        target = self.targets.get(base)
        if target is None:
            raise _ConditionError(f'"{base}" is not the id of any item')
        item = target.item
        if item is None:
            raise _ConditionError(f'"{base}" names an item that cannot be imported')
        if item.kind == "check" or item.is_single_check:
            condition = _equals(item.key, "yes")
            return (_negate(condition) if suffix == "no" else condition), item.key
        if target.choice is not None:
            condition = _equals(item.key, target.choice.value)
            return (_negate(condition) if suffix == "no" else condition), item.key
        if item.kind == "yesno":
            return _equals(item.key, suffix or "yes"), item.key
        if item.kind in ("radiogroup", "checkgroup") and not suffix:
            return {"question": item.key, "answered": True}, item.key
        raise _ConditionError(f'"{name}" names a {item.kind}, which has no choice to test')
