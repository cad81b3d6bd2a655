"""What `scaffold update` refuses: one line on stderr, exit 2, and nothing touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from tests.lifecycle.conftest import MAKEFILE_V2, Toy, append, commit_all, forget_generations, git
from tests.support.cli import refused, run_cli
from tests.support.disk import snapshot
from tests.support.toy_template import CAPABILITIES, package

TOY_FIRST, TOY_SECOND = CAPABILITIES[0], CAPABILITIES[1]


def test_not_a_git_repository(workdir: Path) -> None:
    folder = workdir / "plain"
    folder.mkdir()
    (folder / ".copier-answers.yml").write_text("_src_path: scaffold:service\n")
    before = snapshot(workdir)
    refused(run_cli("update", "-C", str(folder)), "is not inside a git repository")
    assert snapshot(workdir) == before


def test_a_missing_folder_is_not_a_git_repository(workdir: Path) -> None:
    refused(run_cli("update", "-C", str(workdir / "nowhere")), "is not inside a git repository")


def test_not_a_scaffold_project(workdir: Path) -> None:
    git(workdir, "init", "--quiet")
    before = snapshot(workdir)
    refused(run_cli("update", "-C", str(workdir)), "is not a scaffold project")
    assert snapshot(workdir) == before


ADD = [["add", c.name] for c in CATALOG.available[:1]]


@pytest.mark.parametrize("command", [["update"], ["update", "--dry-run"], *ADD])
def test_a_dirty_tree_is_refused_with_what_to_do(project: Path, command: list[str]) -> None:
    append(project / "Makefile", "# not committed\n")
    before = snapshot(project)
    outcome = run_cli(*command, "-C", str(project))
    refused(outcome, "uncommitted changes (Makefile)")
    assert "commit or stash them first" in outcome.stderr
    assert snapshot(project) == before


def test_a_staged_change_is_refused_too(project: Path) -> None:
    (project / "NEW.md").write_text("staged\n")
    git(project, "add", "NEW.md")
    before = snapshot(project)
    refused(run_cli("update", "-C", str(project)), "uncommitted changes (NEW.md)")
    assert snapshot(project) == before


def test_untracked_files_are_no_reason_to_refuse(project: Path) -> None:
    (project / "scratch.txt").write_text("mine, untracked\n")
    outcome = run_cli("update", "--to", "v2", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stderr
    assert (project / "scratch.txt").read_text() == "mine, untracked\n"


def test_a_merge_in_progress_is_refused(project: Path) -> None:
    append(project / "Makefile", "\ndeploy: ## ours\n")
    commit_all(project)
    assert run_cli("update", "--to", "v2", "-C", str(project)).exit_code == 1
    before = snapshot(project)
    outcome = run_cli("update", "-C", str(project))
    refused(outcome, "an update or a cherry-pick is in progress")
    assert "git cherry-pick --abort" in outcome.stderr
    assert snapshot(project) == before


def test_a_lost_generation_is_refused_and_can_be_rebuilt(project: Path) -> None:
    makefile = project / "Makefile"
    makefile.write_text("# ours, far from the template's change\n" + makefile.read_text())
    commit_all(project)
    forget_generations(project)
    before = snapshot(project)
    outcome = run_cli("update", "-C", str(project))
    refused(outcome, "is neither here")
    assert "scaffold update --rebuild-generation" in outcome.stderr
    assert "git push origin 'refs/scaffold/*'" in outcome.stderr
    assert snapshot(project) == before

    rebuilt = run_cli("update", "--rebuild-generation", "-C", str(project))
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "Recorded generation" in rebuilt.stdout
    assert git(project, "status", "--porcelain") == ""
    assert makefile.read_text().startswith("# ours, far from the template's change\n")

    updated = run_cli("update", "--to", "v2", "-C", str(project))
    assert updated.exit_code == 0, updated.stderr
    merged = makefile.read_text()
    assert merged.startswith("# ours, far from the template's change\n")
    assert merged.endswith(MAKEFILE_V2)


def test_rebuilding_an_available_generation_is_refused(project: Path) -> None:
    before = snapshot(project)
    refused(run_cli("update", "--rebuild-generation", "-C", str(project)), "nothing to rebuild")
    assert snapshot(project) == before


def test_to_needs_a_git_template(workdir: Path) -> None:
    assert run_cli("new", "demo", "--yes").exit_code == 0
    before = snapshot(workdir)
    refused(run_cli("update", "--to", "v2", "-C", "demo"), "--to takes a tag of a git template")
    assert snapshot(workdir) == before


def test_an_unknown_tag_is_refused(project: Path) -> None:
    before = snapshot(project)
    outcome = run_cli("update", "--to", "v9", "-C", str(project))
    refused(outcome, "the template could not be rendered")
    assert "v9" in outcome.stderr
    assert snapshot(project) == before


def test_failure_10_an_aborted_add_leaves_no_trace(toy_project: Path) -> None:
    mine = toy_project / package(TOY_FIRST) / "client.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own client, where the capability's would go\n")
    commit_all(toy_project, "my client")
    assert run_cli("add", TOY_FIRST, "-C", str(toy_project)).exit_code == 1
    git(toy_project, "cherry-pick", "--abort")

    checked = run_cli("check", "--json", "-C", str(toy_project))
    assert [p["code"] for p in json.loads(checked.stdout)["problems"]] == ["template-behind"]
    head = git(toy_project, "rev-parse", "HEAD")
    again = run_cli("update", "--to", "v1", "-C", str(toy_project))
    assert again.stdout == "Already up to date (template v1).\n"
    assert git(toy_project, "rev-parse", "HEAD") == head


@pytest.mark.parametrize(
    "command", [["update"], ["add", TOY_SECOND], ["remove", TOY_FIRST], ["check"]]
)
def test_failure_11_hand_edited_answers_are_named_one_line_each(
    toy_project: Path, command: list[str]
) -> None:
    answers = toy_project / ".copier-answers.yml"
    edited = answers.read_text().replace(f"{TOY_FIRST}: false", f"{TOY_FIRST}: 'no'")
    answers.write_text(edited + f"{TOY_FIRST[:-1]}: true\n")
    commit_all(toy_project, "hand-edited answers")
    before = snapshot(toy_project)

    outcome = run_cli(*command, "-C", str(toy_project))

    wrong_type = f".copier-answers.yml: {TOY_FIRST} must be true or false, not 'no'"
    unknown = f".copier-answers.yml: unknown question '{TOY_FIRST[:-1]}'; did you mean"
    if command == ["check"]:
        assert outcome.exit_code == 1
        assert f"answers-invalid: {wrong_type}" in outcome.stdout
        assert f"answers-invalid: {unknown}" in outcome.stdout
    else:
        assert outcome.exit_code == 2
        lines = outcome.stderr.splitlines()
        assert f"scaffold: error: {wrong_type}" in lines
        if command == ["update"]:
            assert any(line.startswith(f"scaffold: error: {unknown}") for line in lines)
    assert snapshot(toy_project) == before


@pytest.mark.parametrize("command", ["add", "remove"])
def test_failure_11_no_capability_named(toy_project: Path, command: str) -> None:
    refused(run_cli(command, "", "-C", str(toy_project)), f"name the capabilities to {command}")


def test_a_project_made_without_git_is_adopted_with_rebuild_generation(
    toy: Toy, workdir: Path
) -> None:
    made = run_cli("new", "demo", "--yes", "--no-git", "--template", str(toy.template))
    assert made.exit_code == 0, made.stderr
    project = workdir / "demo"
    git(project, "init", "--quiet", "-b", "main")
    commit_all(project, "our first commit")
    refused(run_cli("update", "-C", str(project)), "records no scaffold generation")

    rebuilt = run_cli("update", "--rebuild-generation", "-C", str(project))
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("Recorded generation ")
    assert git(project, "status", "--porcelain") == ""
    checked = run_cli("check", "-C", str(project))
    assert checked.exit_code == 0, checked.stdout
