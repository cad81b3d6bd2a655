"""Jinja compilations are shared between renders only where Jinja would compile the same code."""

from __future__ import annotations

import contextlib
from pathlib import Path

import jinja2
import pytest

from scaffold import compile_memo
from scaffold.compile_memo import compiled_once
from tests.support.disk import snapshot
from tests.support.render import render


def test_the_same_source_in_a_new_environment_reuses_the_code() -> None:
    with compiled_once():
        first = jinja2.Environment().compile("{{ a }}-{% if b %}x{% endif %}", name="t")
        again = jinja2.Environment().compile("{{ a }}-{% if b %}x{% endif %}", name="t")
        other_name = jinja2.Environment().compile("{{ a }}-{% if b %}x{% endif %}", name="u")

    assert again is first
    assert other_name is not first


def test_another_syntax_or_whitespace_handling_compiles_anew() -> None:
    source = "<% if a %>{{ a }}<% endif %>\n  {% if a %}x{% endif %}"
    with compiled_once():
        plain = jinja2.Environment().compile(source)
        angled = jinja2.Environment(block_start_string="<%", block_end_string="%>")
        trimmed = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
        codes = [plain, angled.compile(source), trimmed.compile(source)]

        rendered = [
            environment.from_string(source).render(a="1")
            for environment in (jinja2.Environment(), angled, trimmed)
        ]

    assert rendered == [
        "<% if a %>1<% endif %>\n  x",
        "1\n  {% if a %}x{% endif %}",
        "<% if a %>1<% endif %>\nx",
    ]
    assert len({id(code) for code in codes}) == 3


def test_a_filter_missing_from_one_environment_still_fails_there() -> None:
    source = "{{ a | shout }}"
    with compiled_once():
        loud = jinja2.Environment()
        loud.filters["shout"] = str.upper
        assert loud.from_string(source).render(a="hi") == "HI"
        with pytest.raises(jinja2.TemplateAssertionError, match="shout"):
            jinja2.Environment().compile(source)


def test_a_syntax_error_is_raised_every_time() -> None:
    with compiled_once():
        for _ in range(2):
            with pytest.raises(jinja2.TemplateSyntaxError):
                jinja2.Environment().compile("{% if %}")


def test_outside_the_block_jinja_compiles_as_it_always_does() -> None:
    with compiled_once():
        inside = jinja2.Environment().compile("{{ z }}")
    assert jinja2.Environment().compile("{{ z }}") is not inside


def test_renders_that_share_compilations_write_what_renders_without_sharing_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = ("caching", "observability", "rate_limiting")
    with monkeypatch.context() as patched:
        patched.setattr(compile_memo, "compiled_once", contextlib.nullcontext)
        alone = render("svc", tmp_path / "alone", chosen)
    shared = [render("svc", tmp_path / f"shared-{i}", chosen) for i in range(2)]

    assert snapshot(shared[0]) == snapshot(alone)
    assert snapshot(shared[1]) == snapshot(alone)
