"""The matrix runs `terraform init` once per set of provider requirements and copies its result
into the next folder with the same requirements; the plan still refuses a configuration that
needs what the copy does not hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.matrix import terraform_init
from tests.matrix.terraform_checks import plan_or_explain, terraform
from tests.matrix.terraform_init import LOCK_FILE, init_key, reuse_or_init

# Built-in resources only, so no provider is installed and these run in about a second.
REQUIREMENTS = 'terraform {\n  required_version = ">= 1.5"\n}\n'
BUILT_IN = 'resource "terraform_data" "x" {\n  input = "fine"\n}\n'
NEEDS_A_PROVIDER = 'resource "null_resource" "x" {}\n'
CALLS_A_MODULE = 'module "child" {\n  source = "./child"\n}\n'


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no kept `init` results (the matrix keeps them per process)."""
    monkeypatch.setattr(terraform_init, "_initialised", {})


def folder_with(root: Path, name: str, **files: str) -> Path:
    folder = root / name
    folder.mkdir()
    for file_name, text in files.items():
        (folder / f"{file_name}.tf").write_text(text, encoding="utf-8")
    return folder


class Inits:
    """Runs the real `terraform init` and remembers where."""

    def __init__(self) -> None:
        self.ran: list[Path] = []

    def __call__(self, folder: Path) -> None:
        self.ran.append(folder)
        terraform(folder, "init", "-input=false", "-backend=false")


def test_the_same_requirements_are_initialised_once_and_the_copy_plans(tmp_path: Path) -> None:
    inits = Inits()
    first = folder_with(tmp_path, "first", versions=REQUIREMENTS, main=BUILT_IN)
    second = folder_with(tmp_path, "second", versions=REQUIREMENTS, main=BUILT_IN + "\n")
    assert reuse_or_init(first, None, inits) is False
    assert reuse_or_init(second, None, inits) is True
    assert inits.ran == [first]
    plan_or_explain(second)
    assert (second / "plan.out").is_file()


def test_other_requirements_are_initialised_for_real(tmp_path: Path) -> None:
    inits = Inits()
    first = folder_with(tmp_path, "first", versions=REQUIREMENTS, main=BUILT_IN)
    other = folder_with(
        tmp_path, "other", versions=REQUIREMENTS.replace("1.5", "1.4"), main=BUILT_IN
    )
    assert init_key(first, None) != init_key(other, None)
    reuse_or_init(first, None, inits)
    assert reuse_or_init(other, None, inits) is False
    assert inits.ran == [first, other]


def test_a_lock_file_is_part_of_the_key(tmp_path: Path) -> None:
    plain = folder_with(tmp_path, "plain", versions=REQUIREMENTS)
    locked = folder_with(tmp_path, "locked", versions=REQUIREMENTS)
    (locked / LOCK_FILE).write_text("# a lock\n", encoding="utf-8")
    assert init_key(plain, None) != init_key(locked, None)


def test_a_copy_without_a_provider_the_configuration_needs_does_not_plan(tmp_path: Path) -> None:
    inits = Inits()
    first = folder_with(tmp_path, "first", versions=REQUIREMENTS, main=BUILT_IN)
    needy = folder_with(tmp_path, "needy", versions=REQUIREMENTS, main=NEEDS_A_PROVIDER)
    reuse_or_init(first, None, inits)
    assert reuse_or_init(needy, None, inits) is True
    with pytest.raises(AssertionError, match="hashicorp/null"):
        plan_or_explain(needy)


def test_a_configuration_that_calls_modules_is_always_initialised(tmp_path: Path) -> None:
    inits = Inits()
    first = folder_with(tmp_path, "first", versions=REQUIREMENTS, main=CALLS_A_MODULE)
    second = folder_with(tmp_path, "second", versions=REQUIREMENTS, main=CALLS_A_MODULE)
    for folder in (first, second):
        (folder / "child").mkdir()
        (folder / "child" / "main.tf").write_text(BUILT_IN, encoding="utf-8")
        assert reuse_or_init(folder, None, inits) is False
    assert inits.ran == [first, second]
    plan_or_explain(second)
