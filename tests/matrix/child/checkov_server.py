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

Runs with checkov's own interpreter (its virtualenv, made by scripts/install-linters). Nothing of
a scan flows back: a child ends with ``os._exit``, its output goes to the file it is given.

Protocol: ``forked_runs.py``.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import TYPE_CHECKING, Any

import ply.yacc
from checkov.main import Checkov

if TYPE_CHECKING:
    from tests.matrix.child.forked_runs import serve
else:  # run as a script, beside it
    from forked_runs import serve

TABLES_VARIABLE = "SCAFFOLD_CHECKOV_PARSER_TABLES"


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


def checkov_run(arguments: list[str]) -> int:
    """As the `checkov` command makes it."""
    with warnings.catch_warnings():  # as checkov's own launcher does
        warnings.simplefilter("ignore", category=SyntaxWarning)
        return Checkov(arguments).run() or 0


def main() -> None:
    if os.environ.get(TABLES_VARIABLE, "1") != "0":
        build_parsers_once()
    serve("checkov", checkov_run)


if __name__ == "__main__":
    main()
