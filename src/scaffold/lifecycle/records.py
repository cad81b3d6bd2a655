"""Generation records: which pristine generation(s) a branch was last brought to.

A record is a one-line file in the project, `.scaffold/generations/<commit>`, so it travels
with the branch's content through merges, squash merges, rebases, cherry-picks and amended
commits. One file per generation, named by its commit, is what makes git merge records
correctly: two branches that each replaced the record with a new one merge into a tree holding
both new records (and neither old one) without a conflict, and the next scaffold command sees
that both generations were merged. (A line in a shared file would conflict on every such merge;
and records share no line, so git never takes one for a rename of another.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scaffold.lifecycle.trees import Entry, Trees
from scaffold.render import ANSWERS_FILE

FOLDER = ".scaffold"
RECORDS = f"{FOLDER}/generations"
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_LINE = re.compile(r"^([0-9a-f]+) answers_file=(.+)$")
README = f"{FOLDER}/README.md"
README_TEXT = """\
# scaffold's records

Each file in `generations/` names a scaffold generation this folder was last brought to: a
commit holding exactly what the template rendered, kept in git as
`refs/scaffold/generations/<commit>`. `scaffold update`, `add`, `remove` and `merge` write these
files; do not edit them. Share the generations with your team:

    git push origin 'refs/scaffold/*'

More than one file here means git merged branches that each made a generation;
`scaffold update` turns them into one. See scaffold's docs/lifecycle.md.
"""


@dataclass(frozen=True)
class Record:
    commit: str
    answers_file: str = ANSWERS_FILE


def record_text(record: Record) -> str:
    """The file's content: the same for the same generation on every branch and machine."""
    return f"{record.commit} answers_file={record.answers_file}\n"


def parse_record(name: str, text: str) -> Record | None:
    if not _COMMIT.match(name):
        return None
    found = _LINE.match(text.strip())
    return Record(name, found.group(2).strip() if found else ANSWERS_FILE)


def read_records(root: Path) -> list[Record]:
    """The records in a service folder's working tree, oldest name first."""
    folder = root / RECORDS
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink():
            record = parse_record(path.name, path.read_text(encoding="utf-8", errors="replace"))
            if record is not None:
                found.append(record)
    return found


def folder_tree(trees: Trees, existing: str | None, records: Sequence[Record]) -> str:
    """The `.scaffold` folder as a tree: ``existing`` with exactly ``records`` in it, and the
    README that says what they are."""
    rows = [Entry("100644", "blob", trees.blob(record_text(r)), r.commit) for r in records]
    folder = trees.replace(existing, RECORDS.removeprefix(f"{FOLDER}/"), trees.make(rows))
    name = README.removeprefix(f"{FOLDER}/")
    if not any(entry.name == name for entry in trees.entries(folder)):
        entries = [*trees.entries(folder), Entry("100644", "blob", trees.blob(README_TEXT), name)]
        folder = trees.make(entries)
    return folder
