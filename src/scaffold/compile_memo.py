"""Compile each Jinja source once per process, however many renders use it.

Copier makes a new Jinja environment for every render and compiles every template anew in it:
each file, and each part of each path (`{% if auth %}cognito.tf{% endif %}` is a template too),
about 2,500 compilations per render of this template, two thirds of its time. The result of a
compilation is a Python code object that depends only on the source, its names and the
environment's syntax and configuration, not on the values rendered; so a process that renders
many times (`scaffold update` renders two trees, the test harness hundreds) can reuse it. Only
compilations of source text by environments of the same configuration share an entry; anything
else compiles as Jinja would.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

import jinja2

LIMIT = 20_000
"""Entries kept (least recently used go first): a few renders' worth of distinct sources."""

_compiled: OrderedDict[Hashable, CodeType] = OrderedDict()


def configuration(environment: jinja2.Environment) -> Hashable:
    """What a compilation depends on besides the source: syntax, whitespace handling, the
    extensions, the code generator and the names of filters and tests (checked when
    compiling)."""
    return (
        type(environment), environment.code_generator_class, environment.block_start_string,
        environment.block_end_string, environment.variable_start_string,
        environment.variable_end_string, environment.comment_start_string,
        environment.comment_end_string, environment.line_statement_prefix,
        environment.line_comment_prefix, environment.trim_blocks, environment.lstrip_blocks,
        environment.newline_sequence, environment.keep_trailing_newline,
        tuple(sorted(environment.extensions)), environment.optimized, environment.is_async,
        environment.autoescape if isinstance(environment.autoescape, bool) else None,
        frozenset(environment.filters), frozenset(environment.tests),
    )  # fmt: skip


@contextmanager
def compiled_once() -> Iterator[None]:
    """While inside, Jinja environments reuse the code of sources they compiled before."""
    original = jinja2.Environment.compile

    def compile_memoised(
        self: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if raw:
            return original(self, source, name, filename, raw=True, defer_init=defer_init)
        if not isinstance(source, str) or not isinstance(self.autoescape, bool):
            return original(self, source, name, filename, defer_init=defer_init)
        key = (configuration(self), source, name, filename, defer_init)
        found = _compiled.get(key)
        if found is None:
            found = original(self, source, name, filename, defer_init=defer_init)
            _compiled[key] = found
            if len(_compiled) > LIMIT:
                _compiled.popitem(last=False)
        else:
            _compiled.move_to_end(key)
        return found

    jinja2.Environment.compile = compile_memoised  # type: ignore[method-assign]
    try:
        yield
    finally:
        jinja2.Environment.compile = original  # type: ignore[method-assign]
