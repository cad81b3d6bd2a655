from __future__ import annotations

import pytest

from scaffold.catalog import CATALOG, Capability, Catalog, Preset, Variant
from scaffold.errors import (
    ForbiddenCombination,
    InvalidVariant,
    NotYetAvailable,
    UnknownCapability,
    UnknownPreset,
)
from scaffold.selection import Request, parse_names, resolve

BROKER = Variant(name="broker", help="Broker", choices=("kafka", "rabbitmq"), default="kafka")
TOY = Catalog(
    capabilities=(
        Capability(name="alpha", title="Alpha", help="a", available=True),
        Capability(name="beta", title="Beta", help="b", requires=frozenset({"alpha"}),
                   available=True),
        Capability(name="gamma", title="Gamma", help="g", conflicts=frozenset({"delta"}),
                   available=True),
        Capability(name="delta", title="Delta", help="d", available=True),
        Capability(name="queue", title="Queue", help="q", variants=(BROKER,), available=True),
        Capability(name="later", title="Later", help="l"),
    ),
    presets=(
        Preset(name="minimal", help="none"),
        Preset(name="full", help="all", every_available=True),
    ),
)  # fmt: skip


def test_no_request_selects_nothing() -> None:
    selection = resolve(Request(), TOY)
    assert selection.capabilities == frozenset()
    assert selection.label(TOY) == "base"


def test_requirements_are_added_and_reported() -> None:
    selection = resolve(Request(with_=("beta",)), TOY)
    assert selection.capabilities == {"alpha", "beta"}
    assert selection.added == {"alpha": "beta"}


def test_excluding_a_requirement_is_refused_naming_the_rule() -> None:
    with pytest.raises(ForbiddenCombination, match="beta requires alpha"):
        resolve(Request(with_=("beta",), without=("alpha",)), TOY)


def test_conflicts_are_refused_naming_the_rule() -> None:
    with pytest.raises(ForbiddenCombination, match="gamma conflicts with delta"):
        resolve(Request(with_=("gamma", "delta")), TOY)


def test_unknown_capability_suggests_the_nearest() -> None:
    with pytest.raises(UnknownCapability, match="did you mean 'alpha'"):
        resolve(Request(with_=("alpah",)), TOY)


def test_unknown_capability_without_near_match_lists_the_known() -> None:
    with pytest.raises(UnknownCapability, match="known: alpha, beta"):
        resolve(Request(with_=("zzzzzz",)), TOY)


def test_unavailable_capability_is_refused() -> None:
    with pytest.raises(NotYetAvailable, match="later"):
        resolve(Request(with_=("later",)), TOY)


def test_variant_defaults_and_choices() -> None:
    assert resolve(Request(with_=("queue",)), TOY).variants == {"queue_broker": "kafka"}
    chosen = resolve(Request(with_=("queue",), variants={"queue_broker": "rabbitmq"}), TOY)
    assert chosen.variants == {"queue_broker": "rabbitmq"}
    assert chosen.label(TOY) == "queue[rabbitmq]"


def test_a_variant_choice_is_shorthand_for_its_capability() -> None:
    selection = resolve(Request(with_=("rabbitmq",)), TOY)
    assert selection.capabilities == {"queue"}
    assert selection.variants == {"queue_broker": "rabbitmq"}


def test_bad_variant_value_is_refused() -> None:
    with pytest.raises(InvalidVariant, match="--broker must be one of kafka, rabbitmq"):
        resolve(Request(with_=("queue",), variants={"queue_broker": "nats"}), TOY)


def test_variant_without_its_capability_is_refused() -> None:
    with pytest.raises(InvalidVariant, match="needs the queue capability"):
        resolve(Request(variants={"queue_broker": "kafka"}), TOY)


def test_presets() -> None:
    full = resolve(Request(preset="full", without=("delta",)), TOY)
    assert full.capabilities == {"alpha", "beta", "gamma", "queue"}
    with pytest.raises(UnknownPreset, match="known presets: minimal, full"):
        resolve(Request(preset="huge"), TOY)


def test_answers_file_base_is_overridden_by_flags() -> None:
    selection = resolve(Request(base={"alpha": True, "delta": True}, without=("delta",)), TOY)
    assert selection.capabilities == {"alpha"}


def test_copier_data_names_every_available_capability() -> None:
    data = resolve(Request(with_=("alpha",)), TOY).copier_data(TOY)
    assert data == {"alpha": True, "beta": False, "gamma": False, "delta": False, "queue": False}


def test_parse_names_splits_commas_and_normalises() -> None:
    assert parse_names(["a,b", " Rate-Limiting ", ","]) == ("a", "b", "rate_limiting")


def test_the_real_catalog_full_preset_resolves() -> None:
    full = CATALOG.preset("full")
    assert full is not None
    selection = resolve(Request(preset="full"), CATALOG)
    assert selection.capabilities == CATALOG.preset_capabilities(full)
