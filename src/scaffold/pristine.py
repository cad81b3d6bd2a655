"""Pristine generations: commits that hold exactly what the template rendered, nothing else.

A generation's tree is the rendered folder byte for byte; its parents are the generations the
branch had recorded before (two or more after git merged branches that each made one); its
author, date and message are fixed, so the same render from the same parents is the same commit
on every machine, and two branches that make the same update record the same generation.
`refs/scaffold/generations/<commit>` keeps each one reachable through `git gc`; they travel
with `git push origin 'refs/scaffold/*'`, and scaffold fetches one it lacks from the remotes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

from scaffold.git import (
    enclosing_work_tree,
    git_status,
    identity_env,
    init_repository,
    run_git,
)
from scaffold.lifecycle.records import (
    FOLDER,
    README,
    README_TEXT,
    RECORDS,
    Record,
    folder_tree,
    record_text,
)
from scaffold.lifecycle.trees import Trees
from scaffold.render import answers_file_in

REF_PREFIX = "refs/scaffold/generations/"
_FIXED_DATE = "946684800 +0000"  # 2000-01-01: generations are identified by content alone
GENERATOR = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_AUTHOR_DATE": _FIXED_DATE,
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_DATE": _FIXED_DATE,
}


class Generations:
    def __init__(self, repo: Path, env: Mapping[str, str] | None = None) -> None:
        self.repo = repo
        self.env = dict(env or {})
        self.trees = Trees(repo, self.env)

    def create(self, folder: Path, parents: Sequence[str], message: str) -> str:
        """Commit the rendered ``folder`` as a generation; moves no ref."""
        return self.trees.commit(self.trees.from_folder(folder), parents, message, GENERATOR)

    def keep(self, commits: Iterable[str]) -> None:
        lines = "".join(f"update {REF_PREFIX}{commit} {commit}\n" for commit in commits)
        if lines:
            run_git(self.repo, "update-ref", "--stdin", env=self.env, stdin=lines)

    def missing(self, commits: Iterable[str]) -> list[str]:
        return [c for c in commits if not self.has(c)]

    def has(self, commit: str) -> bool:
        found = git_status(self.repo, "cat-file", "-e", f"{commit}^{{commit}}", env=self.env)
        return found.code == 0

    def fetch(self, commits: Sequence[str]) -> str | None:
        """Fetch the generations from the first remote that has them all; returns its name.

        Objects only: no ref, no FETCH_HEAD, no maintenance, so with a scratch object store
        (dry runs, checks) nothing in the repository changes.
        """
        remotes = git_status(self.repo, "remote", env=self.env).out.split()
        for remote in sorted(remotes, key=lambda name: name != "origin"):
            for commit in self.missing(commits):
                git_status(
                    self.repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
                    "--no-auto-maintenance", "--no-write-commit-graph", "--no-recurse-submodules",
                    remote, REF_PREFIX + commit, env=self.env,
                )  # fmt: skip
            if not self.missing(commits):
                return remote
        return None

    def independent(self, commits: Sequence[str]) -> list[str]:
        """The generations none of the others descends from."""
        if len(commits) < 2:
            return list(commits)
        found = run_git(self.repo, "merge-base", "--independent", *commits, env=self.env)
        return sorted(found.split())

    def merged(self, commits: Sequence[str]) -> str:
        """A commit whose tree is git's merge of the generations' trees (markers included where
        they conflict): what git's merge of the branches took from the template."""
        merged = commits[0]
        for other in commits[1:]:
            done = git_status(
                self.repo, "merge-tree", "--write-tree", "--allow-unrelated-histories",
                merged, other, env=self.env,
            )  # fmt: skip
            if done.code not in (0, 1):
                run_git(self.repo, "merge-tree", "--write-tree", merged, other, env=self.env)
            tree = done.out.splitlines()[0]
            merged = self.trees.commit(tree, (merged, other), "merged generations", GENERATOR)
        return merged

    def answers(self, commit: str, answers_file: str) -> dict[str, object] | None:
        shown = git_status(self.repo, "show", f"{commit}:{answers_file}", env=self.env)
        if shown.code != 0:
            return None
        try:
            loaded = yaml.safe_load(shown.out)
        except yaml.YAMLError:
            return None
        return {str(k): v for k, v in loaded.items()} if isinstance(loaded, dict) else None


def generation_message(answers: Mapping[str, object]) -> str:
    template = f"{answers.get('_src_path', '?')} {answers.get('_commit', '')}".strip()
    return f"scaffold generation of {answers.get('project_name', '?')} from {template}"


def start_history(target: Path, message: str) -> str:
    """The first commit of a new project: exactly its first generation, plus the record of it.

    Inside an existing repository (a monorepo), the service's folder is committed there, alone;
    otherwise `target` becomes a new repository.
    """
    repo = enclosing_work_tree(target)
    if repo is None:
        init_repository(target)
        repo = target
    relative = target.resolve().relative_to(repo.resolve()).as_posix()
    prefix = "" if relative == "." else relative
    answers_file = answers_file_in(target)
    store = Generations(repo)
    answers = read_answers(target / answers_file)
    generation = store.create(target, (), generation_message(answers))
    store.keep([generation])
    record = Record(generation, answers_file)
    tree = store.trees.replace(
        f"{generation}^{{tree}}", FOLDER, folder_tree(store.trees, None, [record])
    )
    (target / RECORDS).mkdir(parents=True, exist_ok=True)
    (target / RECORDS / generation).write_text(record_text(record), encoding="utf-8")
    (target / README).write_text(README_TEXT, encoding="utf-8")
    run_git(repo, "read-tree", *([f"--prefix={prefix}/"] if prefix else []), tree)
    git_status(repo, "update-index", "-q", "--refresh")
    only = ["--", prefix] if prefix else []
    run_git(repo, "commit", "--quiet", "--no-verify", "-m", message, *only, env=identity_env(repo))
    return run_git(repo, "rev-parse", "HEAD")


def read_answers(path: Path) -> dict[str, object]:
    """A rendered answers file (Copier wrote it, so it is valid YAML)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return {str(k): v for k, v in loaded.items()} if isinstance(loaded, dict) else {}
