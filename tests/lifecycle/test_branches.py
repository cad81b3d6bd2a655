"""Feature branches, merged every way a team merges them: nothing a branch did is lost.

Each test names the failure of issue 9 it covers; all drive real git and the real CLI.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.lifecycle.conftest import append, commit_all, git, recorded, worktree
from tests.support.cli import Outcome, refused, run_cli
from tests.support.toy_template import CAPABILITIES, MAIN, package

FIRST, SECOND = CAPABILITIES[0], CAPABILITIES[1]


def answers(project: Path) -> dict[str, object]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def scaffold(project: Path, *args: str) -> Outcome:
    return run_cli(*args, "-C", str(project))


def ok(outcome: Outcome) -> Outcome:
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    return outcome


def git_status_code(repo: Path, *args: str) -> int:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, check=False).returncode


def same_files(first: Path, second: Path) -> None:
    """Both projects hold the same files, scaffold's records aside (their commits differ)."""

    def files(root: Path) -> dict[str, str]:
        return {k: v for k, v in worktree(root).items() if not k.startswith(".scaffold")}

    assert files(first) == files(second)


def branch_edits(project: Path, branch: str) -> None:
    """A user's own change on a branch: a module of their own, and (on feat-a) a line in the
    README, which the template also changes on both branches."""
    if branch == "feat-a":
        append(project / "README.md", "\nNotes from feat-a.\n")
    (project / "src" / f"{branch.replace('-', '_')}.py").write_text(f"NAME = {branch!r}\n")
    commit_all(project, f"work on {branch}")


def two_feature_branches(project: Path) -> None:
    """feat-a adds the first capability, feat-b the second; each also has its own edits."""
    for branch, capability in (("feat-a", FIRST), ("feat-b", SECOND)):
        git(project, "switch", "--quiet", "--create", branch, "main")
        ok(scaffold(project, "add", capability))
        branch_edits(project, branch)
    git(project, "switch", "--quiet", "main")


def reference_with_both(project: Path, reference: Path) -> None:
    """The same edits on one branch, then `scaffold add` of both capabilities at once."""
    for branch in ("feat-a", "feat-b"):
        branch_edits(reference, branch)
    ok(scaffold(reference, "add", FIRST, SECOND))


def test_failure_1_plain_git_merges_keep_both_capabilities_and_update_makes_one(
    toy_project: Path, workdir: Path
) -> None:
    reference = workdir / "reference"
    shutil.copytree(toy_project, reference, symlinks=True)
    two_feature_branches(toy_project)

    git(toy_project, "merge", "--quiet", "--no-edit", "feat-a")
    git(toy_project, "merge", "--quiet", "--no-edit", "feat-b")

    assert answers(toy_project)[FIRST] is True
    assert answers(toy_project)[SECOND] is True
    assert (toy_project / package(FIRST)).is_dir() and (toy_project / package(SECOND)).is_dir()
    check = scaffold(toy_project, "check")
    assert check.exit_code == 1, "two generations were merged: not up to date yet"
    assert "branches-merged" in check.stdout
    updated = ok(scaffold(toy_project, "update", "--to", "v2"))
    assert "this branch merged 2 generations" in updated.stdout
    assert len(recorded(toy_project)) == 1
    ok(scaffold(toy_project, "check"))

    reference_with_both(toy_project, reference)
    same_files(toy_project, reference)


def test_failure_1_with_the_real_template_scaffold_merge_gives_what_add_both_gives(
    base_project: Path, workdir: Path
) -> None:
    """The packaged template wires both capabilities into the same places, so git's own merge
    collides (explicitly); `scaffold merge` renders once for both and merges the users' edits."""
    for config in (("user.name", "test"), ("user.email", "test@localhost")):
        git(base_project, "config", *config)
    reference = workdir / "reference"
    shutil.copytree(base_project, reference, symlinks=True)
    two_feature_branches(base_project)
    git(base_project, "merge", "--quiet", "--no-edit", "feat-a")

    if git_status_code(base_project, "merge", "--no-edit", "feat-b") != 0:
        assert git(base_project, "diff", "--name-only", "--diff-filter=U"), "conflicts listed"
        refused(scaffold(base_project, "update"), "`scaffold merge BRANCH`")
        git(base_project, "merge", "--abort")
    else:
        git(base_project, "reset", "--quiet", "--hard", "HEAD^")
    merged = ok(scaffold(base_project, "merge", "feat-b"))
    assert "Merged feat-b" in merged.stdout
    assert git(base_project, "log", "-1", "--format=%P").split().__len__() == 2
    ok(scaffold(base_project, "check"))

    reference_with_both(base_project, reference)
    same_files(base_project, reference)


def test_an_update_on_main_while_a_branch_adds_a_capability_in_both_orders(
    toy_project: Path, workdir: Path
) -> None:
    git(toy_project, "switch", "--quiet", "--create", "feat", "main")
    ok(scaffold(toy_project, "add", FIRST))
    git(toy_project, "switch", "--quiet", "main")
    ok(scaffold(toy_project, "update", "--to", "v2"))
    other_way = workdir / "other-way"
    shutil.copytree(toy_project, other_way, symlinks=True)

    git(toy_project, "merge", "--quiet", "--no-edit", "feat")  # feature into main
    git(other_way, "switch", "--quiet", "feat")
    git(other_way, "merge", "--quiet", "--no-edit", "main")  # main into the feature

    for project in (toy_project, other_way):
        ok(scaffold(project, "update", "--to", "v2"))
        assert answers(project)[FIRST] is True
        assert (project / package(FIRST) / "client.py").is_file()
        assert "improved in v2" in (project / MAIN).read_text()
        ok(scaffold(project, "check"))
    same_files(toy_project, other_way)


def test_failure_2_a_squash_merged_update_does_not_raise_its_conflict_again(
    project: Path,
) -> None:
    append(project / "Makefile", "\ndeploy: ## our own target\n\t./deploy.sh\n")
    commit_all(project, "our deploy target")
    git(project, "switch", "--quiet", "--create", "update-v2")
    assert scaffold(project, "update", "--to", "v2").exit_code == 1
    makefile = project / "Makefile"
    kept = [line for line in makefile.read_text().splitlines() if line[:7] not in MARKERS]
    makefile.write_text("\n".join(kept) + "\n")
    git(project, "add", "Makefile")
    git(project, "commit", "--quiet", "--no-edit")

    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--quiet", "--squash", "update-v2")
    git(project, "commit", "--quiet", "-m", "Update the template to v2 (#12)")

    again = ok(scaffold(project, "update", "--to", "v2"))
    assert "Already up to date (template v2)" in again.stdout
    ok(scaffold(project, "update"))  # to v3: the Makefile conflict stays resolved
    assert "\t./deploy.sh" in makefile.read_text()
    assert "<<<<<<<" not in makefile.read_text()
    ok(scaffold(project, "check"))


MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


def test_failure_3_an_amended_first_commit(toy_project: Path) -> None:
    (toy_project / "CONTRIBUTING.md").write_text("Be kind.\n")
    git(toy_project, "add", "CONTRIBUTING.md")
    git(toy_project, "commit", "--quiet", "--amend", "-m", "Initial commit")
    check = scaffold(toy_project, "check", "--json")
    assert '"template-behind"' in check.stdout
    assert "update-not-merged" not in check.stdout and "missing" not in check.stdout
    ok(scaffold(toy_project, "update"))
    assert (toy_project / "CONTRIBUTING.md").read_text() == "Be kind.\n"
    ok(scaffold(toy_project, "check"))


def test_a_rebased_feature_branch_keeps_its_generation(toy_project: Path) -> None:
    git(toy_project, "switch", "--quiet", "--create", "feat")
    ok(scaffold(toy_project, "add", FIRST))
    git(toy_project, "switch", "--quiet", "main")
    append(toy_project / "config.ini", "ours = 1\n")
    commit_all(toy_project, "main moves on")
    git(toy_project, "switch", "--quiet", "feat")
    git(toy_project, "rebase", "--quiet", "main")
    ok(scaffold(toy_project, "check"))
    git(toy_project, "switch", "--quiet", "main")
    git(toy_project, "merge", "--quiet", "--ff-only", "feat")
    ok(scaffold(toy_project, "check"))
    assert (toy_project / "config.ini").read_text().endswith("ours = 1\n")


def test_worktrees_each_update_their_own_branch(toy_project: Path, workdir: Path) -> None:
    other = workdir / "feat-tree"
    git(toy_project, "worktree", "add", "--quiet", "-b", "feat", str(other))
    main_head = git(toy_project, "rev-parse", "HEAD")
    ok(scaffold(other, "add", FIRST))
    assert git(toy_project, "rev-parse", "HEAD") == main_head
    assert git(toy_project, "status", "--porcelain") == ""
    ok(scaffold(toy_project, "update", "--to", "v2"))
    ok(scaffold(other, "check"))
    assert not (toy_project / package(FIRST)).exists()


def a_generation(project: Path) -> str:
    """A ref of scaffold's generations (a branch `scaffold/…` in older versions)."""
    places = ("refs/scaffold", "refs/heads/scaffold")
    listed = git(project, "for-each-ref", "--format=%(refname)", *places)
    return listed.split()[0].removeprefix("refs/heads/")


def test_failure_8_a_generation_checked_out_is_refused(toy_project: Path) -> None:
    git(toy_project, "checkout", "--quiet", a_generation(toy_project))
    refs = git(toy_project, "for-each-ref")
    outcome = scaffold(toy_project, "update", "--to", "v2")
    assert outcome.exit_code == 2, outcome
    assert git(toy_project, "for-each-ref") == refs
    assert git(toy_project, "status", "--porcelain") == ""


def test_failure_8_a_generation_checked_out_in_another_worktree_is_left_alone(
    toy_project: Path, workdir: Path
) -> None:
    other = workdir / "generation-tree"
    git(toy_project, "worktree", "add", "--quiet", str(other), a_generation(toy_project))
    head = git(other, "rev-parse", "HEAD")
    ok(scaffold(toy_project, "update", "--to", "v2"))
    assert git(other, "rev-parse", "HEAD") == head
    assert git(other, "status", "--porcelain") == ""


def test_an_answers_conflict_resolved_to_one_side_is_not_a_silent_removal(
    toy_project: Path,
) -> None:
    for branch, capability in (("feat-a", FIRST), ("feat-b", SECOND)):
        git(toy_project, "switch", "--quiet", "--create", branch, "main")
        ok(scaffold(toy_project, "add", capability))
    git(toy_project, "switch", "--quiet", "main")
    git(toy_project, "merge", "--quiet", "--no-edit", "feat-a")
    git(toy_project, "merge", "--quiet", "--no-edit", "feat-b")
    answers_file = toy_project / ".copier-answers.yml"  # someone "resolves" to one side
    answers_file.write_text(answers_file.read_text().replace(f"{SECOND}: true", f"{SECOND}: false"))
    commit_all(toy_project, "take ours")

    outcome = scaffold(toy_project, "update", "--to", "v2")
    refused(outcome, f"{SECOND} is false in .copier-answers.yml, but a generation merged")
    assert f"scaffold remove {SECOND}" in outcome.stderr
    ok(scaffold(toy_project, "remove", SECOND))  # said on purpose: it goes
    assert not (toy_project / package(SECOND)).exists()
    assert (toy_project / package(FIRST)).is_dir()
    ok(scaffold(toy_project, "check"))
