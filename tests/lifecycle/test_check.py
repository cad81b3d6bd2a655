"""`scaffold check`: exit 0 on the current template with nothing drifted, else 1 with a report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lifecycle.conftest import commit_all, forget_generations, git
from tests.support.cli import Outcome, run_cli
from tests.support.disk import snapshot


def codes(outcome: Outcome) -> list[str]:
    report = json.loads(outcome.stdout)
    assert report["ok"] is (outcome.exit_code == 0)
    return [problem["code"] for problem in report["problems"]]


def test_a_project_on_the_latest_tag_is_ok(project: Path) -> None:
    assert run_cli("update", "-C", str(project)).exit_code == 0
    before = snapshot(project)
    outcome = run_cli("check", "-C", str(project))
    assert outcome.exit_code == 0, outcome.stdout
    assert "v3 (current v3)" in outcome.stdout
    assert outcome.stdout.endswith("  up to date\n")
    as_json = run_cli("check", "--json", "-C", str(project))
    assert as_json.exit_code == 0
    report = json.loads(as_json.stdout)
    assert report == {
        "project": str(project),
        "template": report["template"],
        "recorded_version": "v3",
        "current_version": "v3",
        "ok": True,
        "problems": [],
        "notes": [],
    }
    assert Path(report["template"]).is_dir()
    assert snapshot(project) == before, "check writes nothing"


def test_template_behind(project: Path) -> None:
    before = snapshot(project)
    outcome = run_cli("check", "-C", str(project))
    assert outcome.exit_code == 1
    assert "v1 (current v3)" in outcome.stdout
    assert "template-behind: the template changed since the last generation" in outcome.stdout
    assert codes(run_cli("check", "--json", "-C", str(project))) == ["template-behind"]
    assert snapshot(project) == before


def test_answers_changed(project: Path) -> None:
    assert run_cli("update", "-C", str(project)).exit_code == 0
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("The demo service", "Pays the bills"))
    commit_all(project)
    outcome = run_cli("check", "--json", "-C", str(project))
    assert outcome.exit_code == 1
    assert "answers-changed" in codes(outcome)
    assert "(description)" in outcome.stdout

    assert run_cli("update", "-C", str(project)).exit_code == 0
    assert "Pays the bills" in (project / "README.md").read_text()
    assert run_cli("check", "-C", str(project)).exit_code == 0


def test_an_undone_update_is_only_template_behind(project: Path) -> None:
    assert run_cli("update", "--to", "v2", "-C", str(project)).exit_code == 0
    git(project, "reset", "--quiet", "--hard", "HEAD^1")  # the user undoes the update
    outcome = run_cli("check", "--json", "-C", str(project))
    assert outcome.exit_code == 1
    assert codes(outcome) == ["template-behind"]


def test_generation_unavailable(project: Path) -> None:
    forget_generations(project)
    outcome = run_cli("check", "--json", "-C", str(project))
    assert outcome.exit_code == 1
    assert codes(outcome) == ["generation-unavailable"]
    text = run_cli("check", "-C", str(project)).stdout
    assert "git push origin 'refs/scaffold/*'" in text
    assert "scaffold update --rebuild-generation" in text


def test_check_outside_a_project_is_refused(workdir: Path) -> None:
    outcome = run_cli("check", "-C", str(workdir))
    assert outcome.exit_code == 2
    assert "is not inside a git repository" in outcome.stderr
