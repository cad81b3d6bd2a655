"""Keyset pagination of GET /items: `next_cursor`, passed back as `cursor`, walks the list."""

from typing import Any

import pytest
from httpx import AsyncClient

from .test_items import create_item


async def walk(client: AsyncClient, limit: int) -> list[dict[str, Any]]:
    """Every item, following next_cursor from the first page to the last."""
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = await client.get("/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        if "next_cursor" not in page:
            return seen
        assert len(page["items"]) == limit  # only a full page can have a next one
        params = {"limit": limit, "cursor": page["next_cursor"]}


async def test_following_next_cursor_walks_every_item_once_in_creation_order(
    client: AsyncClient,
) -> None:
    names = [f"item-{n}" for n in range(7)]
    for name in names:
        await create_item(client, name)

    assert [item["name"] for item in await walk(client, limit=3)] == names


async def test_the_last_page_has_no_next_cursor(client: AsyncClient) -> None:
    await create_item(client, "only")

    page = (await client.get("/items", params={"limit": 1})).json()

    assert [item["name"] for item in page["items"]] == ["only"]
    assert "next_cursor" not in page


async def test_items_added_during_a_walk_do_not_repeat_or_hide_earlier_ones(
    client: AsyncClient,
) -> None:
    before = [await create_item(client, f"before-{n}") for n in range(6)]
    first = (await client.get("/items", params={"limit": 2})).json()
    for n in range(4):  # added while the client is between pages
        await create_item(client, f"during-{n}")

    rest: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2, "cursor": first["next_cursor"]}
    while True:
        page = (await client.get("/items", params=params)).json()
        rest += page["items"]
        if "next_cursor" not in page:
            break
        params["cursor"] = page["next_cursor"]

    seen = [item["id"] for item in first["items"] + rest]
    assert len(seen) == len(set(seen))
    assert set(seen) >= {item["id"] for item in before}


@pytest.mark.parametrize("cursor", ["not-a-cursor", "e30", "eyJ0IjoxfQ", "x" * 201])
async def test_a_cursor_this_service_did_not_make_is_a_422_problem(
    client: AsyncClient, cursor: str
) -> None:
    response = await client.get("/items", params={"cursor": cursor})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [["query", "cursor"]]
