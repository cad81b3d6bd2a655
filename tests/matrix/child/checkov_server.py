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

Protocol: one JSON object per line on stdin, one reply per line on stdout; "ready" first.
  {"args": [...], "cwd": DIR, "output": FILE}  ->  {"exit": CODE, "cpu": SECONDS}
(the scan's CPU seconds: the server reaps it, so its client's rusage never sees them).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import warnings
from typing import Any

import ply.yacc
from checkov.main import Checkov

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


def scan(arguments: list[str], cwd: str, output: str) -> tuple[int, float]:
    pid = os.fork()
    if pid == 0:  # the child: one checkov run, as the command would make it
        code = 70
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(descriptor, 1)
            os.dup2(descriptor, 2)
            os.chdir(cwd)
            sys.argv = ["checkov", *arguments]
            with warnings.catch_warnings():  # as checkov's own launcher does
                warnings.simplefilter("ignore", category=SyntaxWarning)
                code = Checkov(arguments).run() or 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException as error:
            print(f"checkov_server: {type(error).__name__}: {error}", file=sys.stderr)
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main() -> None:
    if os.environ.get(TABLES_VARIABLE, "1") != "0":
        build_parsers_once()
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        code, cpu = scan(list(request["args"]), request["cwd"], request["output"])
        print(json.dumps({"exit": code, "cpu": round(cpu, 3)}), flush=True)


if __name__ == "__main__":
    main()
