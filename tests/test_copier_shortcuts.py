"""Copier's steps that scaffold skips change nothing in what a render writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.render import render_tree
from scaffold.template_source import TemplateSource


def tiny_template(folder: Path, answers_file: str) -> TemplateSource:
    folder.mkdir()
    (folder / "copier.yml").write_text(
        f"_answers_file: {answers_file!r}\nproject_name:\n  type: str\n  default: demo\n",
        encoding="utf-8",
    )
    (folder / "{{ project_name }}.txt.jinja").write_text("{{ project_name }}\n", "utf-8")
    (folder / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml }}", encoding="utf-8"
    )
    return TemplateSource(str(folder), str(folder))


@pytest.mark.parametrize(
    ("answers_file", "expected"),
    [
        (".copier-answers.yml", ".copier-answers.yml"),
        ("answers/{{ project_name }}.yml", "answers/payments.yml"),
        ("answers/{# a comment #}plain.yml", "answers/plain.yml"),
    ],
)
def test_the_answers_file_lands_where_the_template_says(
    tmp_path: Path, answers_file: str, expected: str
) -> None:
    source = tiny_template(tmp_path / "template", answers_file)

    files = render_tree(source, tmp_path / "out", {"project_name": "payments"})

    assert files == sorted([expected, "payments.txt"])
    assert "project_name: payments" in (tmp_path / "out" / expected).read_text("utf-8")
