"""`scaffold update` through the CLI, on a team template in a local git repository (v1..v3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.lifecycle.conftest import (
    ADDED,
    DELETED,
    MAKEFILE_V2,
    README_V3,
    RENAMED,
    RENAMED_TO,
    append,
    commit_all,
    git,
    recorded,
    worktree,
)
from tests.support.cli import run_cli
from tests.support.disk import snapshot

MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


def recorded_version(project: Path) -> str:
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"])


def edit_first_line(path: Path, new: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(new + "\n" + "".join(lines[1:]))


def test_update_merges_the_template_and_keeps_user_changes(project: Path) -> None:
    edit_first_line(project / "Makefile", "# Our everyday commands")
    append(project / ".gitignore", "# ours\n*.sqlite\n")
    (project / "NOTES.md").write_text("our notes\n")
    commit_all(project)
    mine = git(project, "rev-parse", "HEAD").strip()
    recorded_at_v1 = recorded(project)

    outcome = run_cli("update", "--to", "v2", "--project", str(project))

    assert outcome.exit_code == 0, outcome.stderr
    assert "Merged the template (v1 -> v2)" in outcome.stdout
    makefile = (project / "Makefile").read_text()
    assert makefile.startswith("# Our everyday commands\n")
    assert makefile.endswith(MAKEFILE_V2)
    assert (project / ".gitignore").read_text().endswith("# ours\n*.sqlite\n")
    assert (project / "NOTES.md").read_text() == "our notes\n"
    assert not (project / DELETED).exists()
    assert not (project / RENAMED).exists()
    assert (project / RENAMED_TO).is_file()
    assert (project / ADDED).is_file()
    assert recorded_version(project) == "v2"
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%P").split() == [mine]
    assert len(recorded(project)) == 1 and recorded(project) != recorded_at_v1


def test_without_to_the_latest_tag_and_then_up_to_date(project: Path) -> None:
    assert run_cli("update", "--to", "v2", "-C", str(project)).exit_code == 0
    assert recorded_version(project) == "v2"
    assert README_V3 not in (project / "README.md").read_text()

    latest = run_cli("update", "-C", str(project))
    assert latest.exit_code == 0, latest.stderr
    assert "(v2 -> v3)" in latest.stdout
    assert recorded_version(project) == "v3"
    assert (project / "README.md").read_text().endswith(README_V3)

    head = git(project, "rev-parse", "HEAD")
    again = run_cli("update", "-C", str(project))
    assert again.exit_code == 0
    assert again.stdout == "Already up to date (template v3).\n"
    assert git(project, "rev-parse", "HEAD") == head


def test_updating_to_the_recorded_tag_is_up_to_date(project: Path) -> None:
    before = snapshot(project)
    outcome = run_cli("update", "--to", "v1", "-C", str(project))
    assert outcome.exit_code == 0
    assert "Already up to date (template v1)" in outcome.stdout
    assert snapshot(project) == before


def test_a_conflict_lists_the_files_and_abort_restores_the_tree(project: Path) -> None:
    append(project / "Makefile", "\ndeploy: ## our own target\n\t./deploy.sh\n")
    commit_all(project)
    head = git(project, "rev-parse", "HEAD")
    before = worktree(project)

    outcome = run_cli("update", "--to", "v2", "-C", str(project))

    assert outcome.exit_code == 1
    assert "conflicts with your changes in:\n  Makefile: changed by you and by" in outcome.stderr
    assert "git cherry-pick --abort" in outcome.stderr
    assert "Resolve the markers in those files, `git add` them and `git commit`" in outcome.stderr
    makefile = (project / "Makefile").read_text()
    assert "<<<<<<<" in makefile
    assert "\t./deploy.sh" in makefile
    assert "clean: ## Remove the caches" in makefile
    assert (project / ADDED).is_file(), "the rest of the update is applied, waiting to commit"

    git(project, "cherry-pick", "--abort")
    assert worktree(project) == before
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""


def test_resolving_a_conflict_and_committing_finishes_the_update(project: Path) -> None:
    append(project / "Makefile", "\ndeploy: ## our own target\n\t./deploy.sh\n")
    commit_all(project)
    assert run_cli("update", "--to", "v2", "-C", str(project)).exit_code == 1
    makefile = project / "Makefile"
    kept = [line for line in makefile.read_text().splitlines() if line[:7] not in MARKERS]
    makefile.write_text("\n".join(kept) + "\n")
    git(project, "add", "Makefile")
    git(project, "commit", "--quiet", "--no-edit")

    assert run_cli("update", "--to", "v2", "-C", str(project)).stdout.startswith("Already up")
    assert "\t./deploy.sh" in makefile.read_text()
    assert "clean: ## Remove the caches" in makefile.read_text()


def test_dry_run_prints_the_diff_and_touches_nothing(project: Path) -> None:
    before = snapshot(project)  # .git included
    outcome = run_cli("update", "--to", "v2", "--dry-run", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stderr
    assert "diff --git a/Makefile b/Makefile" in outcome.stdout
    assert "+clean: ## Remove the caches" in outcome.stdout
    assert f"rename to {RENAMED_TO}" in outcome.stdout
    assert f"diff --git a/{DELETED} b/{DELETED}\ndeleted file mode" in outcome.stdout
    assert "nothing was touched (--dry-run)" in outcome.stdout
    assert snapshot(project) == before


def test_dry_run_of_a_copied_checkout_does_not_even_refresh_the_index(
    project: Path, workdir: Path
) -> None:
    copy = workdir / "copy"
    shutil.copytree(project, copy)  # new inodes: git's stat cache in .git/index is stale
    before = snapshot(copy)
    assert run_cli("update", "--dry-run", "-C", str(copy)).exit_code == 0
    assert snapshot(copy) == before


def test_dry_run_names_the_files_that_would_conflict(project: Path) -> None:
    append(project / "Makefile", "\ndeploy: ## our own target\n")
    commit_all(project)
    before = snapshot(project)
    outcome = run_cli("update", "--to", "v2", "--dry-run", "-C", str(project))
    assert outcome.exit_code == 0
    assert "  would conflict: Makefile (changed by you and by the template)\n" in outcome.stdout
    assert snapshot(project) == before


def test_a_deleted_file_stays_deleted_when_the_template_left_it_alone(project: Path) -> None:
    (project / ".dockerignore").unlink()
    (project / DELETED).unlink()  # the template deletes it too
    commit_all(project)
    outcome = run_cli("update", "--to", "v2", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stderr
    assert not (project / ".dockerignore").exists()
    assert not (project / DELETED).exists()


def test_a_deleted_file_the_template_changed_is_a_conflict(project: Path) -> None:
    (project / "Makefile").unlink()
    commit_all(project)
    outcome = run_cli("update", "--to", "v2", "-C", str(project))
    assert outcome.exit_code == 1
    assert "  Makefile: deleted by you, changed by the template\n" in outcome.stderr
    assert (project / "Makefile").read_text().endswith(MAKEFILE_V2), "shown for the user to decide"


def test_template_renames_carry_the_user_edits(project: Path) -> None:
    append(project / RENAMED, "# our house style\n")
    commit_all(project)
    outcome = run_cli("update", "--to", "v2", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stderr
    assert not (project / RENAMED).exists()
    assert (project / RENAMED_TO).read_text().endswith("# our house style\n")


def test_an_aborted_update_is_merged_by_the_next_one(project: Path) -> None:
    append(project / "Makefile", "\ndeploy: ## our own target\n")
    commit_all(project)
    assert run_cli("update", "--to", "v2", "-C", str(project)).exit_code == 1
    git(project, "cherry-pick", "--abort")
    git(project, "revert", "--no-edit", "HEAD")  # the user gives up their own target

    outcome = run_cli("update", "--to", "v2", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stderr
    assert "Merged the template" in outcome.stdout
    assert (project / "Makefile").read_text().endswith(MAKEFILE_V2)


def test_json_reports_the_conflicts_and_exits_1(project: Path) -> None:
    append(project / "Makefile", "\ndeploy: ## our own target\n")
    commit_all(project)
    outcome = run_cli("update", "--to", "v2", "--json", "-C", str(project))
    assert outcome.exit_code == 1
    result = json.loads(outcome.stdout)
    assert result["status"] == "conflicts"
    assert result["conflicts"] == ["Makefile"]
    assert (result["from_version"], result["to_version"]) == ("v1", "v2")


def test_json_of_a_merged_update(project: Path) -> None:
    outcome = run_cli("update", "--to", "v2", "--json", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stderr
    result = json.loads(outcome.stdout)
    assert result["status"] == "merged"
    assert {"Makefile", ADDED, DELETED, RENAMED_TO} <= set(result["changed"])
