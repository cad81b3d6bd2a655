"""The matrix fails on exactly the combinations that use a broken file, and on no other, with
reuse on: a reuse key that missed an input would let a broken combination pass on the result of
a sound one.

A copy of the template gets broken files, each rendered only when caching and rate limiting are
chosen together, each aimed at one check, and each next to files that the combination without
caching (or without rate limiting) has byte-identical, so that a key missing the broken file
would find that combination's result:
- a Python file with a syntax error (compile, ruff, mypy);
- a Terraform file that parses but is not formatted (terraform fmt; the Terraform trees of
  `rate_limiting` and `caching+rate_limiting` are otherwise identical);
- a `.hadolint.yaml` that trusts no registry (hadolint: the Dockerfile is the same everywhere);
- a workflow with an unknown key (actionlint), an edge config with an unknown directive
  (nginx -t), a YAML file that does not parse;
and, in `rate_limiting` alone, a module with a type error (mypy, in the worker's warm server).

Cheap at any catalog size: the run covers only the combinations made of the two capabilities
(the base, each alone, both: the smallest set that holds the affected combination and, for
each capability of the condition, an unaffected one that differs from it by that capability),
tier 1 only, in one process so that later combinations reuse earlier results.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from scaffold.matrix import combinations
from scaffold.template_source import packaged_template
from tests.matrix.mode import ONLY_VARIABLE
from tests.matrix.static_tier import CHECKS_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
TOGETHER = frozenset({"caching", "rate_limiting"})
WHEN = "{% if caching and rate_limiting %}"
TYPE_ERROR_ONLY = "rate_limiting"
"""The combination that alone gets a module that is sound Python with a type error: mypy fails
there and nowhere else, though the worker's mypy (one warm server, one cache, one folder) checked
the combinations before it there (tests/test_matrix_mypy_server.py: and a module gone is gone)."""
TYPE_ERROR_FILE = "typed_wrongly.py"
BROKEN: dict[str, str] = {
    f"src/{{{{ package_name }}}}/{WHEN}broken_together.py{{% endif %}}": "def broken(:\n    pass\n",
    f"deploy/terraform/{WHEN}broken_together.tf{{% endif %}}": 'locals {\nbroken   =   "x"\n}\n',
    f"{WHEN}.hadolint.yaml{{% endif %}}": "trustedRegistries:\n  - registry.example.com\n",
    f".github/workflows/{WHEN}broken_together.yml{{% endif %}}": (
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: true\n"
        "    no-such-key: 1\n"
    ),
    (
        "deploy/{% if rate_limiting %}nginx{% endif %}/templates/"
        "{% if caching %}broken_together.conf.template{% endif %}"
    ): "no_such_directive on;\n",
    f"{WHEN}broken_together.yml{{% endif %}}": "key: [unclosed\n",
    (
        f"src/{{{{ package_name }}}}/{{% if rate_limiting and not caching %}}{TYPE_ERROR_FILE}"
        "{% endif %}"
    ): '"""Sound Python, but not sound types."""\n\nLIMIT: int = "ten"\n',
}
EXPECTED_FAILURES = {
    "compile", "ruff", "mypy", "terraform fmt", "hadolint", "actionlint", "nginx -t", "parse",
}  # fmt: skip


def broken_copy(folder: Path) -> Path:
    template = folder / "template"
    shutil.copytree(packaged_template(), template)
    for relative, text in BROKEN.items():
        path = template / "project" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return template


def neighbourhood() -> dict[str, frozenset[str]]:
    """The combinations made of the condition's capabilities alone."""
    return {s.label(): s.capabilities for s in combinations() if s.capabilities <= TOGETHER}


def run_matrix(tmp_path: Path, labels: list[str]) -> dict[str, Any]:
    report_dir = tmp_path / "report"
    env = {
        **os.environ,
        "SCAFFOLD_MATRIX": "full",
        ONLY_VARIABLE: ",".join(labels),
        "SCAFFOLD_MATRIX_TEMPLATE": str(broken_copy(tmp_path)),
        "SCAFFOLD_MATRIX_TIERS": "static",
        "SCAFFOLD_MATRIX_REPORT": str(report_dir),
        "SCAFFOLD_MATRIX_REUSE": "1",
        # The checks the broken files aim at (and hadolint's reuse, asserted below) are all
        # this test reads; the others (Terraform plans above all) would only cost time.
        CHECKS_VARIABLE: ",".join(sorted(EXPECTED_FAILURES)),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/matrix/test_combinations.py", f"--basetemp={tmp_path / 'run'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (report_dir / "report.json").is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    summary: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    return summary


def test_only_the_combinations_with_both_capabilities_fail_with_reuse_on(tmp_path: Path) -> None:
    chosen = neighbourhood()
    affected = {label for label, caps in chosen.items() if caps >= TOGETHER}
    assert len(affected) == 1 and len(chosen) == 4, "needs caching and rate_limiting available"
    summary = run_matrix(tmp_path, list(chosen))
    entries = {entry["id"]: entry for entry in summary["combinations"]}
    assert set(entries) == set(chosen)
    for label, entry in entries.items():
        checks = entry["tier1"]["checks"]
        failed = {name for name, check in checks.items() if check["outcome"] != "passed"}
        expected = {TYPE_ERROR_ONLY: {"mypy"}}.get(label, set())
        assert failed == (EXPECTED_FAILURES if label in affected else expected), (label, failed)
    type_error = entries[TYPE_ERROR_ONLY]["tier1"]["checks"]["mypy"]["message"]
    assert f"{TYPE_ERROR_FILE}:3: error: Incompatible types in assignment" in type_error, type_error
    # Reuse really was on: the unaffected combinations shared identical Dockerfiles ...
    assert summary["reuse"]["hadolint"]["reused"] >= 2
    # ... and the affected one ran every keyed check itself instead of reusing a pass.
    (broken,) = affected
    keyed = {n: c for n, c in entries[broken]["tier1"]["checks"].items() if c["keyed"]}
    # (a keyed check whose inputs the breakage does not touch may reuse its pass: the failed set
    # above already shows that nothing that should fail passed)
    assert keyed and all(
        keyed[name]["reused_from"] is None for name in keyed.keys() & EXPECTED_FAILURES
    ), keyed
