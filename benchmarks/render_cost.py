"""CPU seconds of one render in a process that renders many (the matrix's workers, the tests),
with scaffold's render shortcuts and without them, alternating in one run.

Run: .venv/bin/python benchmarks/render_cost.py [--renders N] [--with caching,auth,...]

The shortcuts: Jinja compiles each source once per process (src/scaffold/compile_memo.py) and
the answers file's path is not rendered when it holds no Jinja (src/scaffold/copier_shortcuts.py).
"Without" replaces both with no-ops; the two variants alternate so that a busy machine slows
both alike. The first render of each variant is reported apart (it fills the memo); a render before
them, not counted, pays the imports.
The trees written are compared: they must be identical. Numbers only; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from scaffold import compile_memo, copier_shortcuts
from scaffold.catalog import CATALOG
from scaffold.commands.new import NewOptions, create_project
from scaffold.selection import Request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.disk import snapshot  # noqa: E402


@contextlib.contextmanager
def shortcuts(enabled: bool) -> Iterator[None]:
    if enabled:
        yield
        return
    saved = (compile_memo.compiled_once, copier_shortcuts.plain_answers_path)
    compile_memo.compiled_once = contextlib.nullcontext
    copier_shortcuts.plain_answers_path = contextlib.nullcontext
    try:
        yield
    finally:
        compile_memo.compiled_once, copier_shortcuts.plain_answers_path = saved


def render_once(folder: Path, capabilities: tuple[str, ...], enabled: bool) -> float:
    options = NewOptions("bench-svc", folder, Request(with_=capabilities), git=False, lock=False)
    with shortcuts(enabled):
        started = time.process_time()
        create_project(options)
        return time.process_time() - started


def add_capabilities_option(parser: argparse.ArgumentParser) -> None:
    every = ",".join(c.name for c in CATALOG.available)
    parser.add_argument(
        "--with", dest="with_", default=every, help="capabilities, comma-separated (default: all)"
    )


def chosen_capabilities(arguments: argparse.Namespace) -> tuple[str, ...]:
    return tuple(name for name in arguments.with_.split(",") if name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=8, help="per variant (default 8)")
    add_capabilities_option(parser)
    args = parser.parse_args()
    capabilities = chosen_capabilities(args)
    cpu: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="render-cost-") as scratch:
        render_once(Path(scratch) / "warm-up", capabilities, enabled=False)  # imports, caches
        for index in range(args.renders):
            for enabled in (False, True):
                folder = Path(scratch) / f"{enabled}-{index}"
                cpu[enabled].append(render_once(folder, capabilities, enabled))
        trees = [snapshot(Path(scratch) / f"{enabled}-0" / "bench-svc") for enabled in cpu]
        assert trees[0] == trees[1], "the two variants wrote different trees"
    print(f"render of --with {','.join(capabilities) or '(none)'}, CPU seconds per render:")
    for enabled, label in ((False, "without the shortcuts"), (True, "with the shortcuts")):
        first, rest = cpu[enabled][0], cpu[enabled][1:]
        print(f"  {label:22}  first {first:.2f}  then median {statistics.median(rest):.2f}")


if __name__ == "__main__":
    main()
