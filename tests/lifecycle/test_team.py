"""A team's machines and repositories: fresh clones, hooks, signing, personal ignore rules,
line ends and binary files, monorepos, a template with its own answers file name.

Each test names the failure of issue 9 it covers; all drive real git and the real CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.lifecycle.conftest import Toy, commit_all, git, repo_state, worktree
from tests.support.cli import Outcome, refused, run_cli
from tests.support.toy_template import (
    ADDED_IN_V2,
    BATCH,
    CAPABILITIES,
    LOGO,
    LOGO_V2,
    MAIN,
    RENAMED_IN_V2,
    make_toy_template,
    package,
    release_toy_v2,
)


def scaffold(project: Path, *args: str) -> Outcome:
    return run_cli(*args, "-C", str(project))


def ok(outcome: Outcome) -> Outcome:
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    return outcome


def codes(outcome: Outcome) -> list[str]:
    return [problem["code"] for problem in json.loads(outcome.stdout)["problems"]]


def clone_of(project: Path, workdir: Path, *push: str) -> Path:
    """Push ``push`` (everything when empty) to a bare origin, then clone it as a teammate."""
    origin = workdir / "origin.git"
    git(workdir, "init", "--quiet", "--bare", "-b", "main", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "--quiet", *(("origin", *push) if push else ("--mirror", "origin")))
    clone = workdir / "clone"
    git(workdir, "clone", "--quiet", "--no-local", str(origin), str(clone))  # as over a network
    for config in (("user.name", "teammate"), ("user.email", "teammate@localhost")):
        git(clone, "config", *config)
    return clone


def test_failure_7_a_fresh_clone_fetches_the_generation_it_needs(
    toy_project: Path, workdir: Path
) -> None:
    clone = clone_of(toy_project, workdir)
    before = repo_state(clone)
    checked = scaffold(clone, "check", "--json")
    assert codes(checked) == ["template-behind"]
    assert json.loads(checked.stdout)["notes"] == ["read the recorded generation from origin"]
    assert repo_state(clone) == before, "check writes nothing, fetched objects included"

    updated = ok(scaffold(clone, "update", "--to", "v2"))
    assert "note: fetched the recorded generation from origin" in updated.stdout
    assert git(clone, "for-each-ref", "refs/scaffold"), "kept here from now on"
    assert codes(scaffold(clone, "check", "--json")) == []


def test_a_clone_without_the_generations_says_what_to_push(
    toy_project: Path, workdir: Path
) -> None:
    clone = clone_of(toy_project, workdir, "main")
    assert codes(scaffold(clone, "check", "--json")) == ["generation-unavailable"]
    before = repo_state(clone)
    outcome = scaffold(clone, "update")
    refused(outcome, "is neither here nor on origin")
    assert "git push origin 'refs/scaffold/*'" in outcome.stderr
    assert repo_state(clone) == before


def test_failure_9_a_rejecting_commit_msg_hook(toy_project: Path) -> None:
    hook = toy_project / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\necho 'commit-msg: every message needs a ticket id' >&2\nexit 1\n")
    hook.chmod(0o755)
    head, before = git(toy_project, "rev-parse", "HEAD"), worktree(toy_project)

    outcome = scaffold(toy_project, "update", "--to", "v2")

    assert outcome.exit_code == 1
    assert (
        "The template (v1 -> v2) is applied and staged, but git did not commit it: "
        "commit-msg: every message needs a ticket id" in outcome.stderr
    )
    assert "run `git commit`" in outcome.stderr
    assert "`git cherry-pick --abort`" in outcome.stderr
    assert git(toy_project, "rev-parse", "HEAD") == head
    assert ADDED_IN_V2[0] in git(toy_project, "diff", "--cached", "--name-only")
    git(toy_project, "cherry-pick", "--abort")
    assert worktree(toy_project) == before

    assert scaffold(toy_project, "update", "--to", "v2").exit_code == 1
    hook.unlink()  # the user fixes what the hook wants, then commits
    git(toy_project, "commit", "--quiet", "--no-edit")
    ok(scaffold(toy_project, "check"))


def test_failure_9_a_signature_that_cannot_be_made(toy_project: Path, workdir: Path) -> None:
    failing_gpg = workdir / "gpg"
    failing_gpg.write_text("#!/bin/sh\necho 'gpg: no secret key' >&2\nexit 2\n")
    failing_gpg.chmod(0o755)
    git(toy_project, "config", "commit.gpgSign", "true")
    git(toy_project, "config", "gpg.program", str(failing_gpg))

    outcome = scaffold(toy_project, "update", "--to", "v2")

    assert outcome.exit_code == 1
    assert "git did not commit it: " in outcome.stderr
    assert "gpg failed to sign the data" in outcome.stderr
    git(toy_project, "config", "commit.gpgSign", "false")
    git(toy_project, "commit", "--quiet", "--no-edit")
    ok(scaffold(toy_project, "check"))


@pytest.mark.parametrize("rule", ["info/exclude", "core.excludesFile", "the template's .gitignore"])
def test_failure_4_ignore_rules_do_not_change_what_the_template_generated(
    toy_project: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch, rule: str
) -> None:
    if rule == "info/exclude":
        with (toy_project / ".git" / "info" / "exclude").open("a") as exclude:
            exclude.write("*.ini\n*.txt\n")
    elif rule == "core.excludesFile":
        (workdir / "excludes").write_text("*.md\n*.py\n")
        (workdir / "gitconfig").write_text(f"[core]\n\texcludesFile = {workdir / 'excludes'}\n")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(workdir / "gitconfig"))

    ok(scaffold(toy_project, "update", "--to", "v2"))

    tracked = git(toy_project, "ls-files").split()
    for path in ("config.ini", "README.md", MAIN, LOGO, RENAMED_IN_V2[1], *ADDED_IN_V2):
        assert path in tracked and (toy_project / path).is_file(), path
    assert (toy_project / LOGO).read_bytes() == LOGO_V2
    ok(scaffold(toy_project, "check"))


def test_crlf_line_ends_and_binary_files_come_through_an_update(toy_project: Path) -> None:
    batch = toy_project / BATCH
    batch.write_bytes(batch.read_bytes().replace(b"batch line 05", b"batch line 05, ours"))
    commit_all(toy_project, "our batch line")

    ok(scaffold(toy_project, "update", "--to", "v2"))

    lines = batch.read_bytes().split(b"\r\n")
    assert lines[2] == b"batch line 03 in v2" and lines[4] == b"batch line 05, ours"
    assert lines[-1] == b"" and not any(b"\n" in line for line in lines), "CRLF kept"
    assert (toy_project / LOGO).read_bytes() == LOGO_V2


def test_a_binary_file_both_sides_changed_is_a_conflict_that_keeps_yours(
    toy_project: Path,
) -> None:
    (toy_project / LOGO).write_bytes(b"our logo" * 64)
    commit_all(toy_project, "our logo")
    outcome = scaffold(toy_project, "update", "--to", "v2")
    assert outcome.exit_code == 1
    assert f"  {LOGO}: changed by you and by the template\n" in outcome.stderr
    assert (toy_project / LOGO).read_bytes() == b"our logo" * 64


def only_changed_under(repo: Path, folder: str) -> None:
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert changed and all(path.startswith(f"{folder}/") for path in changed), changed


def test_failure_14_services_side_by_side_in_a_monorepo(workdir: Path) -> None:
    template = make_toy_template(workdir / "template")
    mono = workdir / "mono"
    mono.mkdir()
    git(mono, "init", "--quiet", "-b", "main")
    (mono / "README.md").write_text("# Our services\n")
    commit_all(mono, "monorepo")
    for name in ("payments", "orders"):
        made = run_cli("new", name, "--yes", "--template", str(template),
                       "--output-dir", str(mono / "services"))  # fmt: skip
        assert made.exit_code == 0, made.stderr
        assert not (mono / "services" / name / ".git").exists(), "no repository inside one"
    assert git(mono, "status", "--porcelain") == ""
    assert git(mono, "rev-list", "--count", "HEAD") == "3\n"
    release_toy_v2(template)

    ok(scaffold(mono / "services" / "payments" / "src", "add", CAPABILITIES[0]))
    only_changed_under(mono, "services/payments")
    assert (mono / "services" / "payments" / package(CAPABILITIES[0])).is_dir()
    ok(scaffold(mono / "services" / "orders", "update"))
    only_changed_under(mono, "services/orders")
    for name in ("payments", "orders"):
        ok(scaffold(mono / "services" / name, "check"))
    assert (mono / "README.md").read_text() == "# Our services\n"


def test_failure_14_a_service_moved_into_a_monorepo(toy_project: Path, workdir: Path) -> None:
    mono = workdir / "mono"
    service = mono / "services" / "demo"
    shutil.copytree(toy_project, service, ignore=shutil.ignore_patterns(".git"))
    git(mono, "init", "--quiet", "-b", "main")
    git(mono, "add", "--all", "--force")  # its .gitignore ignores a file of the template's
    git(mono, "commit", "--quiet", "-m", "bring in demo")
    git(mono, "fetch", "--quiet", str(toy_project), "refs/scaffold/*:refs/scaffold/*")

    ok(scaffold(service, "update", "--to", "v2"))
    only_changed_under(mono, "services/demo")
    ok(scaffold(service, "check"))


def test_failure_14_a_template_with_its_own_answers_file(workdir: Path) -> None:
    template = make_toy_template(workdir / "template", answers_file=".config/answers.yml")
    assert run_cli("new", "demo", "--yes", "--template", str(template)).exit_code == 0
    project = workdir / "demo"
    assert (project / ".config" / "answers.yml").is_file()
    assert not (project / ".copier-answers.yml").exists()
    release_toy_v2(template)
    ok(scaffold(project, "update"))
    assert "_commit: v2" in (project / ".config" / "answers.yml").read_text()
    ok(scaffold(project, "check"))


def test_the_toy_template_is_what_these_tests_assume(toy: Toy) -> None:
    assert len(CAPABILITIES) >= 2, "two available capabilities are needed"
    assert (toy.project_at_v1 / LOGO).is_file()
