"""Interactive questions, built from the catalog. Only used on a terminal without --yes."""

from __future__ import annotations

import shutil
import textwrap

from scaffold.catalog import CATALOG, Catalog
from scaffold.errors import Interrupted
from scaffold.selection import Request, resolve

DESCRIPTION_LABEL = "  Description: "
"""How questionary introduces the pointed choice's description, on one line it does not wrap."""


def ask_selection(request: Request, catalog: Catalog = CATALOG) -> Request:
    """Ask for capabilities (a checkbox), then each chosen capability's variants (a select)."""
    import questionary  # deferred: only an interactive run pays for prompt_toolkit

    preselected = resolve(request, catalog)
    columns = shutil.get_terminal_size().columns
    choices = [
        questionary.Choice(
            title=f"{capability.title} ({capability.name})",
            value=capability.name,
            checked=capability.name in preselected.capabilities,
            disabled=None if capability.available else "not available yet",
            description=wrap_description(capability.help, columns),
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


def wrap_description(text: str, columns: int) -> str:
    """Break a description into lines that fit the terminal, aligned under its first word.

    questionary prints it on a single line that the terminal cuts off mid-word; lines given to
    it already broken are shown whole.
    """
    indent = " " * len(DESCRIPTION_LABEL)
    width = max(columns - 1 - len(indent), 20)  # the last column is left free: no auto-wrap
    return ("\n" + indent).join(textwrap.wrap(text, width, break_on_hyphens=False))
