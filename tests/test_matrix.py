from __future__ import annotations

import itertools
import json
import math
from typing import Any

from scaffold.catalog import CATALOG, Capability, Catalog, Variant
from scaffold.commands.list import catalog_as_json
from scaffold.matrix import _pairs, combinations, pairwise, settings
from tests.support.cli import run_cli

TOY = Catalog(
    capabilities=(
        Capability(name="a", title="A", help="a", available=True),
        Capability(name="b", title="B", help="b", requires=frozenset({"a"}), available=True),
        Capability(name="c", title="C", help="c", conflicts=frozenset({"d"}), available=True),
        Capability(name="d", title="D", help="d", available=True),
        Capability(
            name="q", title="Q", help="q", available=True,
            variants=(Variant(name="broker", help="x", choices=("k", "r", "n"), default="k"),),
        ),
        Capability(name="later", title="L", help="l"),
    ),
    presets=(),
)  # fmt: skip


def count_from_listing(listing: dict[str, Any]) -> int:
    """Brute force over every subset, from the JSON of `scaffold list --json` alone."""
    caps = [c for c in listing["capabilities"] if c["available"]]
    total = 0
    for mask in itertools.product((False, True), repeat=len(caps)):
        chosen = [c for c, on in zip(caps, mask, strict=True) if on]
        names = {c["name"] for c in chosen}
        if any(not set(c["requires"]) <= names or set(c["conflicts"]) & names for c in chosen):
            continue
        sizes = [len(v["choices"]) for c in chosen for v in c["variants"]]
        total += math.prod(sizes)
    return total


def toy_listing() -> dict[str, Any]:
    return catalog_as_json(TOY)


def test_count_matches_an_independent_count_for_a_catalog_with_rules() -> None:
    # a, b needs a, c xor d, q has 3 brokers: (1 + a + ab) * (1 + c + d) * (1 + 3 q) = 3 * 3 * 4
    assert len(combinations(TOY)) == count_from_listing(toy_listing()) == 36


def test_count_matches_scaffold_list_json_for_the_real_catalog() -> None:
    listing = json.loads(run_cli("list", "--json").stdout)
    assert len(combinations(CATALOG)) == count_from_listing(listing)


def test_ids_are_unique_and_stable() -> None:
    labels = [s.label(TOY) for s in combinations(TOY)]
    assert len(labels) == len(set(labels))
    assert labels[0] == "base"
    assert "a+b+c+q[r]" in labels
    assert labels == [s.label(TOY) for s in combinations(TOY)]


def test_pairwise_covers_every_pair_with_fewer_combinations() -> None:
    every = combinations(TOY)
    subset = pairwise(TOY)
    wanted = set().union(*(_pairs(settings(s, TOY)) for s in every))
    covered = set().union(*(_pairs(settings(s, TOY)) for s in subset))
    assert covered == wanted
    assert len(subset) < len(every)
    assert subset[0].capabilities == frozenset()
