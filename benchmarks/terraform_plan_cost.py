"""CPU seconds (of Terraform, its provider and the emulator's requests, i.e. child processes) of
the matrix's `terraform plan` check for one Terraform tree, the way it ran before and the way it
runs now, alternating in one run.

Run (with the services up: `eval "$(scripts/services env)"`):
    .venv/bin/python benchmarks/terraform_plan_cost.py [--rounds N] [--with caching,auth,...]

Before: `terraform init` in every scratch copy, the plan, then `terraform show -json` to read the
plan's promises in Python. Now (tests/matrix/terraform_checks.py): `init` once per set of
provider requirements (later copies get its result, tests/matrix/terraform_init.py), and the
promises as preconditions inside the plan (tests/matrix/matrix_promises.tf). The first round of
"now" pays the one real `init`; it is reported apart. Numbers only; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from scaffold.commands.new import NewOptions, create_project
from scaffold.selection import Request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.render_cost import add_capabilities_option, chosen_capabilities  # noqa: E402
from tests.matrix import terraform_checks as tf  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def before(project: Path) -> None:
    """The check as it was: a real init per copy, the plan, and `terraform show -json`."""
    with tf.terraform_copy(project) as folder:
        (folder / tf.OVERRIDE_FILE).write_text(tf.emulator_override(tf.emulator_endpoint()))
        tf.terraform(folder, "init", "-input=false")
        tf.plan_or_explain(folder, *tf.plan_arguments(tf.PLAN_VARIABLES))
        plan = json.loads(tf.terraform(folder, "show", "-json", "plan.out").strip())
    assert plan["resource_changes"], "the plan planned nothing"


def measured(check: Callable[[Path], None], project: Path) -> float:
    started = children_cpu()
    check(project)
    return children_cpu() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="per variant (default 3)")
    add_capabilities_option(parser)
    arguments = parser.parse_args()
    capabilities = chosen_capabilities(arguments)
    with tempfile.TemporaryDirectory(prefix="terraform-bench-") as scratch:
        options = NewOptions(
            "bench-svc", Path(scratch), Request(with_=capabilities), git=False, lock=False
        )
        project = create_project(options).target
        times: dict[str, list[float]] = {"before": [], "now": []}
        first_now = 0.0
        for round_number in range(arguments.rounds + 1):
            times["before"].append(measured(before, project))
            now = measured(tf.terraform_plan, project)
            if round_number == 0:
                first_now = now
            else:
                times["now"].append(now)
        times["before"] = times["before"][1:]
    print(f"Terraform tree of: {', '.join(capabilities) or 'the base service'}")
    print(f"now, first plan in the process (pays the one init): {first_now:.2f} CPU-s")
    for name, values in times.items():
        rounds = ", ".join(f"{value:.2f}" for value in values)
        print(f"{name:>6}: median {statistics.median(values):.2f} CPU-s per plan ({rounds})")
    saved = statistics.median(times["before"]) - statistics.median(times["now"])
    print(f" saved: {saved:.2f} CPU-s per Terraform tree")


if __name__ == "__main__":
    main()
