"""The pristine branch: one commit per generation, each holding only the generated tree.

Updates render the new generation as a child of the last one and let git's three-way merge
bring it into the user's branch; the last pristine generation merged is the merge base.
Commits are built with a private index, so the user's index and working tree are never touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from scaffold.git import git_status, identity_env, init_repository, run_git

BRANCH = "scaffold/pristine"
REF = f"refs/heads/{BRANCH}"


class PristineBranch:
    def __init__(self, repo: Path, env: Mapping[str, str] | None = None) -> None:
        self.repo = repo
        self.env = dict(env or {})

    def tip(self) -> str | None:
        found = git_status(self.repo, "rev-parse", "--verify", "--quiet", REF, env=self.env)
        return found.out if found.code == 0 else None

    def is_merged(self) -> bool:
        """True when the last generation is part of the current branch's history."""
        tip = self.tip()
        if tip is None:
            return False
        return git_status(self.repo, "merge-base", "--is-ancestor", tip, "HEAD").code == 0

    def commit_tree(self, tree: Path, message: str, parent: str | None) -> str:
        """Commit the folder ``tree`` as a generation; returns the commit, moves no ref.

        A tree equal to the parent's returns the parent: an update with nothing to do writes
        not even an unreachable commit.
        """
        with tempfile.TemporaryDirectory(prefix="scaffold-index-") as scratch:
            env = {**self.env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
            run_git(self.repo, "--work-tree", str(tree), "add", "--all", ".", env=env)
            tree_id = run_git(self.repo, "write-tree", env=env)
        if parent and tree_id == self.tree_of(parent):
            return parent
        parents = ["-p", parent] if parent else []
        env = {**self.env, **identity_env(self.repo)}
        return run_git(self.repo, "commit-tree", tree_id, *parents, "-m", message, env=env)

    def advance(self, new: str, old: str | None) -> None:
        """Move the branch from ``old`` to ``new``, refusing if someone else moved it."""
        run_git(self.repo, "update-ref", REF, new, old or "", env=self.env)

    def same_tree(self, first: str, second: str) -> bool:
        return self.tree_of(first) == self.tree_of(second)

    def tree_of(self, commit: str) -> str:
        return run_git(self.repo, "rev-parse", f"{commit}^{{tree}}", env=self.env)

    def read(self, commit: str, path: str) -> str | None:
        found = git_status(self.repo, "show", f"{commit}:{path}", env=self.env)
        return found.out if found.code == 0 else None


@contextmanager
def scratch_objects(repo: Path) -> Iterator[dict[str, str]]:
    """Git environment whose new objects go to a temporary store: for dry runs and checks."""
    objects = run_git(repo, "rev-parse", "--git-path", "objects")
    with tempfile.TemporaryDirectory(prefix="scaffold-objects-") as scratch:
        yield {
            "GIT_OBJECT_DIRECTORY": scratch,
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str((repo / objects).resolve()),
        }


def start_history(repo: Path, message: str) -> str:
    """First commit of a new project, which is also its first pristine generation."""
    init_repository(repo)
    run_git(repo, "add", "--all")
    run_git(repo, "commit", "--quiet", "--no-verify", "-m", message, env=identity_env(repo))
    commit = run_git(repo, "rev-parse", "HEAD")
    PristineBranch(repo).advance(commit, None)
    return commit
