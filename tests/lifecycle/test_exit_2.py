"""Exit 2 means nothing changed: every refusal leaves the refs, the index and the working tree
byte for byte as they were, and `--dry-run` predicts it with the same message.

Each scenario prepares a copy of the toy project and returns the command and the message.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lifecycle.conftest import (
    Toy,
    append,
    commit_all,
    forget_generations,
    git,
    recorded,
    repo_state,
)
from tests.support.cli import run_cli
from tests.support.toy_template import ADDED_IN_V2, CAPABILITIES, MAIN

FIRST, SECOND = CAPABILITIES[0], CAPABILITIES[1]
Scenario = Callable[[Path, Toy], tuple[list[str], str]]
UPDATE = ["update", "--to", "v2"]


def edit_answers(project: Path, old: str, new: str) -> None:
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(old, new))
    commit_all(project, "hand-edited answers")


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[number - 1] = text + "\n"
    path.write_text("".join(lines))


def dirty(project: Path, toy: Toy) -> tuple[list[str], str]:
    append(project / "config.ini", "not committed\n")
    return UPDATE, "uncommitted changes (config.ini)"


def staged(project: Path, toy: Toy) -> tuple[list[str], str]:
    (project / "NEW.md").write_text("staged\n")
    git(project, "add", "NEW.md")
    return UPDATE, "uncommitted changes (NEW.md)"


def merge_in_progress(project: Path, toy: Toy) -> tuple[list[str], str]:
    git(project, "switch", "--quiet", "--create", "other")
    replace_line(project / "config.ini", 1, "theirs")
    commit_all(project, "theirs")
    git(project, "switch", "--quiet", "main")
    replace_line(project / "config.ini", 1, "ours")
    commit_all(project, "ours")
    assert run_git_code(project, "merge", "other") == 1
    return UPDATE, "a merge is in progress"


def update_in_progress(project: Path, toy: Toy) -> tuple[list[str], str]:
    replace_line(project / MAIN, 6, "main line 06, ours")  # v2 changes this line too
    commit_all(project, "ours")
    assert run_cli(*UPDATE, "-C", str(project)).exit_code == 1
    return UPDATE, "an update or a cherry-pick is in progress"


def rebase_in_progress(project: Path, toy: Toy) -> tuple[list[str], str]:
    git(project, "switch", "--quiet", "--create", "other")
    replace_line(project / "config.ini", 1, "theirs")
    commit_all(project, "theirs")
    git(project, "switch", "--quiet", "main")
    replace_line(project / "config.ini", 1, "ours")
    commit_all(project, "ours")
    assert run_git_code(project, "rebase", "other") != 0
    return UPDATE, "a rebase is in progress"


def untracked_in_the_way(project: Path, toy: Toy) -> tuple[list[str], str]:
    (project / ADDED_IN_V2[0]).write_text("my own changelog, never committed\n")
    return UPDATE, f"untracked {ADDED_IN_V2[0]}"


def ignored_in_the_way(project: Path, toy: Toy) -> tuple[list[str], str]:
    with (project / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(f"{ADDED_IN_V2[1]}\n")
    (project / ADDED_IN_V2[1]).write_text("secret: hunter2\n")
    return UPDATE, f"ignored {ADDED_IN_V2[1]}"


def generation_checked_out(project: Path, toy: Toy) -> tuple[list[str], str]:
    git(project, "checkout", "--quiet", "--detach", recorded(project)[0])
    return UPDATE, "HEAD is the scaffold generation"


def not_a_boolean(project: Path, toy: Toy) -> tuple[list[str], str]:
    edit_answers(project, f"{FIRST}: false", f"{FIRST}: 'no'")
    return UPDATE, f"{FIRST} must be true or false, not 'no'"


def unknown_question(project: Path, toy: Toy) -> tuple[list[str], str]:
    edit_answers(project, "project_name:", f"{FIRST[:-1]}: true\nproject_name:")
    return ["add", SECOND], f"unknown question '{FIRST[:-1]}'; did you mean '{FIRST}'?"


def a_question_twice(project: Path, toy: Toy) -> tuple[list[str], str]:
    edit_answers(project, "project_name:", f"{FIRST}: true\nproject_name:")
    return UPDATE, f"'{FIRST}' is given twice"


def no_template_recorded(project: Path, toy: Toy) -> tuple[list[str], str]:
    answers = project / ".copier-answers.yml"
    kept = [line for line in answers.read_text().splitlines() if not line.startswith("_src_path")]
    answers.write_text("\n".join(kept) + "\n")
    commit_all(project, "lost the template")
    return UPDATE, "_src_path is missing"


def generation_unavailable(project: Path, toy: Toy) -> tuple[list[str], str]:
    forget_generations(project)
    return UPDATE, "is neither here"


def no_records(project: Path, toy: Toy) -> tuple[list[str], str]:
    git(project, "rm", "-r", "--quiet", ".scaffold")
    commit_all(project, "tidy up")
    return UPDATE, "records no scaffold generation"


def unknown_tag(project: Path, toy: Toy) -> tuple[list[str], str]:
    return ["update", "--to", "v9"], "the template could not be rendered"


def broken_template(project: Path, toy: Toy) -> tuple[list[str], str]:
    """Failure 13: a dangling symlink in the team's template."""
    template = project.parent / "broken-template"
    git(project.parent, "clone", "--quiet", str(toy.template), str(template))
    (template / "project" / "broken").symlink_to("nowhere")
    commit_all(template, "v3")
    git(template, "tag", "v3")
    edit_answers(project, str(toy.template), str(template))
    return ["update"], "the template could not be rendered: No such file or directory: "


def capability_dropped(project: Path, toy: Toy) -> tuple[list[str], str]:
    for branch, capability in (("feat-a", FIRST), ("feat-b", SECOND)):
        git(project, "switch", "--quiet", "--create", branch, "main")
        assert run_cli("add", capability, "-C", str(project)).exit_code == 0
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--quiet", "--no-edit", "feat-a")
    git(project, "merge", "--quiet", "--no-edit", "feat-b")
    edit_answers(project, f"{SECOND}: true", f"{SECOND}: false")
    return UPDATE, f"{SECOND} is false in .copier-answers.yml"


def still_imported(project: Path, toy: Toy) -> tuple[list[str], str]:
    assert run_cli("add", FIRST, "-C", str(project)).exit_code == 0
    (project / "src" / "app" / "feature.py").write_text(f"from app.{FIRST} import client\n")
    commit_all(project, "use it")
    return ["remove", FIRST], f"src/app/feature.py still imports app.{FIRST}"


SCENARIOS: list[Scenario] = [
    dirty,
    staged,
    merge_in_progress,
    update_in_progress,
    rebase_in_progress,
    untracked_in_the_way,
    ignored_in_the_way,
    generation_checked_out,
    not_a_boolean,
    unknown_question,
    a_question_twice,
    no_template_recorded,
    generation_unavailable,
    no_records,
    unknown_tag,
    broken_template,
    capability_dropped,
    still_imported,
]


def run_git_code(repo: Path, *args: str) -> int:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, check=False).returncode


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_a_refusal_changes_nothing_and_dry_run_predicts_it(
    toy_project: Path, toy: Toy, scenario: Scenario
) -> None:
    command, message = scenario(toy_project, toy)
    before = repo_state(toy_project)
    for dry_run in ([], ["--dry-run"]):
        outcome = run_cli(*command, *dry_run, "-C", str(toy_project))
        assert outcome.exit_code == 2, outcome
        assert outcome.stdout == ""
        assert message in outcome.stderr, outcome.stderr
        assert all(line.startswith("scaffold: error: ") for line in outcome.stderr.splitlines())
        assert repo_state(toy_project) == before, f"{' '.join(command + dry_run)} changed it"
