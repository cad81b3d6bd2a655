"""Turn what a user asked for (flags, preset, answers file) into a valid selection.

The catalog's rules are enforced here and only here: requirements are added (or the request is
refused when the user excluded one explicitly), conflicts are refused naming the rule, variants are
checked against their choices, and capabilities the template does not implement yet are refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scaffold.catalog import CATALOG, Capability, Catalog
from scaffold.errors import (
    ForbiddenCombination,
    InvalidVariant,
    NotYetAvailable,
    UnknownCapability,
    UnknownPreset,
)


@dataclass(frozen=True)
class Request:
    """What the user asked for, before any rule is applied."""

    preset: str | None = None
    with_: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    variants: Mapping[str, str] = field(default_factory=dict)
    """Variant choices keyed by Copier answer key, e.g. ``{"messaging_broker": "kafka"}``."""
    base: Mapping[str, bool] = field(default_factory=dict)
    """Capability answers from an answers file, applied before --with/--without."""


@dataclass(frozen=True)
class Selection:
    capabilities: frozenset[str]
    variants: Mapping[str, str]
    added: Mapping[str, str] = field(default_factory=dict)
    """Capabilities added because another one requires them: added name -> requiring name."""

    def copier_data(self, catalog: Catalog = CATALOG) -> dict[str, object]:
        data: dict[str, object] = {c.name: c.name in self.capabilities for c in catalog.available}
        data.update(self.variants)
        return data

    def label(self, catalog: Catalog = CATALOG) -> str:
        """A stable id such as ``caching+messaging[kafka]``; ``base`` for none."""
        parts = []
        for capability in catalog:
            if capability.name not in self.capabilities:
                continue
            choices = [self.variants[capability.answer_key(v)] for v in capability.variants]
            parts.append(capability.name + (f"[{','.join(choices)}]" if choices else ""))
        return "+".join(parts) or "base"


def normalise_name(raw: str) -> str:
    return raw.strip().lower().replace("-", "_")


def parse_names(values: Iterable[str]) -> tuple[str, ...]:
    """Split ``--with a,b --with c`` into names, dropping empties."""
    return tuple(n for value in values for n in (normalise_name(p) for p in value.split(",")) if n)


def resolve(request: Request, catalog: Catalog = CATALOG) -> Selection:
    chosen: set[str] = set()
    variants: dict[str, str] = dict(request.variants)
    if request.preset is not None:
        preset = catalog.preset(request.preset)
        if preset is None:
            raise UnknownPreset(request.preset, [p.name for p in catalog.presets])
        chosen |= catalog.preset_capabilities(preset)
    for name, enabled in request.base.items():
        _known(name, catalog)
        (chosen.add if enabled else chosen.discard)(name)
    wanted = {_capability_or_variant_alias(name, catalog, variants).name for name in request.with_}
    excluded = {_known(name, catalog).name for name in request.without}
    contradicted = sorted(wanted & excluded)
    if contradicted:
        raise ForbiddenCombination(
            f"{contradicted[0]} is in both --with and --without; keep one of them"
        )
    chosen = (chosen | wanted) - excluded

    added = _add_requirements(chosen, excluded, catalog)
    _refuse_conflicts(chosen, catalog)
    resolved_variants = _resolve_variants(chosen, variants, catalog)
    missing = sorted(n for n in chosen if not _get(n, catalog).available)
    if missing:
        raise NotYetAvailable(missing)
    return Selection(capabilities=frozenset(chosen), variants=resolved_variants, added=added)


def _get(name: str, catalog: Catalog) -> Capability:
    capability = catalog.get(name)
    assert capability is not None, name
    return capability


def _known(name: str, catalog: Catalog) -> Capability:
    capability = catalog.get(name)
    if capability is None:
        match = difflib.get_close_matches(name, catalog.names, n=1, cutoff=0.6)
        raise UnknownCapability(name, match[0] if match else None, catalog.names)
    return capability


def _capability_or_variant_alias(
    name: str, catalog: Catalog, variants: dict[str, str]
) -> Capability:
    """Accept a variant choice as shorthand: ``kafka`` means messaging with broker kafka."""
    if catalog.get(name) is None:
        for capability, variant in catalog.variants():
            if name in variant.choices:
                variants.setdefault(capability.answer_key(variant), name)
                return capability
    return _known(name, catalog)


def _add_requirements(chosen: set[str], excluded: set[str], catalog: Catalog) -> dict[str, str]:
    added: dict[str, str] = {}
    pending = sorted(chosen)
    while pending:
        name = pending.pop()
        for required in sorted(_get(name, catalog).requires):
            if required in excluded:
                raise ForbiddenCombination(
                    f"{name} requires {required}, which was excluded with --without {required}"
                )
            if required not in chosen:
                chosen.add(required)
                added[required] = name
                pending.append(required)
    return added


def _refuse_conflicts(chosen: set[str], catalog: Catalog) -> None:
    for name in sorted(chosen):
        clash = sorted(_get(name, catalog).conflicts & chosen)
        if clash:
            raise ForbiddenCombination(f"{name} conflicts with {clash[0]}; choose one of them")


def _resolve_variants(
    chosen: set[str], given: Mapping[str, str], catalog: Catalog
) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for capability, variant in catalog.variants():
        key = capability.answer_key(variant)
        value = given.get(key)
        if value is not None and value not in variant.choices:
            raise InvalidVariant(
                f"{variant.flag} must be one of {', '.join(variant.choices)}, not {value!r}"
            )
        if capability.name not in chosen:
            if value is not None:
                raise InvalidVariant(
                    f"{variant.flag} {value} needs the {capability.name} capability"
                )
            continue
        resolved[key] = value or variant.default
    unknown = sorted(set(given) - {c.answer_key(v) for c, v in catalog.variants()})
    if unknown:
        raise InvalidVariant(f"unknown variant {unknown[0]!r}")
    return resolved
