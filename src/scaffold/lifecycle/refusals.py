"""Why `update`, `add` or `remove` will not start: each a one-line message saying what to do.

All of them are raised while planning, before anything is written, so exit 2 means that the
working tree, the index and every ref are exactly as they were; `--dry-run` plans the same way
and so refuses the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from scaffold.errors import ScaffoldError


def _listed(paths: Sequence[str], limit: int = 3) -> str:
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


class NoCommitYet(ScaffoldError):
    def __init__(self) -> None:
        super().__init__("the repository has no commit yet; commit the project first")


class OperationInProgress(ScaffoldError):
    def __init__(self, what: str, finish: str, undo: str) -> None:
        super().__init__(f"{what} is in progress; finish it ({finish}) or undo it ({undo}) first")


class GenerationCheckedOut(ScaffoldError):
    def __init__(self, commit: str) -> None:
        super().__init__(
            f"HEAD is the scaffold generation {commit[:12]} (the template's own output), not "
            "your branch; switch to your branch (git switch NAME) and run the command there"
        )


class NoGeneration(ScaffoldError):
    def __init__(self, folder: str) -> None:
        super().__init__(
            f"{folder} records no scaffold generation (.scaffold/generations/ is missing); "
            "record the one its answers describe with `scaffold update --rebuild-generation`"
        )


class GenerationUnavailable(ScaffoldError):
    def __init__(self, commits: Sequence[str], remotes: Sequence[str]) -> None:
        where = f"here nor on {', '.join(remotes)}" if remotes else "here, and no remote is set"
        super().__init__(
            f"the recorded generation {_listed([c[:12] for c in commits])} is neither {where}: "
            "whoever made it should run `git push origin 'refs/scaffold/*'`; or rebuild it "
            "from the answers with `scaffold update --rebuild-generation`"
        )


class BadProjectAnswers(ScaffoldError):
    """One line per problem, each naming the file."""

    def __init__(self, answers_file: str, problems: Sequence[str]) -> None:
        super().__init__("\n".join(f"{answers_file}: {problem}" for problem in problems))


class CapabilityDropped(ScaffoldError):
    def __init__(self, name: str, answers_file: str) -> None:
        super().__init__(
            f"{name} is false in {answers_file}, but a generation merged from another branch "
            f"added it (was a merge conflict in {answers_file} resolved to one side?); set "
            f"`{name}: true` and commit to keep it, or run `scaffold remove {name}` to remove it"
        )


class InTheWay(ScaffoldError):
    def __init__(self, untracked: Sequence[str], ignored: Sequence[str]) -> None:
        parts = []
        if untracked:
            parts.append(f"untracked {_listed(untracked)}")
        if ignored:
            parts.append(f"ignored {_listed(ignored)}")
        super().__init__(
            f"the template now writes files you have but git does not track ({'; '.join(parts)}); "
            "move them aside (or commit them), then retry"
        )


class StillImported(ScaffoldError):
    def __init__(self, modules: Sequence[str], importers: Sequence[str]) -> None:
        super().__init__(
            f"{_listed(importers)} still import{'s' if len(importers) == 1 else ''} "
            f"{_listed(modules, 2)}, which this removes; change that code first, or pass "
            "--force to remove it anyway"
        )


class LockNotMade(ScaffoldError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"uv.lock cannot be made from the merged pyproject.toml ({detail}); nothing was "
            "changed: fix that and merge again"
        )
