"""The catalogue: PUT /items/{id}, POST /items, GET /items/{id}, GET /items/{id}/similar."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import pytest

from app.training import runner
from tests.support.api import (
    co_viewed,
    count,
    counts,
    error_of,
    fetch,
    fields_of,
    get_json,
    ids,
    record,
    views,
)

CATALOGUE = [
    {"product_id": "boot-1", "title": "Leather hiking boot", "categories": ["shoes"]},
    {"product_id": "boot-2", "title": "Leather hiking boot, wide", "categories": ["shoes"]},
    {"product_id": "sandal-1", "title": "Beach sandal", "categories": ["shoes"]},
    {"product_id": "cap-1", "title": "Wool cap", "categories": ["hats"]},
    {"product_id": "scarf-1", "title": "Silk scarf", "categories": ["scarves"]},
]

SHOE = {
    "title": "Trail shoe",
    "description": "Grippy.",
    "categories": ["shoes", "outdoor"],
    "attributes": {"brand": "Acme", "size": [42, 43], "price": 99.5},
    "available": True,
}


async def test_put_creates_the_item(client, conn):
    response = await client.put("/items/shoe-1", json=SHOE)
    assert response.status_code == 201
    body = await response.get_json()
    assert {k: body[k] for k in SHOE} == SHOE
    assert body["product_id"] == "shoe-1"
    assert (body["views"], body["purchases"], body["users"], body["events"]) == (0, 0, 0, 0)
    datetime.fromisoformat(body["created_at"])
    assert fetch(
        conn, "select external_id, title, categories, attributes, available from recsys.items"
    ) == [("shoe-1", "Trail shoe", ["shoes", "outdoor"], SHOE["attributes"], True)]


async def test_put_again_replaces_all_metadata(client, conn):
    assert (await client.put("/items/shoe-1", json=SHOE)).status_code == 201
    response = await client.put("/items/shoe-1", json={"title": "Road shoe", "available": False})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["title"] == "Road shoe"
    assert body["available"] is False
    # PUT replaces: what the new body leaves out is reset, not kept.
    assert body["description"] is None
    assert body["categories"] == []
    assert body["attributes"] == {}
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(body["created_at"])
    assert count(conn, "items") == 1
    assert (await get_json(client, "/items/shoe-1"))["title"] == "Road shoe"


async def test_put_on_an_item_known_from_events_is_a_replace(client, conn):
    await record(client, views("u1", "p1"))
    response = await client.put("/items/p1", json={"title": "P one"})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["title"] == "P one"
    assert body["views"] == 1  # the item's counts survive a metadata replace
    assert count(conn, "items") == 1


async def test_put_with_empty_body_object_creates_a_bare_item(client):
    response = await client.put("/items/bare", json={})
    assert response.status_code == 201
    body = await response.get_json()
    assert body["categories"] == [] and body["attributes"] == {} and body["available"] is True


async def test_put_with_invalid_body_is_400_and_writes_nothing(client, conn):
    for body, field in (
        ({"categories": "shoes"}, "categories"),
        ({"categories": ["shoes", ""]}, "categories.1"),
        ({"categories": [1, 2]}, "categories.0"),
        ({"attributes": ["a"]}, "attributes"),
        ({"available": "maybe"}, "available"),
        ({"title": ["x"]}, "title"),
        ({"colour": "red"}, "colour"),
        ({"product_id": "other"}, "product_id"),
    ):
        error = await error_of(await client.put("/items/p1", json=body), 400)
        assert field in fields_of(error), (body, error)
    assert count(conn, "items") == 0


async def test_put_with_invalid_body_leaves_the_existing_item_alone(client):
    assert (await client.put("/items/shoe-1", json=SHOE)).status_code == 201
    await error_of(await client.put("/items/shoe-1", json={**SHOE, "categories": "x"}), 400)
    item = await get_json(client, "/items/shoe-1")
    assert {k: item[k] for k in SHOE} == SHOE


async def test_put_with_a_blank_id_is_400(client, conn):
    error = await error_of(await client.put("/items/%20%20", json={"title": "t"}), 400)
    assert "product_id" in fields_of(error)
    assert count(conn, "items") == 0


async def test_get_item_shows_live_counts(client):
    await client.put("/items/p1", json={"title": "One", "categories": ["c"]})
    await record(
        client,
        [
            *views("u1", "p1"),
            *views("u1", "p1"),
            *views("u2", "p1"),
            *views("u2", "p1", event_type="add_to_cart"),
            *views("u2", "p1", event_type="purchase"),
            *views("u3", "p2", event_type="purchase"),
        ],
    )
    item = await get_json(client, "/items/p1")
    assert item["product_id"] == "p1"
    assert item["title"] == "One" and item["categories"] == ["c"]
    assert item["views"] == 3
    assert item["add_to_carts"] == 1
    assert item["purchases"] == 1
    assert item["users"] == 2
    assert item["events"] == 5
    assert item["ratings"] == 0


async def test_get_unknown_item_is_404(client):
    await record(client, views("u1", "p1"))
    error = await error_of(await client.get("/items/nope"), 404)
    assert error["code"] == "not_found"
    assert "product_id" in fields_of(error)


# --------------------------------------------------------------------- POST /items


async def test_post_items_counts_created_and_updated(client, conn):
    first = await client.post(
        "/items",
        json={
            "items": [
                {"product_id": "a", "title": "A", "categories": ["x"]},
                {"product_id": "b"},
            ]
        },
    )
    assert first.status_code == 201
    assert await first.get_json() == {"created": 2, "updated": 0}

    second = await client.post(
        "/items",
        json={
            "items": [
                {"product_id": "b", "title": "B"},
                {"product_id": 3, "title": "Three", "attributes": {"n": 3}},
            ]
        },
    )
    assert second.status_code == 201
    assert await second.get_json() == {"created": 1, "updated": 1}
    assert fetch(conn, "select external_id, title from recsys.items order by external_id") == [
        ("3", "Three"),
        ("a", "A"),
        ("b", "B"),
    ]


@pytest.mark.parametrize(
    "items",
    [
        [{"product_id": "a"}, {"product_id": "b"}, {"product_id": "a", "title": "again"}],
        [{"product_id": "7"}, {"product_id": 7}],
        [{"product_id": "a"}, {"product_id": " a "}],
    ],
    ids=["same", "number-and-text", "padded"],
)
async def test_post_items_with_repeated_id_is_400_and_writes_nothing(client, conn, items):
    error = await error_of(await client.post("/items", json={"items": items}), 400)
    assert any("product_id" in key for key in fields_of(error)), error
    assert count(conn, "items") == 0


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"product_id": "a"}, {"title": "no id"}], "items.1.product_id"),
        ([{"product_id": "a"}, {"product_id": "b", "categories": "x"}], "items.1.categories"),
        ([{"product_id": ""}], "items.0.product_id"),
        ([{"product_id": "a", "extra": 1}], "items.0.extra"),
    ],
)
async def test_post_items_with_a_bad_item_is_400_and_writes_nothing(client, conn, items, field):
    error = await error_of(await client.post("/items", json={"items": items}), 400)
    assert field in fields_of(error), error
    assert count(conn, "items") == 0


# ------------------------------------------------------------------- similar


def together(recs: list[dict]) -> list[dict]:
    return [r for r in recs if r["reason"].startswith("chosen together by")]


async def test_similar_items_are_the_co_occurring_ones(client):
    await co_viewed(client)
    body = await get_json(client, "/items/A/similar")
    assert body["product_id"] == "A"
    recs = body["recommendations"]
    assert ids(together(recs)) == ["B"]
    assert recs[0]["score"] > 0
    assert "3 users" in recs[0]["reason"]
    # Too little co-occurrence: popular items fill the list, saying why.
    assert len(recs) == 8 and "A" not in ids(recs)
    assert all(r["reason"].endswith("(not enough co-occurrence)") for r in recs[1:])
    assert ids(together((await get_json(client, "/items/C/similar"))["recommendations"])) == ["D"]


async def test_similar_items_rank_by_co_occurrence(client):
    rows = []
    for n in range(4):
        rows += views(f"u{n}", "A", "B")
    rows += views("v1", "A", "C")
    rows += views("v2", "A", "C", "B")
    await record(client, rows)
    recs = (await get_json(client, "/items/A/similar", k=5))["recommendations"]
    assert ids(recs) == ["B", "C"]
    assert recs[0]["score"] > recs[1]["score"]
    assert ids((await get_json(client, "/items/A/similar", k=1))["recommendations"]) == ["B"]
    excluded = await get_json(client, "/items/A/similar", exclude="B")
    assert ids(excluded["recommendations"]) == ["C"]


async def test_similar_items_honour_category_and_availability(client):
    await co_viewed(client)
    await record(client, views("u1", "C"))  # A, B and C now share u1
    await client.put("/items/C", json={"categories": ["x"]})
    in_x = await get_json(client, "/items/A/similar", category="x")
    assert ids(in_x["recommendations"]) == ["C"]
    await client.put("/items/B", json={"available": False})
    recs = (await get_json(client, "/items/A/similar"))["recommendations"]
    assert ids(together(recs)) == ["C"] and "B" not in ids(recs)


async def test_similar_on_a_catalogue_without_events_falls_back_to_content_then_category(
    client, db_url
):
    await client.post("/items", json={"items": CATALOGUE})
    runner.train(db_url, ["all"], runner.Options(progress=False))
    recs = (await get_json(client, "/items/boot-1/similar", k=4))["recommendations"]
    assert len(recs) == 4 and "boot-1" not in ids(recs)
    assert recs[0]["product_id"] == "boot-2"  # the nearest text
    why = "(not enough co-occurrence)"
    kinds = [r["reason"].removesuffix(why).strip() for r in recs]
    assert all(r["reason"].endswith(why) for r in recs)
    assert kinds[0] == "similar in content"


async def test_similar_without_events_or_embeddings_offers_the_items_category_first(client):
    await client.post("/items", json={"items": CATALOGUE})  # no content run: no embeddings
    recs = (await get_json(client, "/items/cap-1/similar", k=3))["recommendations"]
    assert len(recs) == 3 and "cap-1" not in ids(recs)
    assert all(r["reason"].endswith("(not enough co-occurrence)") for r in recs)
    shoes = (await get_json(client, "/items/sandal-1/similar", k=2))["recommendations"]
    # The other shoes come before anything else.
    assert set(ids(shoes)) == {"boot-1", "boot-2"}
    # A category filter holds through every fallback: no other hat, no list.
    assert (await get_json(client, "/items/cap-1/similar", category="hats"))[
        "recommendations"
    ] == []


async def test_similar_of_unknown_item_is_404(client):
    await co_viewed(client)
    error = await error_of(await client.get("/items/nope/similar"), 404)
    assert error["code"] == "not_found"


async def test_similar_with_bad_k_is_400(client, conn):
    await co_viewed(client)
    before = counts(conn)
    for k in ("0", "101", "x"):
        error = await error_of(await client.get("/items/A/similar", query_string={"k": k}), 400)
        assert "k" in fields_of(error), (k, error)
    assert counts(conn) == before


async def test_oversized_item_batch_is_413(client, conn):
    items = [{"product_id": f"p{i}"} for i in range(10_001)]
    error = await error_of(await client.post("/items", json={"items": items}), 413)
    assert error["code"] == "batch_too_large"
    assert count(conn, "items") == 0


async def test_ids_with_unusual_characters_round_trip(client):
    product = "café ☕ #1?"
    response = await client.post(
        "/event", json={"user_id": "ü 1", "product_id": product, "event_type": "view"}
    )
    assert response.status_code == 201
    item = await get_json(client, "/items/" + quote(product, safe=""))
    assert item["product_id"] == product and item["views"] == 1
    history = await get_json(client, "/users/" + quote("ü 1", safe="") + "/history")
    assert history["events"][0]["product_id"] == product


async def test_ids_containing_a_slash_are_addressable(client):
    # Ids are free text: an id accepted in an event must be readable back.
    response = await client.post(
        "/event", json={"user_id": "team/7", "product_id": "AB/12", "event_type": "view"}
    )
    assert response.status_code == 201
    item = await client.get("/items/" + quote("AB/12", safe=""))
    assert item.status_code == 200, await item.get_json()
    assert (await item.get_json())["product_id"] == "AB/12"
    history = await client.get("/users/" + quote("team/7", safe="") + "/history")
    assert history.status_code == 200, await history.get_json()
