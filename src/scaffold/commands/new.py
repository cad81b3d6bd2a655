"""`scaffold new`: check everything first, then render, then initialise git."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from scaffold import __version__
from scaffold.answers_file import load_answers
from scaffold.catalog import CATALOG
from scaffold.errors import OutputNotWritable, TargetNotEmpty
from scaffold.git import require_git
from scaffold.lock import LOCK_FILE, LockOutcome, commit_lock, lock_dependencies
from scaffold.names import package_name, validate_project_name
from scaffold.pristine import start_history
from scaffold.render import render_project
from scaffold.selection import Request, Selection, resolve
from scaffold.template_source import TemplateSource, resolve_template
from scaffold.terraform_lock import LOCK_FILE as TERRAFORM_LOCK_FILE
from scaffold.terraform_lock import lock_providers

Ask = Callable[[Request], Request]


@dataclass(frozen=True)
class NewOptions:
    name: str
    output_dir: Path
    request: Request
    answers_file: Path | None = None
    template: str | None = None
    description: str | None = None
    git: bool = True
    dry_run: bool = False
    lock: bool = True
    """Lock the new project's dependencies (uv.lock; .terraform.lock.hcl with Terraform) and
    commit the locks after the first commit."""


@dataclass(frozen=True)
class NewResult:
    name: str
    target: Path
    source: TemplateSource
    selection: Selection
    files: list[str]
    commit: str | None
    dry_run: bool
    lock: LockOutcome | None = None
    terraform_lock: LockOutcome | None = None

    @property
    def next_steps(self) -> list[str]:
        return [
            f"cd {self.target}",
            "make install        # uv sync: the service and its dev tools",
            "docker compose up   # the service and its backing services on :8000",
            "make test           # needs DATABASE_URL, see the README",
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.target),
            "template": self.source.recorded,
            "template_location": self.source.location,
            "capabilities": sorted(self.selection.capabilities),
            "variants": dict(self.selection.variants),
            "added_as_required": dict(self.selection.added),
            "files": self.files,
            "commit": self.commit,
            "dry_run": self.dry_run,
            "lock": self.lock.to_json() if self.lock else None,
            "terraform_lock": self.terraform_lock.to_json() if self.terraform_lock else None,
            "next_steps": [] if self.dry_run else self.next_steps,
        }


def create_project(options: NewOptions, ask: Ask | None = None) -> NewResult:
    name = validate_project_name(options.name)
    target = (options.output_dir / name).absolute()
    _require_empty(target)
    request, text = _merge_answers_file(options)
    if ask is not None:
        request = ask(request)
    selection = resolve(request)
    source = resolve_template(options.template)
    if options.git and not options.dry_run:
        require_git()
    data: dict[str, object] = {**text, "project_name": name, **selection.copier_data()}
    if options.description is not None:
        data["description"] = options.description
    files = render_project(source, target, data, dry_run=options.dry_run)
    commit = None
    if options.git and not options.dry_run:
        commit = start_history(target, _commit_message(name, selection))
    lock = terraform_lock = None
    if options.lock and not options.dry_run:
        # After the first commit, which is the pristine generation: the locks are not rendered.
        lock = lock_dependencies(target)
        terraform_lock = lock_providers(target)
        written = [LOCK_FILE] if lock.written else []
        if terraform_lock is not None and terraform_lock.written:
            written.append(str(TERRAFORM_LOCK_FILE))
        if written and commit is not None:
            locked = commit_lock(target, written)
            lock = replace(lock, commit=locked) if lock.written else lock
            if terraform_lock is not None and terraform_lock.written:
                terraform_lock = replace(terraform_lock, commit=locked)
    return NewResult(
        name, target, source, selection, files, commit, options.dry_run, lock, terraform_lock
    )


def _require_empty(target: Path) -> None:
    if target.is_file() or (target.is_dir() and any(target.iterdir())):
        raise TargetNotEmpty(str(target))
    if target.exists() and not target.is_dir():
        raise OutputNotWritable(str(target), "it is not a folder")


def _merge_answers_file(options: NewOptions) -> tuple[Request, dict[str, str]]:
    if options.answers_file is None:
        return options.request, {}
    answers = load_answers(options.answers_file)
    request = options.request
    merged = Request(
        preset=request.preset,
        with_=request.with_,
        without=request.without,
        variants={**answers.variants, **request.variants},
        base=answers.capabilities,
    )
    text = {k: v for k, v in answers.text.items() if k != "project_name"}
    return merged, text


def _commit_message(name: str, selection: Selection) -> str:
    return (
        f"Generate {name} with scaffold {__version__}\n\n"
        f"Capabilities: {selection.label(CATALOG)}\n"
        f"Package: {package_name(name)}\n"
    )
