"""GET /recommend and GET /realtime-recommend."""

from __future__ import annotations

import pytest

from tests.support.api import (
    co_viewed,
    counts,
    error_of,
    fields_of,
    get_json,
    ids,
    put_item,
    recommend,
    record,
    stored_events,
    views,
)


async def ranked_catalogue(client, n: int = 12) -> list[str]:
    """Items p00..p{n-1}; p00 viewed by n users, p01 by n-1, ... : the popularity order."""
    products = [f"p{i:02d}" for i in range(n)]
    rows = []
    for rank, product in enumerate(products):
        rows += [
            {"user_id": f"fan{j}", "product_id": product, "event_type": "view"}
            for j in range(n - rank)
        ]
    await record(client, rows)
    return products


# ----------------------------------------------------------------------- popular


async def test_popular_needs_no_user(client):
    products = await ranked_catalogue(client)
    body = await get_json(client, "/recommend", case="popular")
    assert body["case"] == "popular"
    assert body["user_id"] is None
    recs = body["recommendations"]
    assert ids(recs) == products[:10]  # k defaults to 10, most popular first
    scores = [r["score"] for r in recs]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(1.0)
    assert all("popular" in r["reason"] for r in recs)


async def test_popular_on_an_empty_catalogue_is_an_empty_list(client):
    assert await recommend(client, case="popular") == []


@pytest.mark.parametrize(("k", "expected"), [(3, 3), (1, 1), (12, 12), (100, 12)])
async def test_k_bounds_the_list(client, k, expected):
    products = await ranked_catalogue(client)
    recs = await recommend(client, case="popular", k=k)
    assert ids(recs) == products[:expected]


@pytest.mark.parametrize("case", ["popular", "behavior_based"])
async def test_k_out_of_range_is_400(client, case):
    for k in ("0", "101", "-1", "abc", "", "2.5"):
        response = await client.get(
            "/recommend", query_string={"case": case, "k": k, "user_id": "u1"}
        )
        error = await error_of(response, 400)
        assert "k" in fields_of(error), (k, error)


async def test_popular_for_a_user_leaves_out_what_they_touched(client):
    products = await ranked_catalogue(client)
    await record(client, views("me", "p00") + views("me", "p02", event_type="add_to_cart"))
    recs = await recommend(client, case="popular", user_id="me")
    assert ids(recs) == [p for p in products if p not in ("p00", "p02")][:10]


# ---------------------------------------------------------------- user_id / case


@pytest.mark.parametrize(
    "params", [{"case": "behavior_based"}, {}, {"case": "behavior_based", "user_id": ""}]
)
async def test_behavior_based_needs_user_id(client, params):
    error = await error_of(await client.get("/recommend", query_string=params), 400)
    assert "user_id" in fields_of(error), error


async def test_unknown_case_is_400(client):
    for case in ("viral", "POPULAR", ""):
        response = await client.get("/recommend", query_string={"case": case, "user_id": "u1"})
        error = await error_of(response, 400)
        assert "case" in fields_of(error), (case, error)


async def test_hybrid_and_content_based_answer_a_new_user_with_popular_items(client, conn):
    products = await ranked_catalogue(client, n=4)
    for params in (
        {"case": "hybrid", "user_id": "u1"},
        {"case": "hybrid", "user_id": "u1", "method": "switching"},
        {"case": "content_based", "user_id": "u1"},
    ):
        body = await get_json(client, "/recommend", k=3, **params)
        assert ids(body["recommendations"]) == products[:3], params
        assert all("popular" in r["reason"] for r in body["recommendations"]), params
    body = await get_json(client, "/recommend", case="hybrid", user_id="u1")
    assert body["method"] == "adaptive"
    before = counts(conn)
    error = await error_of(
        await client.get("/recommend", query_string={"case": "content_based", "product_id": "p9"}),
        404,
    )
    assert "product_id" in fields_of(error)
    assert counts(conn) == before


async def test_collaborative_answers_even_before_any_training(client):
    # No model yet: popular items for a new user, and the reason says so.
    await ranked_catalogue(client, n=3)
    body = await get_json(client, "/recommend", case="collaborative", user_id="u1", k=3)
    assert body["case"] == "collaborative"
    assert ids(body["recommendations"]) == ["p00", "p01", "p02"]
    assert all("(new user)" in r["reason"] for r in body["recommendations"])


async def test_collaborative_needs_user_id(client):
    error = await error_of(
        await client.get("/recommend", query_string={"case": "collaborative"}), 400
    )
    assert "user_id" in fields_of(error), error


async def test_content_based_without_user_or_product_is_400(client):
    response = await client.get("/recommend", query_string={"case": "content_based"})
    error = await error_of(response, 400)
    assert "user_id" in fields_of(error) or "product_id" in fields_of(error), error


async def test_unknown_hybrid_method_is_400(client):
    response = await client.get(
        "/recommend", query_string={"case": "hybrid", "user_id": "u1", "method": "best"}
    )
    error = await error_of(response, 400)
    assert "method" in fields_of(error), error


# ------------------------------------------------------------- exclude / category


async def test_exclude_removes_ids_and_keeps_the_list_full(client):
    products = await ranked_catalogue(client)
    recs = await recommend(client, case="popular", exclude="p00, p03,unknown")
    assert ids(recs) == [p for p in products if p not in ("p00", "p03")][:10]


async def test_exclude_applies_to_behavior_based(client):
    await co_viewed(client)
    await record(client, views("me", "A"))
    assert ids(await recommend(client, user_id="me"))[0] == "B"
    recs = await recommend(client, user_id="me", exclude="B,C")
    assert {"A", "B", "C"}.isdisjoint(ids(recs))
    assert len(recs) == 6  # the other six items


async def catalogue_with_categories(client) -> dict[str, list[str]]:
    catalogue = {
        "s1": ["shoes"],
        "s2": ["shoes", "sale"],
        "s3": ["shoes"],
        "h1": ["hats"],
        "h2": ["hats", "sale"],
        "x1": [],
    }
    for product, categories in catalogue.items():
        await put_item(client, product, title=product.upper(), categories=categories)
    rows = []
    for n, product in enumerate(catalogue):
        rows += views(f"fan{n}", *catalogue)  # everyone viewed everything
        rows += views(f"extra{n}", product)
    await record(client, rows)
    return catalogue


@pytest.mark.parametrize("category", ["shoes", "hats", "sale"])
async def test_category_filters_popular(client, category):
    catalogue = await catalogue_with_categories(client)
    expected = {p for p, cats in catalogue.items() if category in cats}
    recs = await recommend(client, case="popular", category=category)
    assert set(ids(recs)) == expected
    assert all(category in r["reason"] for r in recs)


async def test_category_filters_behavior_based(client):
    catalogue = await catalogue_with_categories(client)
    await record(client, views("me", "h1"))
    recs = await recommend(client, user_id="me", category="shoes", k=5)
    assert set(ids(recs)) == {p for p, cats in catalogue.items() if "shoes" in cats}
    for product in ids(recs):
        item = await get_json(client, f"/items/{product}")
        assert "shoes" in item["categories"]


async def test_unknown_category_gives_an_empty_list(client):
    await catalogue_with_categories(client)
    assert await recommend(client, case="popular", category="gloves") == []


async def test_category_must_not_be_empty(client):
    error = await error_of(
        await client.get("/recommend", query_string={"case": "popular", "category": ""}), 400
    )
    assert "category" in fields_of(error)


async def test_unavailable_items_are_never_recommended(client):
    products = await ranked_catalogue(client)
    await put_item(client, "p00", title="gone", available=False)
    await record(client, views("me", "p01"))
    assert "p00" not in ids(await recommend(client, case="popular", k=100))
    assert "p00" not in ids(await recommend(client, user_id="me", k=100))
    assert len(await recommend(client, case="popular", k=100)) == len(products) - 1


# ------------------------------------------------------------------ behaviour


async def test_behavior_based_recommends_co_occurring_items_with_reasons(client):
    await co_viewed(client)
    await put_item(client, "A", title="Alpha")
    await record(client, views("me", "A"))
    body = await get_json(client, "/recommend", user_id="me", case="behavior_based", k=3)
    assert body["user_id"] == "me" and body["case"] == "behavior_based"
    recs = body["recommendations"]
    assert len(recs) == 3
    assert recs[0]["product_id"] == "B"
    assert "Alpha" in recs[0]["reason"]  # says why: chosen together with A
    # The rest is filled from popular items, and says so.
    assert all("popular" in r["reason"] for r in recs[1:])
    assert "A" not in ids(recs)


async def test_behavior_based_follows_the_latest_history(client):
    await co_viewed(client)
    await record(client, views("me", "C"))
    recs = await recommend(client, user_id="me")
    assert recs[0]["product_id"] == "D"
    assert "C" in recs[0]["reason"]
    assert "C" not in ids(recs)


async def test_default_case_is_behavior_based(client):
    await co_viewed(client)
    await record(client, views("me", "A"))
    body = await get_json(client, "/recommend", user_id="me")
    assert body["case"] == "behavior_based"
    assert body["recommendations"][0]["product_id"] == "B"


async def test_new_user_gets_popular_items_saying_so(client):
    products = await ranked_catalogue(client)
    recs = await recommend(client, user_id="stranger", case="behavior_based", k=5)
    assert ids(recs) == products[:5]
    assert all("new user" in r["reason"] for r in recs)


async def test_lists_stay_full_while_the_catalogue_has_items(client):
    await co_viewed(client)  # 9 items with events
    for n in range(4):  # and 4 nobody has touched yet
        await put_item(client, f"fresh{n}")
    await record(client, views("me", "A", "C"))
    recs = await recommend(client, user_id="me", k=10)
    assert len(recs) == 10
    assert {"B", "D"} <= set(ids(recs[:2]))
    assert len(set(ids(recs))) == 10
    assert {"A", "C"}.isdisjoint(ids(recs))
    # 13 items, 2 seen: 11 eligible; asking for more gives all of them and no more.
    everything = await recommend(client, user_id="me", k=100)
    assert len(everything) == 11
    assert any("new in the catalogue" in r["reason"] for r in everything)
    popular = await recommend(client, case="popular", k=12)
    assert len(popular) == 12


# --------------------------------------------------------------- realtime


async def test_realtime_records_a_view_by_default(client, conn):
    await co_viewed(client)
    body = await get_json(client, "/realtime-recommend", user_id="me", product_id="A")
    assert body["user_id"] == "me"
    assert body["case"] == "behavior_based"
    assert body["recommendations"][0]["product_id"] == "B"
    assert "A" not in ids(body["recommendations"])
    assert stored_events(conn)[-1][:4] == ("me", "A", "view", None)


async def test_realtime_records_the_given_event_type(client, conn):
    await co_viewed(client)
    body = await get_json(
        client, "/realtime-recommend", user_id="me", product_id="B", event_type="purchase", k=3
    )
    assert len(body["recommendations"]) == 3
    assert "B" not in ids(body["recommendations"])
    assert stored_events(conn)[-1][:3] == ("me", "B", "purchase")
    item = await get_json(client, "/items/B")
    assert item["purchases"] == 1


async def test_realtime_without_product_records_nothing(client, conn):
    products = await ranked_catalogue(client)
    before = counts(conn)
    body = await get_json(client, "/realtime-recommend", user_id="me")
    assert ids(body["recommendations"]) == products[:10]
    # No event; only the ledger row of the list it answered.
    assert counts(conn) == {**before, "exposures": before["exposures"] + 1}


async def test_realtime_with_numeric_like_ids(client, conn):
    await get_json(client, "/realtime-recommend", user_id="42", product_id="7")
    assert [row[:3] for row in stored_events(conn)] == [("42", "7", "view")]


async def test_realtime_bad_input_is_400_and_writes_nothing(client, conn):
    await co_viewed(client)
    before = counts(conn)
    for params, field in (
        ({"product_id": "A"}, "user_id"),
        ({"user_id": "", "product_id": "A"}, "user_id"),
        ({"user_id": "me", "product_id": "A", "event_type": "like"}, "event_type"),
        ({"user_id": "me", "product_id": "A", "event_type": "rating"}, "value"),
        ({"user_id": "me", "product_id": "A", "k": "0"}, "k"),
    ):
        error = await error_of(await client.get("/realtime-recommend", query_string=params), 400)
        assert field in fields_of(error), (params, error)
        assert counts(conn) == before, params
