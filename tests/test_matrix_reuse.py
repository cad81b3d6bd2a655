"""Reuse keys of tier 1: a keyed check's key changes with any of its inputs, and only then."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scaffold.selection import Selection
from tests.matrix import terraform_checks
from tests.matrix.reuse import Manifest, Store
from tests.matrix.shared_env import VENV, shared_python
from tests.matrix.static_checks import Tools
from tests.matrix.static_tier import CHECKS, Check, check_key, check_outcome, outside_state
from tests.matrix.workspace import render

KEYED = [check for check in CHECKS if check.keyed]
PYTHON = VENV / "bin" / "python"
ROOT = Path(__file__).resolve().parents[1]
RATE_LIMITING = Selection(capabilities=frozenset({"rate_limiting"}), variants={})


@pytest.fixture(scope="module", autouse=True)
def shared_environment() -> None:
    """The environment PYTHON names is built (another xdist worker may be building it now):
    the keys digest its files."""
    assert shared_python() == PYTHON


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with every keyed check's inputs (rate_limiting brings the NGINX edge)."""
    return render(RATE_LIMITING, tmp_path_factory.mktemp("keyed"), None)


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(rendered, copy)
    return copy


def a_file_below(project: Path, relative: str) -> Path:
    path = project / relative
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())[0]
    return path


@pytest.mark.parametrize("check", KEYED, ids=[c.name for c in KEYED])
def test_every_declared_input_is_in_the_key(check: Check, project: Path) -> None:
    before = check_key(check, project, PYTHON)
    for relative in check.inputs_in(project):
        path = a_file_below(project, relative)
        original = path.read_bytes() if path.exists() else None
        created = [parent for parent in reversed(path.parents) if not parent.exists()]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((original or b"") + b"\n# one more line\n")
        assert check_key(check, project, PYTHON) != before, (
            f"{check.name}: {relative} is not in the key"
        )
        if original is None:
            path.unlink()
            for parent in reversed(created):  # the folders it needed, deepest first
                parent.rmdir()
        else:
            path.write_bytes(original)
        assert check_key(check, project, PYTHON) == before


@pytest.mark.parametrize("check", KEYED, ids=[c.name for c in KEYED])
def test_a_new_file_next_to_an_input_folder_changes_the_key(check: Check, project: Path) -> None:
    folders = [project / r for r in check.inputs_in(project) if (project / r).is_dir()]
    before = check_key(check, project, PYTHON)
    for folder in folders:
        (folder / "appeared.txt").write_text("nobody reads me\n")
        assert check_key(check, project, PYTHON) != before
        (folder / "appeared.txt").unlink()


@pytest.mark.parametrize("check", KEYED, ids=[c.name for c in KEYED])
def test_files_the_check_does_not_read_leave_the_key_alone(check: Check, project: Path) -> None:
    before = check_key(check, project, PYTHON)
    (project / "README.md").write_text("rewritten\n")
    if not any(relative == "src" for relative in check.inputs_in(project)):
        (project / "src" / "matrix_svc" / "new_module.py").write_text("X = 1\n")
    assert check_key(check, project, PYTHON) == before


def test_the_terraform_plan_is_keyed_on_exactly_the_files_it_copies(project: Path) -> None:
    (plan,) = [check for check in CHECKS if check.name == "terraform plan"]
    folder = project / terraform_checks.TERRAFORM_DIR
    before = check_key(plan, project, PYTHON)
    (folder / "README.md").write_text("documentation: Terraform never reads it\n")
    assert check_key(plan, project, PYTHON) == before
    beside = 'locals {\n  rules = file("${path.module}/../x/r.yml")\n}\n'
    (folder / "appeared.tf").write_text(beside)
    with_new_file = check_key(plan, project, PYTHON)
    assert with_new_file != before
    assert "deploy/x/r.yml" in plan.inputs_in(project)  # named beside the folder, absent
    (project / "deploy" / "x").mkdir()
    (project / "deploy" / "x" / "r.yml").write_text("groups: []\n")
    assert check_key(plan, project, PYTHON) != with_new_file
    with terraform_checks.terraform_copy(project) as copy:
        root = copy.parents[1]
        copied = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert copied == sorted(plan.inputs_in(project))
    assert "deploy/terraform/README.md" not in copied


COMMITTED_LOCK = (
    ROOT
    / "templates/service/project/deploy/terraform"
    / ("{% if cicd %}.terraform.lock.hcl{% endif %}")
)


def test_a_lock_file_init_leaves_as_it_writes_it_plans_as_none(project: Path) -> None:
    """`cicd` commits the lock file `terraform init` writes and the release workflow's variable
    files: the plan starts from the same folder as without them, so it is one plan input."""
    (plan,) = [check for check in CHECKS if check.name == "terraform plan"]
    folder = project / terraform_checks.TERRAFORM_DIR
    before = check_key(plan, project, PYTHON)
    lock = folder / ".terraform.lock.hcl"
    shutil.copy2(COMMITTED_LOCK, lock)
    (folder / "environments").mkdir()
    (folder / "environments" / "production.tfvars").write_text('environment = "production"\n')
    assert check_key(plan, project, PYTHON) == before
    assert str(terraform_checks.TERRAFORM_DIR / "environments/production.tfvars") not in (
        plan.inputs_in(project)
    )

    # A hash the mirror's provider does not have: init refuses it, and the plan is keyed apart.
    text = lock.read_text()
    lock.write_text(text.replace('"h1:', '"h1:A', 1))
    refused = check_key(plan, project, PYTHON)
    assert refused != before
    assert terraform_checks.planned_state(project)[0] == "init failed"
    lock.write_text(text)
    assert check_key(plan, project, PYTHON) == before


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("terraform.tfvars", 'image_tag = "other"\n'),
        ("extra.auto.tfvars", 'image_tag = "other"\n'),
        ("environments/named.tfvars", 'image_tag = "other"\n'),
    ],
)
def test_variable_files_terraform_reads_are_keyed(project: Path, relative: str, text: str) -> None:
    """Those it loads itself, and one a function names (here `file`), are in the plan's key."""
    (plan,) = [check for check in CHECKS if check.name == "terraform plan"]
    folder = project / terraform_checks.TERRAFORM_DIR
    if relative.startswith("environments/"):
        reads = 'locals {\n  named = file("${path.module}/environments/named.tfvars")\n}\n'
        (folder / "reads_named.tf").write_text(reads)
    before = check_key(plan, project, PYTHON)
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_text(text)
    assert str(terraform_checks.TERRAFORM_DIR / relative) in plan.inputs_in(project)
    assert check_key(plan, project, PYTHON) != before


def test_an_outside_file_is_hashed_again_when_it_changes(tmp_path: Path) -> None:
    binary = tmp_path / "provider-cache"
    binary.write_bytes(b"one")
    first = outside_state(str(binary))
    assert outside_state(str(binary)) == first
    binary.write_bytes(b"three")
    assert outside_state(str(binary)) != first
    binary.unlink()
    assert outside_state(str(binary)) == [[str(binary).lstrip("/"), ["absent"]]]


def test_the_key_is_the_same_in_another_folder(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "matrix-svc"
    shutil.copytree(project, elsewhere)
    assert all(check_key(c, project, PYTHON) == check_key(c, elsewhere, PYTHON) for c in KEYED)


def test_one_changed_line_of_terraform_is_not_reused_and_fails(
    project: Path, tmp_path: Path
) -> None:
    (terraform,) = [check for check in CHECKS if check.name == "terraform fmt"]
    store, tools = Store(tmp_path / "store"), Tools(python=Path("unused"), caches=tmp_path)
    first = check_outcome(terraform, project, tools, store, "first")
    assert first["outcome"] == "passed" and first["reused_from"] is None

    same = tmp_path / "same" / "matrix-svc"
    shutil.copytree(project, same)
    again = check_outcome(terraform, same, tools, store, "same")
    assert again["outcome"] == "passed" and again["reused_from"] == "first"

    rds = same / "deploy" / "terraform" / "rds.tf"
    lines = rds.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if " = " in line)
    lines[index] = lines[index].replace(" = ", "   =   ", 1)  # still HCL, no longer formatted
    rds.write_text("".join(lines))
    changed = check_outcome(terraform, same, tools, store, "changed")
    assert changed["reused_from"] is None
    assert changed["outcome"] == "failed" and "rds.tf" in str(changed["message"])

    reverted = check_outcome(terraform, project, tools, store, "reverted")
    assert reverted["reused_from"] == "first"


def test_a_manifest_key_follows_the_state_of_exactly_its_paths(project: Path) -> None:
    manifest = Manifest(["pyproject.toml", "src/matrix_svc"], ["deploy/FLAG", "README.md"])
    before = manifest.key(project)
    (project / "README.md").write_text("probed, never read: its bytes do not count\n")
    (project / "src" / "matrix_svc" / "config.py").write_text("# contents: not listed\n")
    assert manifest.key(project) == before  # a folder counts by its names
    (project / "deploy" / "FLAG").write_text("")  # was probed while absent
    assert manifest.key(project) != before
    (project / "deploy" / "FLAG").unlink()
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n")
    assert manifest.key(project) != before
