from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.answers_file import load_answers
from scaffold.errors import BadAnswersFile


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_copier_answers_and_ignores_copier_bookkeeping(tmp_path: Path) -> None:
    answers = load_answers(
        write(tmp_path, "_src_path: gh:x/y\n_commit: v1\nproject_name: demo\ndescription: Hi\n")
    )
    assert answers.text == {"project_name": "demo", "description": "Hi"}
    assert answers.capabilities == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ok: 1\na: b: c\n", "malformed YAML at line 2"),
        ("- a list\n", "expected a mapping"),
        ("cachng: true\n", "unknown question 'cachng'; did you mean 'caching'"),
        ("caching: maybe\n", "caching must be true or false"),
        ("description: 3\n", "description must be text"),
    ],
)
def test_malformed_files_say_why(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(BadAnswersFile, match=reason):
        load_answers(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadAnswersFile, match="no such file"):
        load_answers(tmp_path / "nope.yml")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "answers.yml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BadAnswersFile, match="not UTF-8"):
        load_answers(path)
