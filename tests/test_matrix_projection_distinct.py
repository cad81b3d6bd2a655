"""The projection by distinct inputs: a tier 2 part is replayed over the rendered combinations
that have it as the store reuses it (a combination reuses an earlier run whose reads are in the
same state in its tree, else it runs and reads what the nearest measured run read); a part never
stored runs in each one; each at the CPU-s the run measured (projection_distinct.py)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from scaffold.catalog import CATALOG
from scaffold.matrix import combinations
from tests.matrix.child.read_trace import ReadTrace
from tests.matrix.content import digest, path_kind, path_state
from tests.matrix.projection_distinct import Distinct, Stored, nearest, project, stored_runs
from tests.matrix.projection_facts import Paths, facts_in_order, parts_of
from tests.matrix.report_markdown import distinct_lines
from tests.matrix.reuse import Manifest, Result, Store
from tests.matrix.runtime_groups import group_name
from tests.matrix.runtime_parts import Place, reused_or_run

PACKAGE = str(CATALOG.get("caching").package)  # type: ignore[union-attr]
INTEGRATION, UNIT = group_name(PACKAGE, "integration"), group_name(PACKAGE, "unit")


def traced(tmp_path: Path, read: list[str], probed: list[str]) -> Any:
    """A part's body whose one command read ``read`` and probed ``probed``."""

    def body(traces: list[Path], details: dict[str, Any]) -> None:
        trace = tmp_path / f"trace-{len(list(tmp_path.glob('trace-*')))}.json"
        record = ReadTrace(str(tmp_path))  # its record, as a run that started nothing writes it
        record.opened, record.probed = set(read), set(probed)
        record.write(trace)
        traces.append(trace)

    return body


def project_with(root: Path, files: dict[str, str]) -> Path:
    for folder in (f"tests/integration/{PACKAGE}", f"tests/unit/{PACKAGE}"):
        (root / folder).mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_run_part_stores_its_name_and_cpu_and_a_reuse_reports_them(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    root = project_with(tmp_path / "one", {"src/cache.py": "x = 1\n"})
    clock = iter([1.0, 3.5])
    place = Place(store, root, "caching", lambda: next(clock))
    body = traced(tmp_path, ["src/cache.py"], ["src/absent.py"])
    result, row = reused_or_run("runtime-group", "primary", place, body, INTEGRATION)
    assert row["reused_from"] is None and row["cpu_seconds"] == 2.5
    assert result.details == {"part": INTEGRATION, "cpu_seconds": 2.5}
    again = Place(store, root, "caching+auth", lambda: 0.0)
    _, reused = reused_or_run("runtime-group", "primary", again, body, INTEGRATION)
    assert reused["reused_from"] == "caching" and reused["cpu_seconds"] == 2.5
    assert stored_runs(tmp_path / "store") == {
        INTEGRATION: [Stored("caching", Manifest(["src/cache.py"], ["src/absent.py"]))]
    }


def test_the_nearest_measured_run_lends_its_reads_to_a_combination() -> None:
    runs = [Stored("caching+auth", Manifest(["a"])), Stored("caching", Manifest(["b"]))]
    assert nearest(runs, "caching+cicd").source == "caching"
    assert nearest(runs, "caching+auth+cicd").source == "caching+auth"
    # Equally far: the first by name, so that a count does not depend on the store's order.
    tied = [Stored("caching+cicd", Manifest(["c"])), *runs]
    assert nearest(tied, "caching+auth+cicd").source == "caching+auth"
    assert nearest(list(reversed(tied)), "caching+auth+cicd").source == "caching+auth"


def test_a_part_is_replayed_as_the_store_reuses_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    # The integration group's two measured runs read different files: with auth, its module too.
    for key, source, read in (
        ("a", "caching", ["src/cache.py"]),
        ("b", "caching+auth", ["src/cache.py", "src/auth.py"]),
    ):
        result = Result("passed", "", source, 1.0, {"part": INTEGRATION})
        store.put(f"runtime-group/p{key}", key, result, Manifest(read))
    unit = Result("passed", "", "caching", 1.0, {"part": UNIT})
    store.put("runtime-group/pu", "u", unit, Manifest(["src/shared.py"], ["src/cache.py"]))
    # Stored without a part's name (an older harness) or a manifest: not counted.
    store.put("runtime-group/ps", "s", Result("passed", "", "sample", 1.0))
    shared = "def f(): ...\n"
    one = project_with(tmp_path / "one", {"src/cache.py": "x = 1\n", "src/shared.py": shared})
    two = project_with(tmp_path / "two", {"src/cache.py": "x = 2\n", "src/shared.py": shared})
    three = project_with(tmp_path / "three", {"src/cache.py": "x = 1\n", "src/shared.py": shared,
                                              "src/auth.py": "y = 1\n"})  # fmt: skip
    four = project_with(tmp_path / "four", {"src/cache.py": "x = 1\n", "src/shared.py": shared,
                                            "src/auth.py": "y = 2\n"})  # fmt: skip
    counting = Distinct(stored_runs(tmp_path / "store"), python=None)
    labels = ("caching", "caching+cicd", "caching+auth", "caching+auth+cicd")
    for root, label in zip((one, two, three, four), labels, strict=True):
        counting.observe(root, label)
    parts = counting.counts()["parts"]
    # one runs (reads cache.py); two: cache.py differs, runs; three: the run of one read only
    # cache.py, the same bytes here, so three reuses it (auth.py is nobody's input yet); four:
    # the same again. Had the runs' reads been joined, auth.py would have split three and four.
    assert parts[INTEGRATION] == {"present": 4, "distinct": 2, "stored_runs": 2, "paths": 2,
                                  "split_by": [["src/cache.py", 2]],
                                  "run_sources": {"caching": 2}}  # fmt: skip
    assert [m for m, _ in counting.runs[INTEGRATION]] == [Manifest(["src/cache.py"])] * 2
    # shared.py is the same everywhere and cache.py only probed (a file in each): one run.
    assert parts[UNIT]["distinct"] == 1
    # The service group and migrating were not stored: every combination.
    assert parts["service"] == {"present": 4, "distinct": None, "stored_runs": 0, "paths": 0,
                                "split_by": [], "run_sources": {}}  # fmt: skip
    assert parts["migrate+boot"]["distinct"] is None


def test_a_combination_that_reads_more_runs_when_what_only_it_reads_differs(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "store")
    result = Result("passed", "", "caching+auth", 1.0, {"part": INTEGRATION})
    store.put("runtime-group/p", "k", result, Manifest(["src/cache.py", "src/auth.py"]))
    counting = Distinct(stored_runs(tmp_path / "store"), python=None)
    for name, auth in (("one", "y = 1\n"), ("two", "y = 2\n"), ("three", "y = 1\n")):
        root = project_with(tmp_path / name, {"src/cache.py": "x\n", "src/auth.py": auth})
        counting.observe(root, "caching+auth")
    assert counting.counts()["parts"][INTEGRATION]["distinct"] == 2
    # The keys replayed are those under which the store looks a run up (reuse.py).
    manifest = Manifest(["src/cache.py", "src/auth.py"])
    keys = [key for _, key in counting.runs[INTEGRATION]]
    assert keys == [manifest.key(tmp_path / "one"), manifest.key(tmp_path / "two")]


def entry(
    label: str, *, cold: bool, hadolint: str | None, groups: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": label, "cold": cold,
        "cpu": {"render": 0.5, "tier1": 10.0, "tier2": 30.0},
        "tier1": {"checks": {
            "ruff": {"cpu_seconds": 2.0, "reused_from": None},
            "hadolint": {"cpu_seconds": 4.0 if hadolint is None else 0.5,
                         "reused_from": hadolint}}},
        "tier2": {"groups": groups, "start": {"migrate+boot": {
            "reused_from": None, "cpu_seconds": 3.0, "reusable": True}}},
    }  # fmt: skip


def ran(cpu: float, reusable: bool = True) -> dict[str, Any]:
    return {"reused_from": None, "cpu_seconds": cpu, "reusable": reusable}


REUSED = {"reused_from": "base", "cpu_seconds": 20.0, "reusable": True}
SUMMARY: dict[str, Any] = {
    "combinations": [
        entry("base", cold=True, hadolint=None, groups={"service": ran(15.0, False)}),
        entry(
            "caching",
            cold=False,
            hadolint="base",
            groups={"service": ran(17.0, False), INTEGRATION: ran(9.0), UNIT: REUSED},
        ),
    ],
    "totals": {"cpu_seconds": 80.0, "worker_seconds": 100.0},
    "projection": {"workers": 2, "cores": 2, "rest_of_session_seconds": 12.0},
}
COUNTS = {
    "combinations": 4,
    "checks": {"ruff": None, "hadolint": 1},
    "parts": {
        "service": {"present": 4, "distinct": None, "stored_runs": 0, "paths": 0},
        INTEGRATION: {
            "present": 2,
            "distinct": 2,
            "stored_runs": 1,
            "paths": 5,
            "split_by": [["src/cache.py", 2]],
        },
        UNIT: {"present": 2, "distinct": 1, "stored_runs": 0, "paths": 0},
        "migrate+boot": {"present": 4, "distinct": 1, "stored_runs": 2, "paths": 9},
    },
}


def test_the_projection_counts_runs_by_distinct_inputs_at_the_measured_cpu() -> None:
    projected = project(COUNTS, SUMMARY)
    tier1 = {row["check"]: row for row in projected["tier1"]}
    assert tier1["ruff"]["runs"] == 4 and tier1["ruff"]["cpu_seconds"] == 8.0
    # hadolint: one run at 4.0, three reuses at 0.5 (the key and the look-up)
    assert tier1["hadolint"]["cpu_seconds"] == 5.5
    tier2 = {row["part"]: row for row in projected["tier2"]}
    assert tier2["service"]["runs"] == 4 and tier2["service"]["cpu_seconds"] == 64.0
    assert tier2[INTEGRATION]["runs"] == 2 and tier2[INTEGRATION]["cpu_seconds"] == 18.0
    assert tier2["migrate+boot"]["cpu_seconds"] == 3.0
    assert tier2[INTEGRATION]["measured_runs"] == 1 and tier2["service"]["reusable_runs"] == 0
    # The unit group was never measured: listed, not guessed.
    assert tier2[UNIT]["median_cpu_seconds"] is None and projected["unmeasured"] == [UNIT]
    # Beyond checks: tier 1 of the warm one, 10 - 2 - 0.5; beyond parts: the median of
    # 30 - 15 - 3 and 30 - 17 - 9 - 3 (the reused group cost nothing here).
    assert projected["median_beyond_parts_cpu_seconds"] == {"tier1": 7.5, "tier2": 6.5}
    assert projected["cpu_seconds_by_phase"] == {
        "render": 2.0, "tier1": 8.0 + 5.5 + 4 * 7.5, "tier2": 64.0 + 18.0 + 3.0 + 4 * 6.5,
    }  # fmt: skip
    total = 2.0 + 43.5 + 111.0
    assert projected["cpu_seconds"] == total
    assert projected["matrix_wall_seconds_if_cpu_bound"] == round(total / 2, 1)
    assert projected["cpu_per_worker_second"] == 0.8
    assert projected["wall_seconds"] == round(12.0 + total / 0.8 / 2, 1)
    text = "\n".join(distinct_lines(projected))
    assert f"| {INTEGRATION} | 1 (1) | 1 | 5 | 2 | 2 | 9.0 | 18.0 |" in text
    assert "| service | 2 (0) | 0 | 0 | 4 | 4 (never reused) | 16.0 | 64.0 |" in text
    assert f"- {INTEGRATION} (2 runs) is split most by: `src/cache.py` (2 states)" in text
    assert "Only the 4 combinations offered today were rendered" in text
    assert f"Not measured in this run (counted 0 CPU-s): {UNIT}." in text


def test_each_run_is_costed_at_the_measured_run_whose_reads_it_borrowed() -> None:
    """The integration group ran at 9.0 CPU-s in `caching` and 21.0 in `caching+auth`: three
    runs that borrowed the first's reads and one the second's cost 3 x 9 + 21, not 4 x the
    median (15.0); a run whose source this report did not measure falls back to the median."""
    summary = {**SUMMARY, "combinations": [*SUMMARY["combinations"], entry(
        "caching+auth", cold=False, hadolint="base",
        groups={"service": ran(19.0, False), INTEGRATION: ran(21.0), UNIT: REUSED},
    )]}  # fmt: skip
    parts: dict[str, dict[str, Any]] = COUNTS["parts"]  # type: ignore[assignment]
    part = {**parts[INTEGRATION], "distinct": 4}
    by_source = {
        **COUNTS,
        "parts": {INTEGRATION: {**part, "run_sources": {"caching": 3, "caching+auth": 1}}},
    }
    unknown = {**COUNTS, "parts": {INTEGRATION: {**part, "run_sources": {"cicd": 4}}}}
    row = project(by_source, summary)["tier2"][0]
    assert row["costed_by_nearest_run"] and row["cpu_seconds"] == 3 * 9.0 + 21.0
    row = project(unknown, summary)["tier2"][0]
    assert not row["costed_by_nearest_run"] and row["cpu_seconds"] == 4 * 15.0


class Straightforward(Distinct):
    """The replay as first written: each earlier run's key computed again from the tree, the
    reference the counting by facts (projection_facts.py) must match."""

    def observe(self, project: Path, label: str) -> None:
        self.combinations += 1
        states: dict[str, list[object]] = {}
        for part in parts_of(project):
            self.present[part] += 1
            if part not in self.stored:
                continue
            runs = self.runs[part]
            if any(self._key_again(part, m, project, states) == key for m, key in runs):
                continue
            borrowed = nearest(self.stored[part], label)
            runs.append(
                (borrowed.manifest, self._key_again(part, borrowed.manifest, project, states))
            )
            self.sources[part].append(borrowed.source)

    def _key_again(
        self, part: str, manifest: Manifest, project: Path, states: dict[str, list[object]]
    ) -> str:
        for path in sorted(manifest.read):
            if path not in states:
                states[path] = path_state(project, path)
            self.varying[part][path].add(digest(states[path]))
        for path in sorted(manifest.probed):
            self.varying[part][path].add(path_kind(project, path))
        return manifest.key(project)  # what the store compares


def test_counting_by_facts_replays_exactly_as_the_straightforward_replay(tmp_path: Path) -> None:
    # Parts whose stored runs read overlapping files and folders (one also probes), over trees
    # drawn at random from a few versions of each file: many runs, many reuses, shared keys.
    rng = random.Random(7)
    files = ["src/cache.py", "src/auth.py", "src/shared.py", "tests/fixtures/a.py", "config.py"]
    store = Store(tmp_path / "store")
    for index, (part, source) in enumerate(
        [(INTEGRATION, "caching"), (INTEGRATION, "caching+auth"), (UNIT, "caching"),
         (UNIT, "caching+cicd"), ("migrate+boot", "base")]
    ):  # fmt: skip
        read = sorted(rng.sample([*files, "src", "tests/fixtures"], 4))
        probed = sorted(rng.sample(files, 2))
        result = Result("passed", "", source, 1.0, {"part": part})
        store.put(f"runtime-group/p{index}", f"k{index}", result, Manifest(read, probed))
    stored = stored_runs(tmp_path / "store")
    fast, reference = Distinct(stored, python=None), Straightforward(stored, python=None)
    labels = ["caching", "caching+auth", "caching+cicd", "caching+auth+cicd", "base"]
    for number in range(40):
        chosen = {name: f"v = {rng.randrange(2)}\n" for name in files if rng.random() < 0.8}
        root = project_with(tmp_path / f"tree-{number}", chosen)
        label = rng.choice(labels)
        fast.observe(root, label)
        reference.observe(root, label)
    assert fast.counts() == reference.counts()
    assert fast.runs == reference.runs and fast.varying == reference.varying
    runs = {part: len(found) for part, found in fast.runs.items()}
    assert all(1 < n < 40 for n in runs.values()), runs  # the sample reuses and runs again


def test_facts_rendered_by_worker_processes_are_those_rendered_here() -> None:
    chosen = combinations()[:3]
    paths = Paths({"service": ["pyproject.toml", "src", "README.md"]}, {"service": ["absent"]})
    here = list(facts_in_order(chosen, paths, None, None, processes=1))
    assert [f.label for f in here] == [c.label() for c in chosen]
    assert list(facts_in_order(chosen, paths, None, None, processes=2)) == here
    assert here[0].kinds == {"absent": "absent"} and here[0].states["src"][0][0] == "dir"


def test_the_services_cpu_of_a_matrix_only_run_is_projected_at_its_share_of_tier_2() -> None:
    measured: dict[str, Any] = {**SUMMARY["totals"], "services_cpu_seconds": 30.0}
    matrix_only = {**SUMMARY, "totals": {**measured, "session_ran_only_the_matrix": True}}
    projected = project(COUNTS, matrix_only)
    # The sample's tier 2 cost 60 CPU-s and the services 30 beside it: half of tier 2's 111.
    assert projected["cpu_seconds_by_phase"]["services"] == 55.5
    assert projected["cpu_seconds"] == 2.0 + 43.5 + 111.0 + 55.5
    assert "the backing services 55.5 (at the run's share of tier 2)" in "\n".join(
        distinct_lines(projected)
    )
    # A session that ran more than the matrix: the services' CPU is not the matrix's alone.
    mixed = {**SUMMARY, "totals": {**measured, "session_ran_only_the_matrix": False}}
    projected = project(COUNTS, mixed)
    assert "services" not in projected["cpu_seconds_by_phase"]
    assert "services' CPU not projected" in "\n".join(distinct_lines(projected))
