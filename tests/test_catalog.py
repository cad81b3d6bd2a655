from __future__ import annotations

from scaffold.catalog import CATALOG

BASE_FLAGS = {
    "--with", "--without", "--preset", "--answers-file", "--template", "--output-dir",
    "--description", "--yes", "--defaults", "--no-git", "--dry-run", "--json", "--help",
}  # fmt: skip


def test_names_are_unique_identifiers() -> None:
    names = CATALOG.names
    assert len(names) == len(set(names))
    assert all(name.isidentifier() and name.islower() for name in names)


def test_rules_name_known_capabilities_and_never_themselves() -> None:
    for capability in CATALOG:
        assert capability.requires <= set(CATALOG.names)
        assert capability.conflicts <= set(CATALOG.names)
        assert capability.name not in capability.requires | capability.conflicts
        assert not capability.requires & capability.conflicts


def test_variant_flags_are_unique_and_do_not_shadow_base_flags() -> None:
    flags = [variant.flag for _, variant in CATALOG.variants()]
    assert len(flags) == len(set(flags))
    assert not set(flags) & BASE_FLAGS


def test_variant_defaults_are_among_their_choices() -> None:
    for _, variant in CATALOG.variants():
        assert variant.default in variant.choices
        assert len(variant.choices) >= 2


def test_variant_choices_are_unique_across_the_catalog() -> None:
    """`scaffold new x --with kafka` relies on a choice naming exactly one variant."""
    choices = [choice for _, variant in CATALOG.variants() for choice in variant.choices]
    assert len(choices) == len(set(choices))
    assert not set(choices) & set(CATALOG.names)


def test_presets_name_known_capabilities() -> None:
    assert {"minimal", "full"} <= {p.name for p in CATALOG.presets}
    for preset in CATALOG.presets:
        assert CATALOG.preset_capabilities(preset) <= set(CATALOG.names)


def test_an_available_capability_requires_only_available_ones() -> None:
    available = {c.name for c in CATALOG.available}
    for capability in CATALOG.available:
        assert capability.requires <= available


def test_a_capability_without_a_runtime_part_wires_no_package() -> None:
    """CI/CD's release tool runs beside the service: its package is not in the service's list
    of capabilities, settings or migrations, so a combination with it renders those shared
    files as its twin without it (the matrix reuses the twin's runtime results)."""
    cicd = CATALOG.get("cicd")
    assert cicd is not None and cicd.package == "release"
    assert not cicd.runtime and cicd.wired_package is None
    for capability in CATALOG:
        if capability.runtime:
            assert capability.wired_package == capability.package
