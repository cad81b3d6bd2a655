"""`terraform init` once per set of provider requirements in each test process.

Without modules, what `init` produces (the data folder `.terraform/`: the backend's record and
links to the providers of the mirror; and the dependency lock file) depends only on the blocks
that declare requirements: `terraform {}` (required providers and versions, the backend) and an
existing `.terraform.lock.hcl`. Two Terraform folders whose files holding such blocks are
byte-identical get the same result, so the second gets a copy of the first's instead of a run
(~3 s of provider installation and backend set-up per plan). Nothing is taken on trust: the
plan that follows loads the whole configuration and stops when a provider it needs is not in
the copied folder or the lock file does not match it. A configuration that calls modules is
always initialised for real (`init` installs them).
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from tests.matrix.content import digest, file_digest

DATA_DIR = ".terraform"
LOCK_FILE = ".terraform.lock.hcl"
DECLARES_REQUIREMENTS = re.compile(r"^\s*terraform\s*\{", re.MULTILINE)
CALLS_A_MODULE = re.compile(r"^\s*module\s+\"", re.MULTILINE)

_initialised: dict[str, Path] = {}


def init_inputs(folder: Path) -> list[Path]:
    """The files of ``folder`` that can change what `init` does (those that declare a
    `terraform {}` block, and the lock file if there is one)."""
    declaring = [
        path
        for path in sorted(folder.glob("*.tf"))
        if DECLARES_REQUIREMENTS.search(path.read_text(encoding="utf-8"))
    ]
    lock = folder / LOCK_FILE
    return [*declaring, *([lock] if lock.is_file() else [])]


def calls_modules(folder: Path) -> bool:
    return any(
        CALLS_A_MODULE.search(path.read_text(encoding="utf-8")) for path in folder.glob("*.tf")
    )


def init_key(folder: Path, cli_configuration: Path | None) -> str:
    parts = [[path.name, file_digest(path)] for path in init_inputs(folder)]
    if cli_configuration is not None:
        parts.append([str(cli_configuration), file_digest(cli_configuration)])
    return digest(parts)


@cache
def _cache() -> Path:
    """A folder for the kept results, removed when the process ends."""
    root = Path(tempfile.mkdtemp(prefix="terraform-init-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def reuse_or_init(
    folder: Path, cli_configuration: Path | None, init: Callable[[Path], None]
) -> bool:
    """Give ``folder`` the result of `terraform init`: a copy of an earlier one with the same
    ``init_key``, or a real run (``init(folder)``) that is kept for the next. True when reused."""
    if calls_modules(folder):
        init(folder)
        return False
    key = init_key(folder, cli_configuration)
    kept = _initialised.get(key)
    if kept is None:
        init(folder)
        kept = Path(tempfile.mkdtemp(dir=_cache()))
        _copy_result(folder, kept)
        _initialised[key] = kept
        return False
    _copy_result(kept, folder)
    return True


def _copy_result(source: Path, target: Path) -> None:
    """The data folder and the lock file, each when ``source`` has it (a configuration of
    built-in resources only gets neither); a lock file already in ``target`` stays."""
    if (source / DATA_DIR).is_dir():
        shutil.copytree(source / DATA_DIR, target / DATA_DIR, symlinks=True)
    if (source / LOCK_FILE).is_file() and not (target / LOCK_FILE).is_file():
        shutil.copy2(source / LOCK_FILE, target / LOCK_FILE)
