"""One items round trip through the whole service: every capability present in its app (its
middleware, hooks, token, tenant, shards, cache...). The items API itself is tested in depth by
the core's tests (`core/test_items.py`, on an app of no capability); this proves that it still
works once every capability is wired around it."""

from httpx import AsyncClient, Response


def served_by_the_core(response: Response) -> Response:
    """The core's outermost middleware still wraps every response of the composed app."""
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    return response


async def test_an_item_is_created_read_listed_updated_and_deleted(client: AsyncClient) -> None:
    created = served_by_the_core(
        await client.post("/items", json={"name": " Widget ", "description": "blue"})
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["name"], item["description"]) == ("Widget", "blue")
    assert created.headers["location"] == f"/items/{item['id']}"

    read = served_by_the_core(await client.get(f"/items/{item['id']}"))
    assert (read.status_code, read.json()) == (200, item)

    listed = served_by_the_core(await client.get("/items"))
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [item]
    assert listed.json()["total"] == 1

    patched = served_by_the_core(await client.patch(f"/items/{item['id']}", json={"name": "Lamp"}))
    assert (patched.status_code, patched.json()) == (200, {**item, "name": "Lamp"})
    assert (await client.get(f"/items/{item['id']}")).json() == patched.json()

    deleted = served_by_the_core(await client.delete(f"/items/{item['id']}"))
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = served_by_the_core(await client.get(f"/items/{item['id']}"))
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert (await client.get("/items")).json()["total"] == 0
