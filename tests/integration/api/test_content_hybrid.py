"""HTTP: items embedded on upsert, content_based and hybrid over /recommend."""

from __future__ import annotations

import json

from app.training import runner
from tests.support.api import error_of, fetch, fields_of, get_json, ids, put_item, recommend
from tests.support.catalogue import SPACE, item, load

QUIET = runner.Options(progress=False)


async def test_an_upserted_item_is_at_once_findable_by_similarity(client, conn, db_url):
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    twin = {k: v for k, v in item("s2").items() if k != "product_id"}
    await put_item(client, "new", **{**twin, "title": twin["title"] + " (remastered)"})
    [(dims,)] = fetch(
        conn, "select vector_dims(embedding) from recsys.items where external_id = 'new'"
    )
    assert dims is not None
    near = await get_json(client, "/items/new/similar", by="content", k=5)
    assert ids(near["recommendations"])[0] == "s2"
    assert set(ids(near["recommendations"])) <= set(SPACE)
    back = await get_json(client, "/items/s2/similar", by="content", k=3)
    assert ids(back["recommendations"])[0] == "new"
    # Batch upserts embed too; an item without text gets no embedding.
    response = await client.post(
        "/items",
        json={"items": [{"product_id": "b1", "title": "Bread soup"}, {"product_id": "b2"}]},
    )
    assert response.status_code == 201
    stored = dict(
        fetch(
            conn,
            "select external_id, embedding is not null from recsys.items"
            " where external_id in ('b1', 'b2')",
        )
    )
    assert stored == {"b1": True, "b2": False}


async def test_items_are_not_embedded_before_any_content_run(client, conn):
    await put_item(client, "x", title="Rocket")
    assert fetch(conn, "select embedding from recsys.items") == [(None,)]


async def test_content_based_by_product_and_filters(client, conn, db_url):
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    recs = await recommend(client, case="content_based", product_id="s1", k=4)
    assert set(ids(recs)) <= set(SPACE) and all("similar to" in r["reason"] for r in recs)
    red = await recommend(
        client,
        case="content_based",
        product_id="s1",
        k=3,
        category="food",
        attributes=json.dumps({"color": "red"}),
    )
    assert len(red) == 3 and all(p.startswith("f") and int(p[1:]) % 2 for p in ids(red))
    bad = await client.get(
        "/recommend", query_string={"case": "content_based", "product_id": "s1", "attributes": "[1"}
    )
    assert "attributes" in fields_of(await error_of(bad, 400))


async def test_similar_keeps_its_cooccurrence_meaning_by_default(client, conn):
    load(conn)
    body = await get_json(client, "/items/s1/similar", k=3)
    assert all(r["reason"].startswith("chosen together by") for r in body["recommendations"])
    await error_of(await client.get("/items/nope/similar", query_string={"by": "content"}), 404)


async def test_hybrid_switching_says_which_strategy_answered(client, conn, db_url):
    load(conn)
    runner.train(db_url, ["all"], runner.Options(progress=False, params={"ease": {"lam": 1.0}}))
    body = await get_json(client, "/recommend", case="hybrid", method="switching", user_id="u0")
    assert body["method"] == "switching" and len(body["recommendations"]) == 10
    assert body["recommendations"][0]["reason"].startswith("collaborative: ")
    fresh = await recommend(client, case="hybrid", user_id="brand-new", k=5)
    assert len(fresh) == 5 and all(r["reason"].startswith("popular") for r in fresh)
