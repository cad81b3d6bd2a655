"""`scaffold list`: the catalog as rows for a table, or as JSON for machines."""

from __future__ import annotations

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
