"""Steps of a Copier render that cost time and, for scaffold's renders, change nothing.

Each is a context manager that replaces one of Copier's methods while a render runs, and puts
it back afterwards; where Copier has no such method, nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def no_index_sync() -> Iterator[None]:
    """Skip Copier's per-file question to git about the destination's index.

    For each file it writes, Copier runs git to see whether the destination repository ignores
    file modes (`core.fileMode=false`) and tracks that file, to fix its executable bit in the
    index. scaffold always renders into a new folder, whose files no index tracks, so the
    answer is always "nothing to do"; asking costs one git process per file, the largest part
    of a render's time on a busy machine. Where Copier has no such step, nothing changes.
    """
    from copier import _main

    worker = _main.Worker
    step = "_sync_git_index_executable_bit"
    original = worker.__dict__.get(step)
    if original is None:
        yield
        return
    setattr(worker, step, lambda self, *args, **kwargs: None)
    try:
        yield
    finally:
        setattr(worker, step, original)


@contextmanager
def plain_answers_path() -> Iterator[None]:
    """Skip rendering the answers file's path when it holds no Jinja syntax.

    Copier renders the path of the answers file (a template may compute it) each time it asks
    for it, which is once per file written, with the whole render context built anew each time:
    a third of a render's time. A path with none of the environment's delimiters in it renders
    to itself, so it is returned as it is; any other path is rendered as Copier does.
    """
    from copier import _main

    worker = _main.Worker
    original = worker.__dict__.get("answers_relpath")
    if not isinstance(original, property) or original.fget is None:
        yield
        return
    render = original.fget

    def answers_relpath(self: Any) -> Path:
        path = str(self.answers_file or self.template.answers_relpath)
        environment = self.jinja_env
        markers = (
            environment.block_start_string, environment.variable_start_string,
            environment.comment_start_string, environment.line_statement_prefix,
            environment.line_comment_prefix,
        )  # fmt: skip
        if any(marker and marker in path for marker in markers):
            rendered: Path = render(self)
            return rendered
        return Path(path)

    worker.answers_relpath = property(answers_relpath)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        worker.answers_relpath = original  # type: ignore[method-assign,assignment]
