"""The dashboard as data: what Grafana needs to import it, and a layout where each part's panels
neither share an id nor cover another part's. (Its queries are checked by a real Prometheus in
test_prometheus.py.)"""

import json
from typing import Any

from .conftest import DASHBOARD

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_COLUMNS = 24


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def cells(panel: dict[str, Any]) -> set[tuple[int, int]]:
    grid = panel["gridPos"]
    return {
        (x, y)
        for x in range(grid["x"], grid["x"] + grid["w"])
        for y in range(grid["y"], grid["y"] + grid["h"])
    }


def test_the_dashboard_has_a_fixed_uid_and_its_variables() -> None:
    loaded = dashboard()

    assert 0 < len(loaded["uid"]) <= 40  # Grafana's limit
    variables = {v["name"] for v in loaded["templating"]["list"]}
    assert {"datasource", "job", "instance"} <= variables


def test_panel_ids_are_unique_and_panels_do_not_overlap() -> None:
    panels = dashboard()["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(ids)}"

    taken: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] < grid["x"] + grid["w"] <= GRID_COLUMNS, panel["title"]
        for cell in cells(panel):
            assert cell not in taken, f"{panel['title']} covers {taken.get(cell)}"
            taken[cell] = panel["title"]


def test_every_panel_queries_the_chosen_data_source_and_has_a_unit() -> None:
    graphs = [panel for panel in dashboard()["panels"] if panel["type"] != "row"]
    assert graphs

    for panel in graphs:
        title = panel["title"]
        assert panel["datasource"] == DATASOURCE, title
        assert panel["fieldConfig"]["defaults"]["unit"], f"{title} has no unit"
        targets = panel["targets"]
        assert targets, f"{title} has no query"
        assert all(target["datasource"] == DATASOURCE for target in targets), title
        references = [target["refId"] for target in targets]
        assert len(references) == len(set(references)), title
