import uuid

import pytest
from httpx import AsyncClient

PROBLEM_JSON = "application/problem+json"


async def create_item(client: AsyncClient, name: str, **fields: object) -> dict[str, object]:
    response = await client.post("/items", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def test_create_returns_201_with_the_item_and_its_location(client: AsyncClient) -> None:
    response = await client.post("/items", json={"name": "  Widget ", "description": "blue"})

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Widget"  # surrounding whitespace is trimmed
    assert body["description"] == "blue"
    assert uuid.UUID(body["id"])
    assert body["created_at"]
    assert response.headers["location"] == f"/items/{body['id']}"


async def test_a_created_item_can_be_read_back(client: AsyncClient) -> None:
    created = await create_item(client, "Gadget")

    response = await client.get(f"/items/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


async def test_an_unknown_item_is_a_404_problem(client: AsyncClient) -> None:
    missing = uuid.uuid4()

    response = await client.get(f"/items/{missing}")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 404
    assert problem["title"] == "Not Found"
    assert str(missing) in problem["detail"]
    assert problem["request_id"] == response.headers["x-request-id"]


async def test_a_malformed_id_is_a_422_problem(client: AsyncClient) -> None:
    response = await client.get("/items/not-a-uuid")

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"][0]["loc"] == ["path", "item_id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "description": "x" * 2001}, "description"),
        ({"name": "ok", "price": 3}, "price"),
    ],
)
async def test_invalid_payloads_are_422_problems_naming_the_field(
    client: AsyncClient, payload: dict[str, object], field: str
) -> None:
    response = await client.post("/items", json=payload)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 422
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    assert "input" not in problem["errors"][0]  # rejected values are not echoed back


async def test_listing_an_empty_table(client: AsyncClient) -> None:
    response = await client.get("/items")

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_pages_walk_all_items_in_creation_order_without_overlap(client: AsyncClient) -> None:
    names = [f"item-{n}" for n in range(5)]
    for name in names:
        await create_item(client, name)

    seen: list[str] = []
    for offset in (0, 2, 4):
        response = await client.get("/items", params={"limit": 2, "offset": offset})
        assert response.status_code == 200
        page = response.json()
        assert page["total"] == 5
        assert (page["limit"], page["offset"]) == (2, offset)
        seen += [item["name"] for item in page["items"]]

    assert seen == names


async def test_an_offset_past_the_end_is_an_empty_page(client: AsyncClient) -> None:
    await create_item(client, "only")

    page = (await client.get("/items", params={"offset": 10})).json()

    assert page["items"] == []
    assert page["total"] == 1


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "many"}, {"offset": -1}]
)
async def test_out_of_bounds_paging_is_a_422_problem(
    client: AsyncClient, params: dict[str, int | str]
) -> None:
    response = await client.get("/items", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_an_unknown_path_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    created = await create_item(client, "Lamp", description="red")

    response = await client.patch(f"/items/{created['id']}", json={"name": " Desk lamp "})

    assert response.status_code == 200
    assert response.json() == {**created, "name": "Desk lamp"}
    assert (await client.get(f"/items/{created['id']}")).json() == response.json()


async def test_a_patch_with_a_null_description_clears_it(client: AsyncClient) -> None:
    created = await create_item(client, "Lamp", description="red")

    response = await client.patch(f"/items/{created['id']}", json={"description": None})

    assert response.status_code == 200
    assert response.json()["description"] is None


@pytest.mark.parametrize(
    ("payload", "field"), [({"name": None}, "name"), ({"name": ""}, "name"), ({"id": "x"}, "id")]
)
async def test_invalid_patches_are_422_problems(
    client: AsyncClient, payload: dict[str, object], field: str
) -> None:
    created = await create_item(client, "Lamp")

    response = await client.patch(f"/items/{created['id']}", json=payload)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", field]]


async def test_a_deleted_item_is_gone(client: AsyncClient) -> None:
    created = await create_item(client, "Lamp")

    response = await client.delete(f"/items/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/items/{created['id']}")).status_code == 404
    assert (await client.delete(f"/items/{created['id']}")).status_code == 404


async def test_writes_to_an_unknown_item_are_404_problems(client: AsyncClient) -> None:
    missing = uuid.uuid4()

    patched = await client.patch(f"/items/{missing}", json={"name": "x"})
    deleted = await client.delete(f"/items/{missing}")

    assert (patched.status_code, deleted.status_code) == (404, 404)
    assert patched.headers["content-type"] == PROBLEM_JSON
