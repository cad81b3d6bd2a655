"""Interactive questions, built from the catalog. Only used on a terminal without --yes."""

from __future__ import annotations

from scaffold.catalog import CATALOG, Catalog
from scaffold.errors import Interrupted
from scaffold.selection import Request, resolve


def ask_selection(request: Request, catalog: Catalog = CATALOG) -> Request:
    """Ask for capabilities (a checkbox), then each chosen capability's variants (a select)."""
    import questionary  # deferred: only an interactive run pays for prompt_toolkit

    preselected = resolve(request, catalog)
    choices = [
        questionary.Choice(
            title=f"{capability.title} ({capability.name})",
            value=capability.name,
            checked=capability.name in preselected.capabilities,
            disabled=None if capability.available else "not available yet",
            description=capability.help,
        )
        for capability in catalog
    ]
    if not catalog.available:
        return request  # nothing to choose from; questionary cannot show an all-disabled list
    try:
        picked: list[str] = questionary.checkbox(
            "Capabilities (space to tick, enter to confirm):", choices=choices
        ).unsafe_ask()
        variants: dict[str, str] = {}
        for capability, variant in catalog.variants():
            if capability.name not in picked:
                continue
            key = capability.answer_key(variant)
            variants[key] = questionary.select(
                f"{capability.title}: {variant.help}",
                choices=list(variant.choices),
                default=preselected.variants.get(key, variant.default),
            ).unsafe_ask()
    except KeyboardInterrupt:
        raise Interrupted() from None
    return Request(with_=tuple(picked), variants=variants)
