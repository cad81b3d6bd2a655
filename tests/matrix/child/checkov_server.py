"""A warm checkov for one matrix worker: it imports checkov once (about 8 CPU-seconds, most of a
cold run's cost) and then forks a child per scan, which runs exactly what the `checkov` command
runs (``Checkov(argv).run()``) from that pristine, imported state and exits with its code.

One thing is built once here instead of in every scan: the LALR tables of checkov's JSONPath
parser (bc_jsonpath_ng, on PLY), which that library regenerates on every parse ("it doesn't
actually take that long"), which checkov does for each attribute it renders through a JSONPath
(dozens per folder): about two fifths of a scan of the generated Terraform. The tables are a
function of the grammar alone and the parser's actions build nodes from their arguments only,
so a scan parses every path exactly as before (PLY itself is meant to build them once and keep
them in a file). ``SCAFFOLD_CHECKOV_PARSER_TABLES=0`` turns this off.

And each Terraform file's text is parsed once per server (``ParsedOnce``): python-hcl2's
``load`` (lark, a pure function of the text) was a seventh of a scan, and the matrix scans the
same files in most combinations (20 of the 23 files of ``deploy/terraform`` have one content in
every combination that has them). Before each scan the server parses every ``*.tf`` text below
the scan's folder it has not parsed yet (its CPU counted in the scan's); in the scan,
``hcl2.load`` of a text parsed so gives a deep copy of that result (plain dicts, lists and
scalars: what parsing it again would give), any other text is parsed as before.
``SCAFFOLD_CHECKOV_PARSE_ONCE=0`` turns this off.

Runs with checkov's own interpreter (its virtualenv, made by scripts/install-linters). Nothing of
a scan flows back: a child ends with ``os._exit``, its output goes to the file it is given.

Protocol: ``forked_runs.py``.
"""

from __future__ import annotations

import copy
import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import hcl2
import ply.yacc
from checkov.main import Checkov

if TYPE_CHECKING:
    from tests.matrix.child.forked_runs import serve
else:  # run as a script, beside it
    from forked_runs import serve

TABLES_VARIABLE = "SCAFFOLD_CHECKOV_PARSER_TABLES"
PARSE_VARIABLE = "SCAFFOLD_CHECKOV_PARSE_ONCE"


def build_parsers_once() -> None:
    """Make ``ply.yacc.yacc`` give bc_jsonpath_ng's parser classes the parser built on their
    first call (per class, start symbol, method and thread: an LR parser keeps its stacks while
    it parses), then build them here, before any scan forks."""
    original = ply.yacc.yacc
    built: dict[tuple[object, ...], Any] = {}

    def yacc(*args: Any, **options: Any) -> Any:
        module = options.get("module")
        if args or module is None or not type(module).__module__.startswith("bc_jsonpath_ng"):
            return original(*args, **options)
        key = (type(module), options.get("start"), options.get("method", "LALR"),
               bool(options.get("debug")), threading.get_ident())  # fmt: skip
        if key not in built:
            built[key] = original(**options)
        return built[key]

    ply.yacc.yacc = yacc
    import bc_jsonpath_ng
    import bc_jsonpath_ng.ext

    bc_jsonpath_ng.parse("$.a")
    bc_jsonpath_ng.ext.parse("$.a")


class ParsedOnce:
    """``hcl2.load`` answered from the results of texts this server parsed (keyed by the whole
    text: the same text, the same result)."""

    def __init__(self) -> None:
        self.parsed: dict[str, Any] = {}
        self.parse = hcl2.loads
        self.original = hcl2.load

    def prepare(self, cwd: str) -> None:
        """Parse every Terraform file below ``cwd`` (hidden folders apart: ``.terraform``) whose
        text is new, as checkov reads it; one that fails to parse is left to the scan."""
        for folder, folders, files in os.walk(cwd):
            folders[:] = [name for name in folders if not name.startswith(".")]
            for name in files:
                if not name.endswith(".tf"):
                    continue
                try:
                    text = Path(folder, name).read_text(encoding="utf-8-sig")
                    if text not in self.parsed:
                        self.parsed[text] = self.parse(text)
                except Exception:
                    continue

    def load(self, file: TextIO, **options: Any) -> Any:
        """As ``hcl2.load``: ``loads(file.read())`` (with options, the original)."""
        if options:
            return self.original(file, **options)
        text = file.read()
        if text in self.parsed:
            return copy.deepcopy(self.parsed[text])
        return self.parse(text)


def checkov_run(arguments: list[str]) -> int:
    """As the `checkov` command makes it."""
    with warnings.catch_warnings():  # as checkov's own launcher does
        warnings.simplefilter("ignore", category=SyntaxWarning)
        return Checkov(arguments).run() or 0


def main() -> None:
    if os.environ.get(TABLES_VARIABLE, "1") != "0":
        build_parsers_once()
    if os.environ.get(PARSE_VARIABLE, "1") == "0":
        serve("checkov", checkov_run)
        return
    parsed = ParsedOnce()
    setattr(hcl2, "load", parsed.load)  # noqa: B010  what checkov's parser calls (``hcl2.load(f)``), in every scan
    serve("checkov", checkov_run, parsed.prepare)


if __name__ == "__main__":
    main()
