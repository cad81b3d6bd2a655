"""Read rendered Terraform with python-hcl2 and evaluate its naming expressions in Python.

Only what names and their variables' validations are built from is understood: string
templates, ``var.*``, ``local.*``, ``each.key``/``each.value``, ``count.index``, literals, lists,
objects, ``for`` expressions, indexing and attributes, arithmetic, comparisons, ``&&``/``||``,
conditionals, and a few functions (``substr``, ``trimsuffix``, ``regex``, ``can``, ``range``,
``flatten``…). Anything else (another resource's attributes, a data source whose shape AWS does
not fix) raises ``Unsupported``, so an expression this cannot follow is reported rather than
guessed.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2


class Unsupported(Exception):
    """An expression outside the subset above."""


class EvaluationError(Exception):
    """What Terraform itself would fail on (``regex`` without a match): ``can`` catches it."""


@dataclass(frozen=True)
class Resource:
    type: str
    label: str
    body: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Configuration:
    """Compared and hashed by identity: one rendering, loaded once."""

    variables: dict[str, dict[str, Any]]
    locals: dict[str, Any]
    resources: list[Resource]


def load(folder: Path) -> Configuration:
    variables: dict[str, dict[str, Any]] = {}
    local_values: dict[str, Any] = {}
    resources: list[Resource] = []
    for path in sorted(folder.glob("*.tf")):
        with path.open(encoding="utf-8") as file:
            data = hcl2.load(file)
        for block in data.get("variable", []):
            for name, body in block.items():
                variables[_unquote(name)] = body
        for block in data.get("locals", []):
            local_values.update({k: v for k, v in block.items() if not k.startswith("__")})
        for block in data.get("resource", []):
            for kind, labelled in block.items():
                for label, body in labelled.items():
                    resources.append(Resource(_unquote(kind), _unquote(label), body))
    return Configuration(variables, local_values, resources)


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def attributes(body: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every attribute in a block, nested blocks included (``tags`` as a map)."""
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if isinstance(value, dict) and not value.get("__is_block__"):
            for tag in value:
                yield (*path, key, tag)
        elif isinstance(value, dict):
            yield from attributes(value, (*path, key))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, nested in enumerate(value):
                yield from attributes(nested, (*path, key, str(index)))
        else:
            yield (*path, key)


def lookup(body: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = body
    for part in path:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


Scope = Mapping[str, Any]
"""Names an expression can see besides ``var``/``local``: ``each``, ``count``, loop variables."""

Compiled = Callable[["Evaluator", Scope], Any]


class Evaluator:
    def __init__(self, configuration: Configuration, overrides: Mapping[str, Any]) -> None:
        self.configuration = configuration
        self.overrides = dict(overrides)
        self._locals: dict[str, Any] = {}

    def variable(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        block = self.configuration.variables.get(name)
        if block is None or "default" not in block:
            raise Unsupported(f"var.{name} has no value")
        return self.value(block["default"])

    def local(self, name: str) -> Any:
        if name not in self.configuration.locals:
            raise Unsupported(f"local.{name} is not defined")
        if name not in self._locals:
            self._locals[name] = self.value(self.configuration.locals[name])
        return self._locals[name]

    def value(self, raw: Any, scope: Scope | None = None) -> Any:
        """Evaluate one attribute as python-hcl2 gives it; ``scope`` holds ``each`` or
        ``count`` for one instance of a resource (see ``instances``)."""
        if raw is None or isinstance(raw, bool | int | float):
            return raw
        if isinstance(raw, list):
            return [self.value(item, scope) for item in raw]
        if not isinstance(raw, str):
            raise Unsupported(repr(raw))
        return _compile(raw)(self, scope or {})

    def instances(self, body: Mapping[str, Any], raw: Any) -> list[Scope]:
        """The scopes ``raw`` is evaluated in: one per instance when it names ``each`` or
        ``count``, else one."""
        text = str(raw)
        if re.search(r"\beach\.", text) and "for_each" in body:
            collection = self.value(body["for_each"])
            pairs = (
                collection.items() if isinstance(collection, dict) else ((k, k) for k in collection)
            )
            return [{"each": {"key": str(key), "value": value}} for key, value in pairs]
        if re.search(r"\bcount\.index\b", text) and "count" in body:
            return [{"count": {"index": index}} for index in range(self.value(body["count"]))]
        return [{}]


@functools.cache
def _compile(raw: str) -> Compiled:
    parser = _Parser(raw)
    if raw.startswith('"'):
        compiled = parser.template()
    elif raw.startswith("${") and raw.endswith("}"):
        parser.position = 2
        compiled = parser.expression()
        parser.expect("}")
    else:
        raise Unsupported(raw)
    parser.expect_end()
    return compiled


def _substr(text: str, offset: int, length: int) -> str:
    return text[offset:] if length == -1 else text[offset : offset + length]


def _regex(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise EvaluationError(f"{pattern!r} does not match {text!r}")
    return match.group(0)


def _flatten(items: list[Any]) -> list[Any]:
    return [
        leaf for item in items for leaf in (_flatten(item) if isinstance(item, list) else [item])
    ]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


KNOWN_DATA = {"data.aws_caller_identity.current.account_id": "123456789012"}
"""Data sources whose shape AWS fixes: an account id is always twelve digits."""

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "substr": _substr,
    "trimsuffix": lambda text, suffix: text.removesuffix(suffix),
    "trimprefix": lambda text, prefix: text.removeprefix(prefix),
    "lower": str.lower,
    "replace": lambda text, old, new: text.replace(old, new),
    "length": len,
    "regex": _regex,
    "toset": lambda items: list(dict.fromkeys(items)),
    "coalesce": lambda *values: next(v for v in values if v not in (None, "")),
    "range": lambda *bounds: list(range(*(int(b) for b in bounds))),
    "flatten": _flatten,
    "concat": lambda *lists: [item for items in lists for item in items],
    "values": lambda mapping: [mapping[key] for key in sorted(mapping)],
    "keys": sorted,
    "join": lambda separator, items: separator.join(items),
    "split": lambda separator, text: text.split(separator),
    "floor": math.floor,
    "ceil": math.ceil,
    "min": min,
    "max": max,
}

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "||": lambda a, b: a or b,
    "&&": lambda a, b: a and b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "+": lambda a, b: _number(a + b),
    "-": lambda a, b: _number(a - b),
    "*": lambda a, b: _number(a * b),
    "/": lambda a, b: _number(a / b),
    "%": lambda a, b: _number(a % b),
}
_PRECEDENCE = (("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"))
"""Binary operators, loosest first, as HCL binds them (longer tokens before their prefixes)."""

_NAME = re.compile(r"[A-Za-z_][\w-]*")
_LITERALS = {"true": True, "false": False, "null": None}


def _text(value: Any) -> str:
    """A value interpolated into a string, as Terraform writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise Unsupported(f"interpolating {value!r}")


def _attribute(value: Any, name: str) -> Any:
    if not isinstance(value, dict) or name not in value:
        raise Unsupported(f"attribute {name} of {value!r}")
    return value[name]


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, list):
        return value[int(key)]
    if isinstance(value, dict):
        return value[str(key)]
    raise Unsupported(f"indexing {value!r}")


class _Parser:
    """Compiles one expression into a function of the evaluator and a scope, so the body of a
    ``for`` expression is parsed once and evaluated per element."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def peek(self, count: int = 1) -> str:
        return self.text[self.position : self.position + count]

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.position += 1

    def expect(self, token: str) -> None:
        self.skip_space()
        if self.peek(len(token)) != token:
            raise Unsupported(f"expected {token!r} at {self.position} in {self.text!r}")
        self.position += len(token)

    def expect_end(self) -> None:
        self.skip_space()
        if self.position != len(self.text):
            raise Unsupported(f"cannot follow {self.text[self.position :]!r} in {self.text!r}")

    def keyword(self, word: str) -> bool:
        """Consume ``word`` if it comes next as a whole word."""
        self.skip_space()
        match = _NAME.match(self.text, self.position)
        if match is None or match.group(0) != word:
            return False
        self.position = match.end()
        return True

    def name(self) -> str:
        self.skip_space()
        match = _NAME.match(self.text, self.position)
        if match is None:
            raise Unsupported(f"expected a name at {self.position} in {self.text!r}")
        self.position = match.end()
        return match.group(0)

    def template(self) -> Compiled:
        self.expect('"')
        parts: list[str | Compiled] = []
        while True:
            if self.position >= len(self.text):
                raise Unsupported(f"unterminated string in {self.text!r}")
            if self.peek(3) in ("$${", "%%{"):
                parts.append(self.peek(3)[1:])
                self.position += 3
            elif self.peek(2) == "%{":
                raise Unsupported(f"template directive in {self.text!r}")
            elif self.peek(2) == "${":
                self.position += 2
                parts.append(self.expression())
                self.expect("}")
            elif self.peek() == "\\":
                escaped = self.text[self.position + 1]
                parts.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
                self.position += 2
            elif self.peek() == '"':
                self.position += 1
                return lambda ev, scope: "".join(
                    part if isinstance(part, str) else _text(part(ev, scope)) for part in parts
                )
            else:
                parts.append(self.peek())
                self.position += 1

    def expression(self) -> Compiled:
        condition = self.binary(0)
        self.skip_space()
        if self.peek() != "?":
            return condition
        self.position += 1
        then = self.expression()
        self.expect(":")
        otherwise = self.expression()
        return lambda ev, scope: then(ev, scope) if condition(ev, scope) else otherwise(ev, scope)

    def binary(self, level: int) -> Compiled:
        if level == len(_PRECEDENCE):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            self.skip_space()
            token = next((t for t in _PRECEDENCE[level] if self.peek(len(t)) == t), None)
            if token is None or self.peek(2) == "=>":
                return left
            self.position += len(token)
            left = _apply(_OPERATORS[token], left, self.binary(level + 1))

    def unary(self) -> Compiled:
        self.skip_space()
        if self.peek() == "!":
            self.position += 1
            operand = self.unary()
            return lambda ev, scope: not operand(ev, scope)
        if self.peek() == "-":
            self.position += 1
            operand = self.unary()
            return lambda ev, scope: -operand(ev, scope)
        return self.postfix(self.primary())

    def postfix(self, value: Compiled) -> Compiled:
        """``.name`` and ``[key]`` right after a value."""
        while True:
            if self.peek() == "." and _NAME.match(self.text, self.position + 1):
                self.position += 1
                value = _apply(_attribute, value, _constant(self.name()))
            elif self.peek() == "[" and self.peek(2) != "[*":
                self.position += 1
                key = self.expression()
                self.expect("]")
                value = _apply(_index, value, key)
            else:
                return value

    def primary(self) -> Compiled:
        self.skip_space()
        char = self.peek()
        if char == '"':
            return self.template()
        if char in "([{":
            return self.bracketed(char)
        if char.isdigit():
            match = re.compile(r"\d+(?:\.\d+)?").match(self.text, self.position)
            assert match is not None
            self.position = match.end()
            return _constant(_number(float(match.group(0))))
        name = self.name()
        if name in _LITERALS:
            return _constant(_LITERALS[name])
        return self.call(name) if self.peek() == "(" else self.reference(name)

    def bracketed(self, opening: str) -> Compiled:
        self.position += 1
        if opening == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        closing = "]" if opening == "[" else "}"
        if self.keyword("for"):
            return self.for_expression(closing)
        return self.tuple() if opening == "[" else self.object()

    def tuple(self) -> Compiled:
        items = self.items("]")
        return lambda ev, scope: [item(ev, scope) for item in items]

    def items(self, closing: str) -> list[Compiled]:
        items: list[Compiled] = []
        self.skip_space()
        while self.peek() != closing:
            items.append(self.expression())
            self.skip_space()
            if self.peek() == ",":
                self.position += 1
                self.skip_space()
        self.expect(closing)
        return items

    def object(self) -> Compiled:
        entries: list[tuple[Compiled, Compiled]] = []
        self.skip_space()
        while self.peek() != "}":
            key = self.template() if self.peek() == '"' else _constant(self.name())
            self.skip_space()
            if self.peek() not in ("=", ":"):
                raise Unsupported(f"expected = at {self.position} in {self.text!r}")
            self.position += 1
            entries.append((key, self.expression()))
            self.skip_space()
            if self.peek() == ",":
                self.position += 1
                self.skip_space()
        self.expect("}")
        return lambda ev, scope: {k(ev, scope): v(ev, scope) for k, v in entries}

    def for_expression(self, closing: str) -> Compiled:
        """``[for k, v in xs : v if c]`` and ``{for k, v in xs : k => v if c}``."""
        names = [self.name()]
        self.skip_space()
        if self.peek() == ",":
            self.position += 1
            names.append(self.name())
        if not self.keyword("in"):
            raise Unsupported(f"expected in at {self.position} in {self.text!r}")
        collection = self.expression()
        self.expect(":")
        key = self.expression() if closing == "}" else None
        if key is not None:
            self.expect("=>")
        value = self.expression()
        if self.peek(3) == "...":
            raise Unsupported(f"grouping in {self.text!r}")
        condition = self.expression() if self.keyword("if") else None
        self.expect(closing)

        def run(ev: Evaluator, scope: Scope) -> Any:
            items = collection(ev, scope)
            pairs = sorted(items.items()) if isinstance(items, dict) else list(enumerate(items))
            scopes = [
                {**scope, **dict(zip(names, (k, v) if len(names) == 2 else (v,), strict=True))}
                for k, v in pairs
            ]
            kept = [inner for inner in scopes if condition is None or condition(ev, inner)]
            if key is None:
                return [value(ev, inner) for inner in kept]
            return {_text(key(ev, inner)): value(ev, inner) for inner in kept}

        return run

    def call(self, name: str) -> Compiled:
        self.expect("(")
        if name == "can":
            argument = self.expression()
            self.expect(")")
            return lambda ev, scope: _succeeds(argument, ev, scope)
        if name not in FUNCTIONS:
            raise Unsupported(f"function {name}() in {self.text!r}")
        arguments = self.items(")")
        function = FUNCTIONS[name]
        return lambda ev, scope: function(*(argument(ev, scope) for argument in arguments))

    def reference(self, root: str) -> Compiled:
        """A name: a loop variable, ``each``/``count``, ``var.x``, ``local.x`` or known data;
        attributes and indexes after it are the postfix's."""
        if root in ("var", "local"):
            self.expect(".")
            name = self.name()
            if root == "var":
                return lambda ev, scope: ev.variable(name)
            return lambda ev, scope: ev.local(name)
        if root == "data":
            start = self.position
            while self.peek() == "." and _NAME.match(self.text, self.position + 1):
                self.position += 1
                self.name()
            full = root + self.text[start : self.position]
            if full not in KNOWN_DATA:
                raise Unsupported(f"{full} in {self.text!r}")
            return _constant(KNOWN_DATA[full])

        def bound(ev: Evaluator, scope: Scope) -> Any:
            if root not in scope:
                raise Unsupported(f"{root} in {self.text!r}")
            return scope[root]

        return bound


def _constant(value: Any) -> Compiled:
    return lambda ev, scope: value


def _apply(operation: Callable[[Any, Any], Any], left: Compiled, right: Compiled) -> Compiled:
    return lambda ev, scope: operation(left(ev, scope), right(ev, scope))


def _succeeds(argument: Compiled, ev: Evaluator, scope: Scope) -> bool:
    try:
        argument(ev, scope)
    except EvaluationError:
        return False
    return True
