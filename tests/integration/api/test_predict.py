"""GET /predict: ratings from the active explicit model, with honest fallbacks."""

from __future__ import annotations

from app.training import runner
from tests.support.api import error_of, fields_of, get_json, record

OPTIONS = runner.Options(
    progress=False,
    validate=False,
    params={"svd": {"n_factors": 4, "n_epochs": 60, "lr_all": 0.02, "reg_all": 0.05}},
)


async def rate_two_tastes(client) -> None:
    """Even users rate x-items 5 and y-items 1, odd users the reverse; each skips one."""
    rows = []
    for u in range(12):
        for n, item in enumerate(["x1", "x2", "x3", "y1", "y2", "y3"]):
            if n == u % 6:
                continue
            loved = (item[0] == "x") == (u % 2 == 0)
            rows.append(
                {
                    "user_id": f"r{u}",
                    "product_id": item,
                    "event_type": "rating",
                    "value": 5 if loved else 1,
                }
            )
    await record(client, rows)


async def test_predict_before_training_is_409(client):
    response = await client.get("/predict", query_string={"user_id": "r0", "product_id": "x1"})
    error = await error_of(response, 409)
    assert error["code"] == "not_ready"
    assert "recsys train" in error["message"]


async def test_predict_follows_the_users_taste(client, db_url):
    await rate_two_tastes(client)
    runner.train(db_url, ["svd"], OPTIONS)
    # r0 skipped x1 (loves x), r1 skipped x2 (loves y): unseen pairs.
    loved = await get_json(client, "/predict", user_id="r0", product_id="x1")
    hated = await get_json(client, "/predict", user_id="r1", product_id="x2")
    assert loved["rating"] > 3.5 > hated["rating"]
    assert loved["fallback"] is False and loved["reason"] == "svd model"
    assert isinstance(loved["run_id"], int)


async def test_unknown_user_or_item_falls_back_and_says_so(client, db_url):
    await rate_two_tastes(client)
    runner.train(db_url, ["svd"], OPTIONS)
    for params, words in [
        ({"user_id": "nobody", "product_id": "x1"}, "unknown user"),
        ({"user_id": "r0", "product_id": "nothing"}, "unknown item"),
        ({"user_id": "nobody", "product_id": "nothing"}, "unknown user and item"),
    ]:
        body = await get_json(client, "/predict", **params)
        assert body["fallback"] is True, body
        assert words in body["reason"], body
        assert 1 <= body["rating"] <= 5


async def test_predictions_are_clipped_to_the_rating_scale(client, db_url):
    await rate_two_tastes(client)
    runner.train(db_url, ["svd"], OPTIONS)
    for u in range(12):
        for item in ("x1", "y1"):
            body = await get_json(client, "/predict", user_id=f"r{u}", product_id=item)
            assert 1 <= body["rating"] <= 5


async def test_predict_needs_both_ids(client):
    for params in ({"user_id": "r0"}, {"product_id": "x1"}, {}):
        error = await error_of(await client.get("/predict", query_string=params), 400)
        assert set(fields_of(error)) & {"user_id", "product_id"}, error
