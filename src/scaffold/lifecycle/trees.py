"""Git trees built and edited with plumbing only: no index, no working tree, no ignore rules.

A generation must be exactly what the template rendered on every machine, so a folder becomes a
tree by hashing each file as bytes (`hash-object --no-filters`): no `.gitignore`,
`info/exclude`, `core.excludesFile`, line-ending or clean filter takes part.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.git import identity_env, run_git


@dataclass(frozen=True)
class Entry:
    mode: str
    kind: str
    oid: str
    name: str


_IMMUTABLE = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?(?:\^\{tree\})?$")


class Trees:
    """Objects are immutable, so what was read or written once is remembered: an update makes
    a few dozen git calls, not a few hundred."""

    def __init__(self, repo: Path, env: Mapping[str, str]) -> None:
        self.repo = repo
        self.env = dict(env)
        self._entries: dict[str, list[Entry]] = {}
        self._made: dict[str, str] = {}
        self._blobs: dict[str, str] = {}
        self._trees: dict[str, str] = {}
        self._identity: dict[str, str] | None = None

    def identity(self) -> dict[str, str]:
        """Who commits for the user: their git identity, or scaffold's when they have none."""
        if self._identity is None:
            self._identity = identity_env(self.repo)
        return self._identity

    def tree_of(self, commit: str) -> str:
        if commit not in self._trees:
            self._trees[commit] = self.git("rev-parse", f"{commit}^{{tree}}")
        return self._trees[commit]

    def full_env(self) -> dict[str, str]:
        """The environment for running git directly (as bytes, say)."""
        return {**os.environ, **self.env}

    def git(self, *args: str, stdin: str | None = None) -> str:
        return run_git(self.repo, *args, env=self.env, stdin=stdin)

    def from_folder(self, folder: Path) -> str:
        """The tree of every file and symlink below ``folder``, byte for byte."""
        files, links = _walk(folder)
        if any("\n" in path for path in files):
            raise ScaffoldError("the template rendered a file name with a line break")
        blobs = self.git(
            "hash-object", "-w", "--no-filters", "--stdin-paths",
            stdin="".join(f"{folder / path}\n" for path in files),
        ).split()  # fmt: skip
        listed = zip(files.items(), blobs, strict=True)
        rows = [f"{mode} {oid}\t{path}" for (path, mode), oid in listed]
        for path, target in links.items():
            rows.append(f"120000 {self.blob(target)}\t{path}")
        with tempfile.TemporaryDirectory(prefix="scaffold-index-") as scratch:
            env = {**self.env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
            run_git(self.repo, "update-index", "--add", "-z", "--index-info", env=env,
                    stdin="".join(f"{row}\0" for row in rows))  # fmt: skip
            return run_git(self.repo, "write-tree", env=env)

    def blob(self, text: str) -> str:
        if text not in self._blobs:
            self._blobs[text] = self.git("hash-object", "-w", "--no-filters", "--stdin", stdin=text)
        return self._blobs[text]

    def entries(self, tree: str) -> list[Entry]:
        if tree in self._entries:
            return self._entries[tree]
        listed = self.git("ls-tree", "-z", tree)
        found = []
        for row in filter(None, listed.split("\0")):
            meta, name = row.split("\t", 1)
            mode, kind, oid = meta.split()
            found.append(Entry(mode, kind, oid, name))
        if _IMMUTABLE.match(tree):
            self._entries[tree] = found
        return found

    def make(self, entries: Iterable[Entry]) -> str:
        listed = sorted(entries, key=_git_order)  # mktree would sort them too
        rows = "".join(f"{e.mode} {e.kind} {e.oid}\t{e.name}\0" for e in listed)
        if rows not in self._made:
            made = self.git("mktree", "-z", stdin=rows)
            self._made[rows] = made
            self._entries.setdefault(made, listed)
        return self._made[rows]

    def at(self, tree: str, path: str) -> str | None:
        """The tree at ``path`` inside ``tree``, or None when there is none."""
        if not path:
            return tree
        for entry in self.entries(tree):
            head, _, rest = path.partition("/")
            if entry.name == head:
                return self.at(entry.oid, rest) if entry.kind == "tree" else None
        return None

    def replace(self, tree: str | None, path: str, subtree: str | None) -> str:
        """``tree`` with the folder at ``path`` replaced by ``subtree`` (None: removed)."""
        if not path:
            return subtree or self.make([])
        empty = self.make([])
        head, _, rest = path.partition("/")
        entries = self.entries(tree) if tree else []
        child = next((e.oid for e in entries if e.name == head and e.kind == "tree"), None)
        new_child = self.replace(child, rest, subtree) if rest else subtree
        kept = [e for e in entries if e.name != head]
        if new_child not in (None, empty):
            kept.append(Entry("040000", "tree", str(new_child), head))
        return self.make(kept)  # mktree puts the entries in git's order

    def with_file(self, tree: str, path: str, mode: str, oid: str) -> str:
        """``tree`` with the file at ``path`` holding the blob ``oid``."""
        folder, _, name = path.rpartition("/")
        parent = self.at(tree, folder)
        kept = [e for e in self.entries(parent) if e.name != name] if parent else []
        return self.replace(tree, folder, self.make([*kept, Entry(mode, "blob", oid, name)]))

    def files(self, tree: str) -> dict[str, str]:
        """Every file below ``tree``: path -> "mode oid"."""
        listed = self.git("ls-tree", "-r", "-z", tree)
        found = {}
        for row in filter(None, listed.split("\0")):
            meta, path = row.split("\t", 1)
            mode, _, oid = meta.split()
            found[path] = f"{mode} {oid}"
        return found

    def commit(
        self, tree: str, parents: Iterable[str], message: str, env: Mapping[str, str]
    ) -> str:
        """A commit object; never signed: these commits are scaffold's bookkeeping."""
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        made = run_git(
            self.repo, "commit-tree", "--no-gpg-sign", tree, *parent_args, "-m", message,
            env={**self.env, **env},
        )  # fmt: skip
        if _IMMUTABLE.match(tree):
            self._trees[made] = tree
        return made


def _walk(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Regular files (path -> mode) and symlinks (path -> target) below ``folder``."""
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for current, folders, names in os.walk(folder):
        folders[:] = [f for f in folders if f != ".git" or Path(current, f).is_symlink()]
        for name in [*names, *(f for f in folders if Path(current, f).is_symlink())]:
            path = Path(current, name)
            relative = path.relative_to(folder).as_posix()
            status = path.lstat()
            if stat.S_ISLNK(status.st_mode):
                links[relative] = os.readlink(path)
            elif stat.S_ISREG(status.st_mode):
                files[relative] = "100755" if status.st_mode & 0o111 else "100644"
    return dict(sorted(files.items())), links


def _git_order(entry: Entry) -> str:
    """git sorts a tree's entries by name, a folder's as if it ended in '/'."""
    return entry.name + "/" if entry.kind == "tree" else entry.name
