"""Every valid combination of capabilities the catalog allows, and a pairwise subset of them.

``python -m scaffold.matrix list [--pairwise]`` prints the ids and the count. Nothing here is
written by hand: when a capability becomes available or a rule changes, the matrix follows.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator

from scaffold.catalog import CATALOG, Capability, Catalog
from scaffold.selection import Selection

Choice = tuple[str, str]
"""One capability's setting in a combination: (name, "off" | "on" | a variant choice label)."""


def combinations(catalog: Catalog = CATALOG) -> list[Selection]:
    """Every valid selection of available capabilities, variants included, in a stable order."""
    available = catalog.available
    found: list[Selection] = []
    for size in range(len(available) + 1):
        for subset in itertools.combinations(available, size):
            names = {c.name for c in subset}
            if not _valid(subset, names):
                continue
            for variants in _variant_assignments(subset):
                found.append(Selection(capabilities=frozenset(names), variants=variants))
    return found


def _valid(subset: tuple[Capability, ...], names: set[str]) -> bool:
    return all(c.requires <= names and not c.conflicts & names for c in subset)


def _variant_assignments(subset: tuple[Capability, ...]) -> Iterator[dict[str, str]]:
    keys = [(c.answer_key(v), v.choices) for c in subset for v in c.variants]
    for values in itertools.product(*(choices for _, choices in keys)):
        yield {key: value for (key, _), value in zip(keys, values, strict=True)}


def settings(selection: Selection, catalog: Catalog = CATALOG) -> frozenset[Choice]:
    """What a combination sets for each available capability, for pair coverage."""
    result: set[Choice] = set()
    for capability in catalog.available:
        if capability.name not in selection.capabilities:
            result.add((capability.name, "off"))
            continue
        choices = [selection.variants[capability.answer_key(v)] for v in capability.variants]
        result.add((capability.name, ",".join(choices) or "on"))
    return frozenset(result)


def pairwise(catalog: Catalog = CATALOG) -> list[Selection]:
    """A covering array: every pair of settings found in some valid combination, in at least one.

    Greedy: repeatedly take the combination that covers the most pairs not yet covered.
    """
    candidates = combinations(catalog)
    pairs_of = [_pairs(settings(s, catalog)) for s in candidates]
    uncovered = set().union(*pairs_of) if pairs_of else set()
    chosen: list[Selection] = []
    if candidates:
        chosen.append(candidates[0])  # always keep the base service
        uncovered -= pairs_of[0]
    while uncovered:
        best = max(range(len(candidates)), key=lambda i: len(pairs_of[i] & uncovered))
        chosen.append(candidates[best])
        uncovered -= pairs_of[best]
    return chosen


def _pairs(choices: frozenset[Choice]) -> set[frozenset[Choice]]:
    return {frozenset(pair) for pair in itertools.combinations(sorted(choices), 2)} | {
        frozenset({c}) for c in choices
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "list":
        print("usage: python -m scaffold.matrix list [--pairwise]", file=sys.stderr)
        return 2
    selected = pairwise() if "--pairwise" in argv else combinations()
    for selection in selected:
        print(selection.label())
    print(f"{len(selected)} combinations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
