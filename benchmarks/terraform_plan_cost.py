"""CPU seconds of the matrix's Terraform checks for one combination (`terraform plan`,
`production needs TLS`, and with `cicd` `pipeline terraform`), with Terraform starting its own
providers, with every command attached to one shared provider process
(tests/matrix/terraform_provider.py), attached to one behind its cache of pure answers (the
program `SCAFFOLD_TERRAFORM_PROVIDER_CACHE` names), and behind the cache that also keeps the
plans of the pure resource types (`PURE_TYPES`: the WAF), alternating in one run. Each shared
variant keeps its own provider for the whole run, as a matrix worker does.

Run (with the services up: `eval "$(scripts/services env)"`):
    .venv/bin/python benchmarks/terraform_plan_cost.py [--rounds N] [--with caching,auth,...]

Counted: Terraform and everything it starts (child processes), and for the shared variants the
provider's own CPU (and the cache's) while each round ran (read from /proc); the shared
providers' start, idle time between rounds and stop are counted apart. Round 0 of each variant
pays the one real `terraform init` and warms the caches; it is left out. Numbers only; nothing
asserts a time.
"""

from __future__ import annotations

import argparse
import os
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
from tests.matrix import pipeline_checks as pipeline  # noqa: E402
from tests.matrix import terraform_checks as tf  # noqa: E402
from tests.matrix import terraform_provider as shared  # noqa: E402

CHECKS: dict[str, Callable[[Path], object]] = {
    "terraform plan": tf.terraform_plan,
    "production needs TLS": tf.production_requires_a_certificate,
    "pipeline terraform": pipeline.pipeline_terraform,
}
VARIANTS = {
    "own providers": "0",
    "shared provider": "1",
    "shared, cached": "1",
    "cached + pure types": "1",
}
CACHED = "shared, cached"
PURE = "cached + pure types"
"""The cache also keeping the plans of ``shared.PURE_TYPES`` (what the matrix runs)."""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(check: Callable[[Path], object], project: Path, provider: bool) -> float:
    """The check's CPU seconds: its child processes, and the shared provider's if ``provider``."""
    started = children_cpu() + (shared.unreaped_cpu_seconds() if provider else 0.0)
    check(project)
    return children_cpu() + (shared.unreaped_cpu_seconds() if provider else 0.0) - started


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
        with_pipeline = (project / pipeline.PIPELINE_DIR).is_dir()
        checks = {name: check for name, check in CHECKS.items()
                  if with_pipeline or name != "pipeline terraform"}  # fmt: skip
        times: dict[tuple[str, str], list[float]] = {
            (variant, name): [] for variant in VARIANTS for name in checks
        }
        first = dict.fromkeys(VARIANTS, 0.0)
        cache = os.environ.pop(shared.CACHE_VARIABLE, None)
        assert cache, f'{shared.CACHE_VARIABLE} is not set: eval "$(scripts/services env)"'
        providers: dict[str, list[shared.SharedProvider]] = {}
        pure_types = shared.PURE_TYPES
        started = children_cpu()
        for round_number in range(arguments.rounds + 1):
            for variant, setting in VARIANTS.items():
                os.environ[shared.SHARED_PROVIDER_VARIABLE] = setting
                if variant in (CACHED, PURE):
                    os.environ[shared.CACHE_VARIABLE] = cache
                else:
                    os.environ.pop(shared.CACHE_VARIABLE, None)
                shared.PURE_TYPES = pure_types if variant == PURE else ()
                # Each shared variant's own provider (and cache) for the whole run.
                shared._current[:] = providers.get(variant, [])
                for name, check in checks.items():
                    seconds = measured(check, project, setting == "1")
                    if round_number == 0:
                        first[variant] += seconds
                    else:
                        times[(variant, name)].append(seconds)
                providers[variant] = shared._current[:]
        counts = {variant: providers[variant][0].cache_counts()
                  for variant in (CACHED, PURE) if providers[variant]}  # fmt: skip
        for held in providers.values():
            shared._current[:] = held
            shared.stop()  # its watchdog is reaped: the provider's whole life is in children_cpu
        everything = children_cpu() - started
    counted = sum(first.values()) + sum(sum(values) for values in times.values())
    rounds = arguments.rounds
    print(f"\nTerraform of: {', '.join(capabilities) or 'the base service'}; {rounds} rounds")
    print("| check | " + " | ".join(f"{variant} (median CPU-s)" for variant in VARIANTS) + " |")
    print("|---" * (len(VARIANTS) + 1) + "|")
    per_round = dict.fromkeys(VARIANTS, 0.0)
    for name in checks:
        medians = {variant: statistics.median(times[(variant, name)]) for variant in VARIANTS}
        for variant, median in medians.items():
            per_round[variant] += median
        print(f"| {name} | " + " | ".join(f"{m:.2f}" for m in medians.values()) + " |")
    print("| all | " + " | ".join(f"{total:.2f}" for total in per_round.values()) + " |")
    print(
        "round 0 (pays the one `terraform init`; starts the shared providers): "
        + ", ".join(f"{variant} {seconds:.2f}" for variant, seconds in first.items())
        + " CPU-s"
    )
    print(f"shared providers between and after the rounds (idle, stop): {everything - counted:.2f}")
    for variant, held in counts.items():
        print(f"cache of {variant} (per method: ran, reused, provider seconds): {held}")


if __name__ == "__main__":
    main()
