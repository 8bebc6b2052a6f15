"""GET /users/{id}/history."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.api import error_of, fields_of, get_json, post_event, record, views


async def test_history_is_newest_first(client):
    for product, event_type in [("p1", "view"), ("p2", "add_to_cart"), ("p3", "purchase")]:
        response = await post_event(
            client, user_id="u1", product_id=product, event_type=event_type, event_id=f"k-{product}"
        )
        assert response.status_code == 201
    await record(client, views("u2", "p9"))  # someone else's
    body = await get_json(client, "/users/u1/history")
    assert body["user_id"] == "u1"
    events = body["events"]
    assert [(e["product_id"], e["event_type"], e["event_id"]) for e in events] == [
        ("p3", "purchase", "k-p3"),
        ("p2", "add_to_cart", "k-p2"),
        ("p1", "view", "k-p1"),
    ]
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps, reverse=True)


async def test_history_orders_by_event_time_not_arrival(client):
    # A late-arriving event about the past is not the newest one.
    await record(
        client,
        [
            {
                "user_id": "u1",
                "product_id": "new",
                "event_type": "view",
                "timestamp": "2024-05-02T00:00:00Z",
            },
            {
                "user_id": "u1",
                "product_id": "old",
                "event_type": "view",
                "timestamp": "2024-05-01T00:00:00Z",
            },
        ],
    )
    await record(
        client,
        [
            {
                "user_id": "u1",
                "product_id": "older",
                "event_type": "view",
                "timestamp": "2024-04-01T00:00:00Z",
            }
        ],
    )
    events = (await get_json(client, "/users/u1/history"))["events"]
    assert [e["product_id"] for e in events] == ["new", "old", "older"]
    assert datetime.fromisoformat(events[0]["timestamp"]) == datetime(2024, 5, 2, tzinfo=UTC)


async def test_history_limit_is_honoured(client):
    await record(client, views("u1", *[f"p{i}" for i in range(7)]))
    events = (await get_json(client, "/users/u1/history", limit=3))["events"]
    assert [e["product_id"] for e in events] == ["p6", "p5", "p4"]
    assert len((await get_json(client, "/users/u1/history"))["events"]) == 7


async def test_history_shows_values_of_ratings(client):
    await record(
        client, [{"user_id": "u1", "product_id": "p1", "event_type": "rating", "value": 4}]
    )
    [event] = (await get_json(client, "/users/u1/history"))["events"]
    assert (event["event_type"], event["value"], event["event_id"]) == ("rating", 4.0, None)


async def test_history_bad_limit_is_400(client):
    await record(client, views("u1", "p1"))
    for limit in ("0", "1001", "-5", "many"):
        response = await client.get("/users/u1/history", query_string={"limit": limit})
        error = await error_of(response, 400)
        assert "limit" in fields_of(error), (limit, error)


async def test_history_default_limit_is_100(client):
    await record(client, views("u1", *[f"p{i}" for i in range(101)]))
    events = (await get_json(client, "/users/u1/history"))["events"]
    assert len(events) == 100
    assert events[0]["product_id"] == "p100"
    assert len((await get_json(client, "/users/u1/history", limit=1000))["events"]) == 101


async def test_history_of_unknown_user_is_404(client):
    await record(client, views("u1", "p1"))
    error = await error_of(await client.get("/users/nobody/history"), 404)
    assert error["code"] == "not_found"
    assert "user_id" in fields_of(error)
