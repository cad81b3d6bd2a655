"""Every bad input: one line on stderr, exit code 2, and the disk exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from scaffold.names import MAX_LENGTH, MIN_LENGTH
from tests.support.cli import refused, run_cli
from tests.support.disk import snapshot


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1abc", "invalid project name '1abc': start with a lowercase letter"),
        ("my service", "invalid project name 'my service'"),
        ("class", "it is a Python keyword"),
        ("../x", "a name, not a path"),
        ("", "it is empty"),
        ("a" * 200, f"longer than {MAX_LENGTH} characters"),
        ("p", f"shorter than {MIN_LENGTH} characters"),
        ("paiement-é", "ASCII letters"),
        ("redis", "it would shadow the module 'redis', which the service installs from redis"),
        ("starlette", "it would shadow the module 'starlette'"),
        ("user", "a reserved word of PostgreSQL"),
        ("internal-api", "AWS load balancer names cannot start with 'internal-'"),
    ],
)
def test_invalid_project_names(name: str, message: str) -> None:
    refused(run_cli("new", name, "--yes"), message)


def test_target_exists_and_is_not_empty(workdir: Path) -> None:
    (workdir / "demo").mkdir()
    (workdir / "demo" / "notes.txt").write_text("mine")
    before = snapshot(workdir)
    refused(run_cli("new", "demo", "--yes"), "already exists and is not empty")
    assert snapshot(workdir) == before


@pytest.mark.usefixtures("unchanged")
def test_unknown_capability_suggests_nearest() -> None:
    refused(
        run_cli("new", "demo", "--with", "cachin"),
        "unknown capability 'cachin'; did you mean 'caching'?",
    )


@pytest.mark.usefixtures("unchanged")
def test_forbidden_combination_names_the_rule() -> None:
    refused(
        run_cli("new", "demo", "--with", "multitenancy", "--without", "auth"),
        "multitenancy requires auth, which was excluded with --without auth",
    )


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("spelling", ["{name}", "{name},{name}"])
def test_the_same_capability_with_and_without(spelling: str) -> None:
    name = CATALOG.available[0].name
    refused(
        run_cli("new", "demo", "--with", spelling.format(name=name), "--without", name),
        f"{name} is in both --with and --without; keep one of them",
    )


@pytest.mark.usefixtures("unchanged")
def test_a_variant_choice_with_and_its_capability_without() -> None:
    [(capability, variant), *_] = list(CATALOG.variants())
    refused(
        run_cli("new", "demo", "--with", variant.choices[0], "--without", capability.name),
        f"{capability.name} is in both --with and --without",
    )


@pytest.mark.usefixtures("unchanged")
def test_unknown_preset() -> None:
    refused(
        run_cli("new", "demo", "--preset", "everything"),
        "unknown preset 'everything'; known presets: minimal, full",
    )


@pytest.mark.usefixtures("unchanged")
def test_bad_variant_value() -> None:
    refused(
        run_cli("new", "demo", "--with", "messaging", "--broker", "nats"),
        "--broker must be one of kafka, rabbitmq",
    )


def test_malformed_answers_file(workdir: Path) -> None:
    answers = workdir / "answers.yml"
    answers.write_text("caching: [true\n")
    before = snapshot(workdir)
    refused(run_cli("new", "demo", "--answers-file", str(answers)), "malformed YAML")
    assert snapshot(workdir) == before


def test_answers_file_with_unknown_question(workdir: Path) -> None:
    answers = workdir / "answers.yml"
    answers.write_text("cachng: true\n")
    before = snapshot(workdir)
    refused(run_cli("new", "demo", "--answers-file", str(answers)), "did you mean 'caching'")
    assert snapshot(workdir) == before


def test_unreadable_answers_file(workdir: Path) -> None:
    folder = workdir / "answers.yml"
    folder.mkdir()  # unreadable as a file, even for root
    before = snapshot(workdir)
    refused(run_cli("new", "demo", "--answers-file", str(folder)), "it is a folder")
    refused(run_cli("new", "demo", "--answers-file", "missing.yml"), "no such file")
    assert snapshot(workdir) == before


def test_output_folder_under_a_file(workdir: Path) -> None:
    (workdir / "plain").write_text("not a folder")
    before = snapshot(workdir)
    refused(run_cli("new", "demo", "--yes", "--output-dir", "plain/sub"), "is a file")
    assert snapshot(workdir) == before


@pytest.mark.usefixtures("unchanged")
def test_output_folder_on_a_read_only_filesystem() -> None:
    refused(
        run_cli("new", "demo", "--yes", "--output-dir", "/proc/scaffold"), "cannot write into /proc"
    )


@pytest.mark.usefixtures("unchanged")
def test_template_that_is_not_a_template(workdir: Path) -> None:
    refused(run_cli("new", "demo", "--yes", "--template", str(workdir)), "has no copier.yml")


def test_broken_template_leaves_nothing(workdir: Path, tmp_path: Path) -> None:
    template = tmp_path / "broken"
    (template / "project").mkdir(parents=True)
    (template / "copier.yml").write_text("_subdirectory: project\nproject_name: {type: str}\n")
    (template / "project" / "ok.txt").write_text("fine")
    (template / "project" / "bad.txt.jinja").write_text("{% if %}")
    before = snapshot(workdir)
    refused(
        run_cli("new", "demo", "--yes", "--template", str(template)),
        "the template could not be rendered",
    )
    assert snapshot(workdir) == before
