"""GET /recommend?case=collaborative: trained neighbours over live history."""

from __future__ import annotations

from app.training import runner
from tests.support.api import get_json, ids, put_item, recommend, record, views

OPTIONS = runner.Options(progress=False, params={"ease": {"lam": 1.0, "n_neighbors": 10}})
SHOES = ["s1", "s2", "s3", "s4"]
BOOKS = ["b1", "b2", "b3", "b4"]


async def two_crowds(client) -> None:
    """Eight shoe people and eight book people, each touching three of four items."""
    rows = []
    for n in range(8):
        for group, prefix in ((SHOES, "shoe"), (BOOKS, "book")):
            rows += views(f"{prefix}{n}", *[p for i, p in enumerate(group) if i != n % 4])
    await record(client, rows)


async def test_new_user_gets_popular_items_and_is_told(client, db_url):
    await two_crowds(client)
    runner.train(db_url, ["ease"], OPTIONS)
    body = await get_json(client, "/recommend", case="collaborative", user_id="newcomer", k=5)
    assert body["case"] == "collaborative"
    assert len(body["recommendations"]) == 5
    assert all("(new user)" in r["reason"] for r in body["recommendations"])


async def test_a_click_changes_the_list_without_retraining(client, db_url):
    await two_crowds(client)
    runner.train(db_url, ["ease"], OPTIONS)
    await record(client, views("me", "s1"))
    first = await recommend(client, case="collaborative", user_id="me", k=3)
    assert set(ids(first)) == {"s2", "s3", "s4"}
    assert all(r["reason"].startswith("liked by people who liked") for r in first)
    await record(client, views("me", "b1", "b2", event_type="purchase"))
    second = await recommend(client, case="collaborative", user_id="me", k=3)
    assert set(ids(second)) & {"b3", "b4"}
    assert not set(ids(second)) & {"s1", "b1", "b2"}


async def test_filters_apply_and_the_list_stays_k_long(client, db_url):
    await two_crowds(client)
    await put_item(client, "s2", categories=["sale"])
    await put_item(client, "b3", categories=["sale"])
    runner.train(db_url, ["ease"], OPTIONS)
    await record(client, views("me", "s1"))
    recs = await recommend(client, case="collaborative", user_id="me", k=6, exclude="s3")
    assert len(recs) == 6
    assert "s3" not in ids(recs) and "s1" not in ids(recs)
    on_sale = await recommend(client, case="collaborative", user_id="me", k=5, category="sale")
    assert set(ids(on_sale)) == {"s2", "b3"}


async def test_without_a_trained_model_the_list_is_popular(client):
    await two_crowds(client)
    await record(client, views("me", "s1"))
    recs = await recommend(client, case="collaborative", user_id="me", k=4)
    assert len(recs) == 4
    assert all("(not enough history)" in r["reason"] for r in recs)
