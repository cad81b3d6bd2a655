"""Read rendered Terraform with python-hcl2 and evaluate its naming expressions in Python.

Only what names are built from is understood: string templates, ``var.*``, ``local.*``,
``each.key``, literals, lists, and a few functions (``substr``, ``trimsuffix``, ``regex``,
``can``…). Anything else raises ``Unsupported``, so an expression this cannot follow is reported
rather than guessed.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Configuration:
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


class Evaluator:
    def __init__(self, configuration: Configuration, overrides: Mapping[str, Any]) -> None:
        self.configuration = configuration
        self.overrides = dict(overrides)

    def variable(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        block = self.configuration.variables.get(name)
        if block is None or "default" not in block:
            raise Unsupported(f"var.{name} has no value")
        return self.value(block["default"])

    def value(self, raw: Any, each_key: str | None = None) -> Any:
        """Evaluate one attribute as python-hcl2 gives it."""
        if isinstance(raw, bool | int | float):
            return raw
        if isinstance(raw, list):
            return [self.value(item, each_key) for item in raw]
        if not isinstance(raw, str):
            raise Unsupported(repr(raw))
        parser = _Parser(raw, self, each_key)
        if raw.startswith('"'):
            result: Any = parser.string()
        elif raw.startswith("${") and raw.endswith("}"):
            parser.position = 2
            result = parser.expression()
            parser.expect("}")
        else:
            raise Unsupported(raw)
        parser.expect_end()
        return result


def _substr(text: str, offset: int, length: int) -> str:
    return text[offset:] if length == -1 else text[offset : offset + length]


def _regex(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise EvaluationError(f"{pattern!r} does not match {text!r}")
    return match.group(0)


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
}


class _Parser:
    def __init__(self, text: str, evaluator: Evaluator, each_key: str | None) -> None:
        self.text = text
        self.position = 0
        self.evaluator = evaluator
        self.each_key = each_key

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

    def string(self) -> str:
        self.expect('"')
        parts: list[str] = []
        while True:
            if self.position >= len(self.text):
                raise Unsupported(f"unterminated string in {self.text!r}")
            if self.peek(3) == "$${":
                parts.append("${")
                self.position += 3
            elif self.peek(2) == "${":
                self.position += 2
                parts.append(str(self.expression()))
                self.expect("}")
            elif self.peek() == "\\":
                escaped = self.text[self.position + 1]
                parts.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
                self.position += 2
            elif self.peek() == '"':
                self.position += 1
                return "".join(parts)
            else:
                parts.append(self.peek())
                self.position += 1

    def expression(self) -> Any:
        self.skip_space()
        char = self.peek()
        if char == '"':
            return self.string()
        if char == "[":
            return self.sequence("[", "]")
        if char == "-" or char.isdigit():
            match = re.compile(r"-?\d+").match(self.text, self.position)
            assert match is not None
            self.position = match.end()
            return int(match.group(0))
        match = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*").match(self.text, self.position)
        if match is None:
            raise Unsupported(f"cannot follow {self.text[self.position :]!r} in {self.text!r}")
        self.position = match.end()
        name = match.group(0)
        if self.peek() == "(":
            return self.call(name)
        return self.reference(name)

    def sequence(self, opening: str, closing: str) -> list[Any]:
        self.expect(opening)
        items: list[Any] = []
        self.skip_space()
        while self.peek() != closing:
            items.append(self.expression())
            self.skip_space()
            if self.peek() == ",":
                self.position += 1
                self.skip_space()
        self.expect(closing)
        return items

    def call(self, name: str) -> Any:
        if name == "can":
            self.expect("(")
            try:
                self.expression()
            except EvaluationError:
                self.expect_call_end()
                return False
            self.expect(")")
            return True
        if name not in FUNCTIONS:
            raise Unsupported(f"function {name}() in {self.text!r}")
        return FUNCTIONS[name](*self.sequence("(", ")"))

    def expect_call_end(self) -> None:
        """After a failed argument of can(): skip to its closing parenthesis."""
        depth = 1
        while depth:
            char = self.peek()
            if not char:
                raise Unsupported(f"unbalanced parentheses in {self.text!r}")
            depth += {"(": 1, ")": -1}.get(char, 0)
            self.position += 1

    def reference(self, name: str) -> Any:
        root, _, rest = name.partition(".")
        if self.peek() == "[":
            raise Unsupported(f"indexing {name} in {self.text!r}")
        if root == "var":
            return self.evaluator.variable(rest)
        if root == "local" and rest in self.evaluator.configuration.locals:
            return self.evaluator.value(self.evaluator.configuration.locals[rest])
        if name in {"each.key", "each.value"} and self.each_key is not None:
            return self.each_key
        if name in KNOWN_DATA:
            return KNOWN_DATA[name]
        raise Unsupported(f"{name} in {self.text!r}")
