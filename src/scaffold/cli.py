"""The command line: parse, call the engine, print. Nothing here a test can't reach directly.

Imports of the engine are deferred into each command so that ``scaffold --help`` stays fast.
"""

from __future__ import annotations

import inspect
import json
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from scaffold import __version__
from scaffold.catalog import CATALOG
from scaffold.errors import ScaffoldError
from scaffold.terraform_lock import LOCK_FILE as TERRAFORM_LOCK_FILE

app = typer.Typer(
    name="scaffold",
    help="Generate production-grade backend services, and keep them up to date.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _fail(error: ScaffoldError) -> typer.Exit:
    for line in error.message.splitlines():  # one line per problem
        typer.echo(f"scaffold: error: {line}", err=True)
    return typer.Exit(error.exit_code)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {__version__}")
        raise typer.Exit()


def _complete_capabilities(incomplete: str) -> list[str]:
    """Complete the last name of a comma-separated list, from the catalog."""
    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [prefix + c.name for c in CATALOG.available if c.name.startswith(last)]


def _complete_presets(incomplete: str) -> list[str]:
    return [p.name for p in CATALOG.presets if p.name.startswith(incomplete)]


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Generate production-grade backend services, and keep them up to date."""


def _choices_completer(choices: tuple[str, ...]) -> Any:
    return lambda incomplete: [c for c in choices if c.startswith(incomplete)]


def _with_variant_flags(command: Any) -> Any:
    """Give `new` one option per catalog variant (e.g. --broker), derived from the catalog."""
    signature = inspect.signature(command, eval_str=True)
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    for capability, variant in CATALOG.variants():
        option = typer.Option(
            variant.flag,
            hidden=not capability.available,  # accepted (and refused by name), but not offered
            metavar="|".join(variant.choices),
            autocompletion=_choices_completer(variant.choices),
            help=f"{capability.title}: {variant.help} ({' | '.join(variant.choices)}; "
            f"default {variant.default}).",
        )
        params.append(
            inspect.Parameter(
                capability.answer_key(variant),
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, option],
            )
        )
    command.__signature__ = signature.replace(parameters=params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


@app.command("new")
@_with_variant_flags
def new(
    name: Annotated[str, typer.Argument(help="Project name; also the folder created.")],
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            help="Capabilities to add, comma-separated.",
            metavar="CAP,...",
            autocompletion=_complete_capabilities,
        ),
    ] = None,
    without: Annotated[
        list[str] | None,
        typer.Option(
            "--without",
            help="Capabilities to leave out.",
            metavar="CAP,...",
            autocompletion=_complete_capabilities,
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            metavar="NAME",
            help="Start from a preset: " + ", ".join(p.name for p in CATALOG.presets),
            autocompletion=_complete_presets,
        ),
    ] = None,
    answers_file: Annotated[
        Path | None, typer.Option("--answers-file", help="A .copier-answers.yml-style file.")
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="A template folder or git URL.")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Where the project folder is created.")
    ] = Path(),
    description: Annotated[
        str | None, typer.Option("--description", help="One line about the service.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "--defaults", "-y", help="Ask nothing; use defaults.")
    ] = False,
    no_lock: Annotated[
        bool, typer.Option("--no-lock", help="Do not run `uv lock` in the new project.")
    ] = False,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Do not initialise a git repository.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the files it would write; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    **variant_flags: str | None,
) -> None:
    """Create a new service from the template."""
    from scaffold.commands.new import NewOptions, create_project
    from scaffold.selection import Request, parse_names

    explicit = bool(with_ or without or preset or answers_file)
    request = Request(
        preset=preset,
        with_=parse_names(with_ or ()),
        without=parse_names(without or ()),
        variants={key: value for key, value in variant_flags.items() if value is not None},
    )
    ask = None
    if not (yes or explicit or as_json) and sys.stdin.isatty() and sys.stdout.isatty():
        from scaffold.prompts import ask_selection

        ask = ask_selection
    options = NewOptions(
        name=name,
        output_dir=output_dir,
        request=request,
        answers_file=answers_file,
        template=template,
        description=description,
        git=not no_git,
        dry_run=dry_run,
        lock=not no_lock,
    )
    try:
        result = create_project(options, ask=ask)
    except ScaffoldError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    _print_new_result(result)


def _print_new_result(result: Any) -> None:
    for added, by in sorted(result.selection.added.items()):
        typer.echo(f"note: added {added}, which {by} requires")
    if result.dry_run:
        typer.echo(f"Would create {result.target} ({result.selection.label()}):")
        for file in result.files:
            typer.echo(f"  {file}")
        typer.echo(f"{len(result.files)} files; nothing was written (--dry-run).")
        return
    typer.echo(
        f"Created {result.target}: {len(result.files)} files, "
        f"capabilities: {result.selection.label()}"
    )
    if result.commit:
        typer.echo(f"git: first commit {result.commit[:12]} (also the pristine generation)")
    if result.lock is not None and result.lock.written:
        committed = f", committed {result.lock.commit[:12]}" if result.lock.commit else ""
        typer.echo(f"uv.lock: {result.lock.detail}{committed}")
    elif result.lock is not None:
        typer.echo(
            f"scaffold: warning: uv.lock not written: {result.lock.detail}; "
            f"run `uv lock` in {result.target} and commit it",
            err=True,
        )
    terraform_lock = result.terraform_lock
    if terraform_lock is not None and terraform_lock.written:
        committed = f", committed {terraform_lock.commit[:12]}" if terraform_lock.commit else ""
        typer.echo(f"{TERRAFORM_LOCK_FILE}: {terraform_lock.detail}{committed}")
    elif terraform_lock is not None:
        typer.echo(
            f"scaffold: warning: {TERRAFORM_LOCK_FILE} not written: {terraform_lock.detail}; "
            f"run `terraform init -backend=false` in {result.target / TERRAFORM_LOCK_FILE.parent} "
            "and commit it",
            err=True,
        )
    typer.echo("Next:")
    for step in result.next_steps:
        typer.echo(f"  {step}")


@app.command("list")
def list_capabilities(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List the capabilities, their variants, requirements and conflicts."""
    from scaffold.commands.list import catalog_as_json, catalog_rows, presets_lines, table_lines

    if as_json:
        typer.echo(json.dumps(catalog_as_json(), indent=2))
        return
    width = shutil.get_terminal_size(fallback=(10_000, 0)).columns  # a pipe: a line per row
    for line in [*table_lines(catalog_rows(), width), "", *presets_lines(CATALOG, width)]:
        typer.echo(line)


ProjectOption = Annotated[
    Path, typer.Option("--project", "-C", help="The project folder (default: here).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the full diff it would make; touch nothing.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@app.command()
def update(
    project: ProjectOption = Path(),
    to: Annotated[
        str | None, typer.Option("--to", help="A tag of a git template (default: the latest).")
    ] = None,
    dry_run: DryRunOption = False,
    rebuild_generation: Annotated[
        bool,
        typer.Option(
            "--rebuild-generation",
            help="Record the generation again from the answers, when it is gone for good.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Bring the project to the current template, keeping every change you made."""
    from scaffold.commands import update as updating

    try:
        if rebuild_generation:
            from scaffold.lifecycle.rebuild import rebuild_generation as rebuild

            commit = rebuild(project)
            typer.echo(f"Recorded generation {commit[:12]}; `scaffold update` works again.")
            return
        result = updating.update_project(project, to=to, dry_run=dry_run)
    except ScaffoldError as error:
        raise _fail(error) from None
    _finish_update(result, as_json)


CapabilitiesArgument = Annotated[
    list[str], typer.Argument(help="Capability names.", autocompletion=_complete_capabilities)
]


@app.command()
def add(
    capabilities: CapabilitiesArgument,
    project: ProjectOption = Path(),
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add capabilities to an existing project, through the update merge."""
    _change("add_capabilities", capabilities, project, dry_run, as_json)


@app.command()
def remove(
    capabilities: CapabilitiesArgument,
    project: ProjectOption = Path(),
    dry_run: DryRunOption = False,
    force: Annotated[
        bool, typer.Option("--force", help="Remove even what your own code still imports.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove capabilities; files you edited are reported as conflicts, never lost."""
    _change("remove_capabilities", capabilities, project, dry_run, as_json, force=force)


def _change(
    operation: str,
    capabilities: list[str],
    project: Path,
    dry_run: bool,
    as_json: bool,
    **options: bool,
) -> None:
    from scaffold.commands import change
    from scaffold.selection import parse_names

    try:
        names = parse_names(capabilities)
        result = getattr(change, operation)(project, names, dry_run=dry_run, **options)
    except ScaffoldError as error:
        raise _fail(error) from None
    _finish_update(result, as_json)


@app.command()
def merge(
    branch: Annotated[str, typer.Argument(help="The branch (or commit) to merge in.")],
    project: ProjectOption = Path(),
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Merge a branch that made its own generation: the template rendered once for both."""
    from scaffold.commands.merge import merge_branch

    try:
        result = merge_branch(project, branch, dry_run=dry_run)
    except ScaffoldError as error:
        raise _fail(error) from None
    _finish_update(result, as_json)


@app.command()
def check(project: ProjectOption = Path(), as_json: JsonOption = False) -> None:
    """For CI: exit 0 when the project is on the current template with no drift, else 1."""
    from scaffold.commands.check import check_project

    try:
        report = check_project(project)
    except ScaffoldError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        versions = f"{report.recorded_version or '?'} (current {report.current_version or '?'})"
        typer.echo(f"{report.project}: template {report.template} {versions}")
        for note in report.notes:
            typer.echo(f"  note: {note}")
        for problem in report.problems:
            typer.echo(f"  {problem.code}: {problem.message}")
        typer.echo("  up to date" if report.ok else f"  {len(report.problems)} problem(s)")
    if not report.ok:
        raise typer.Exit(1)


def _finish_update(result: Any, as_json: bool) -> None:
    from scaffold.commands.report import describe

    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        report = describe(result)
        for line in report.out:
            typer.echo(line, nl=not line.endswith("\n"))
        for line in report.err:
            typer.echo(line, err=True)
        for warning in result.warnings:
            typer.echo(f"scaffold: warning: {warning}", err=True)
    if result.status in ("conflicts", "not-committed"):
        raise typer.Exit(1)


def main() -> None:
    app()
