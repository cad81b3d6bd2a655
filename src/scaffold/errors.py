"""The errors scaffold shows its users.

Every error a user can cause is a ``ScaffoldError`` whose message is one line written for them.
The CLI catches this one class at the edge, prints the message on stderr and exits with
``exit_code``; nothing below the CLI prints or exits.
"""

from __future__ import annotations

from collections.abc import Iterable

USAGE_EXIT_CODE = 2
INTERRUPTED_EXIT_CODE = 130


class ScaffoldError(Exception):
    """An error with a message meant for the user."""

    exit_code = USAGE_EXIT_CODE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidProjectName(ScaffoldError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"invalid project name {name!r}: {reason}")


class TargetNotEmpty(ScaffoldError):
    def __init__(self, target: str) -> None:
        super().__init__(
            f"{target} already exists and is not empty; pick another name or --output-dir"
        )


class OutputNotWritable(ScaffoldError):
    def __init__(self, folder: str, reason: str) -> None:
        super().__init__(f"cannot write into {folder}: {reason}")


class UnknownCapability(ScaffoldError):
    def __init__(self, name: str, suggestion: str | None, known: Iterable[str]) -> None:
        hint = f"did you mean {suggestion!r}?" if suggestion else "known: " + ", ".join(known)
        super().__init__(f"unknown capability {name!r}; {hint}")


class UnknownPreset(ScaffoldError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown preset {name!r}; known presets: {', '.join(known)}")


class InvalidVariant(ScaffoldError):
    pass


class ForbiddenCombination(ScaffoldError):
    pass


class NotYetAvailable(ScaffoldError):
    def __init__(self, names: Iterable[str]) -> None:
        listed = ", ".join(sorted(names))
        super().__init__(
            f"not available yet in this version of scaffold: {listed} "
            "(see `scaffold list` for what is ready)"
        )


class BadAnswersFile(ScaffoldError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot use answers file {path}: {reason}")


class TemplateError(ScaffoldError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"the template could not be rendered: {reason}")


class GitError(ScaffoldError):
    def __init__(self, action: str, detail: str) -> None:
        super().__init__(f"git {action} failed: {detail}")


class Interrupted(ScaffoldError):
    exit_code = INTERRUPTED_EXIT_CODE

    def __init__(self) -> None:
        super().__init__("interrupted; nothing was written")


class NotAGitRepository(ScaffoldError):
    def __init__(self, folder: str) -> None:
        super().__init__(f"{folder} is not inside a git repository; scaffold keeps history in git")


class NotAScaffoldProject(ScaffoldError):
    def __init__(self, folder: str) -> None:
        super().__init__(
            f"{folder} is not a scaffold project: no .copier-answers.yml or .scaffold/ in it "
            "or in a folder above it in its repository"
        )


class DirtyWorkingTree(ScaffoldError):
    def __init__(self, files: list[str]) -> None:
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        super().__init__(
            f"uncommitted changes ({shown}); commit or stash them first (git stash), then retry"
        )
