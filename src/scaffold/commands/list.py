"""`scaffold list`: the catalog as rows for a table, or as JSON for machines."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence

from scaffold.catalog import CATALOG, Catalog


def catalog_as_json(catalog: Catalog = CATALOG) -> dict[str, object]:
    return {
        "capabilities": [
            {
                "name": c.name,
                "title": c.title,
                "help": c.help,
                "available": c.available,
                "requires": sorted(c.requires),
                "conflicts": sorted(c.conflicts),
                "variants": [
                    {
                        "name": v.name,
                        "flag": v.flag,
                        "answer": c.answer_key(v),
                        "choices": list(v.choices),
                        "default": v.default,
                        "help": v.help,
                    }
                    for v in c.variants
                ],
            }
            for c in catalog
        ],
        "presets": [
            {
                "name": p.name,
                "help": p.help,
                "capabilities": sorted(catalog.preset_capabilities(p)),
            }
            for p in catalog.presets
        ],
    }


def catalog_rows(catalog: Catalog = CATALOG) -> list[tuple[str, str, str, str, str]]:
    """(name, status, variants, rules, help) per capability."""
    rows = []
    for c in catalog:
        variants = "; ".join(f"{v.name}: {' | '.join(v.choices)}" for v in c.variants)
        rules = ", ".join(
            [f"requires {r}" for r in sorted(c.requires)]
            + [f"conflicts with {x}" for x in sorted(c.conflicts)]
        )
        status = "ready" if c.available else "planned"
        rows.append((c.name, status, variants or "-", rules or "-", c.help))
    return rows


HEADER = ("NAME", "STATUS", "VARIANTS", "RULES", "WHAT IT GIVES")
GAP = "  "
READABLE_PROSE = 24
"""The description column gives way first, but not below this many characters."""


def table_lines(rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """The rows under HEADER as aligned columns whose cells wrap to fit ``width`` characters.

    The last column (prose) shrinks first, then the others down to their longest word; a terminal
    too narrow even for that gets one block per row instead.
    """
    table = [HEADER, *rows]
    widths = _column_widths(table, width - len(GAP) * (len(HEADER) - 1))
    if widths is None:
        return _blocks(rows, width)
    lines = []
    for row in table:
        cells = [
            textwrap.wrap(cell, w, break_on_hyphens=False) or [""]
            for cell, w in zip(row, widths, strict=True)
        ]
        for parts in itertools.zip_longest(*cells, fillvalue=""):
            padded = [part.ljust(w) for part, w in zip(parts, widths, strict=True)]
            lines.append(GAP.join(padded).rstrip())
    return lines


def _column_widths(table: Sequence[Sequence[str]], budget: int) -> list[int] | None:
    columns = range(len(table[0]))
    widths = [max(len(row[i]) for row in table) for i in columns]
    least = [max(len(word) for row in table for word in row[i].split()) for i in columns]
    prose = len(widths) - 1
    shrink_order = [(prose, max(least[prose], READABLE_PROSE))]
    shrink_order += sorted(
        ((i, least[i]) for i in columns if i != prose), key=lambda c: -widths[c[0]]
    )
    shrink_order += [(prose, least[prose])]
    for column, floor in shrink_order:
        excess = sum(widths) - budget
        if excess <= 0:
            break
        widths[column] = max(floor, widths[column] - excess)
    return widths if sum(widths) <= budget else None


def _blocks(rows: Sequence[Sequence[str]], width: int) -> list[str]:
    lines = []
    for name, status, variants, rules, help_ in rows:
        lines.append(f"{name} ({status})")
        for text in (help_, f"variants: {variants}", f"rules: {rules}"):
            lines += textwrap.wrap(
                text,
                max(width, 20),
                initial_indent="  ",
                subsequent_indent="    ",
                break_on_hyphens=False,
            )
    return lines


def presets_lines(catalog: Catalog, width: int) -> list[str]:
    presets = ", ".join(p.name for p in catalog.presets)
    text = f"Presets: {presets}. Use: scaffold new NAME --with a,b | --preset NAME"
    return textwrap.wrap(text, max(width, 20), break_on_hyphens=False)
