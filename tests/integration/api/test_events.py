"""POST /event and POST /events: recording, idempotency, timestamps, all-or-nothing batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import (
    co_viewed,
    count,
    counts,
    error_of,
    fetch,
    fields_of,
    ids,
    post_event,
    post_events,
    recommend,
    record,
    stored_events,
    views,
)

# ------------------------------------------------------------------ POST /event


async def test_event_is_recorded_and_answered_with_recommendations(client, conn):
    await co_viewed(client)
    response = await post_event(client, user_id="me", product_id="A", event_type="view")
    assert response.status_code == 201
    body = await response.get_json()
    assert body["status"] == "recorded"
    assert body["user_id"] == "me"
    recs = body["recommendations"]
    assert isinstance(recs, list) and len(recs) == 8  # every item but A
    assert recs[0]["product_id"] == "B"  # what viewers of A also viewed
    for rec in recs:
        assert set(rec) == {"product_id", "score", "reason"}
        assert isinstance(rec["score"], float) and rec["reason"]
    assert "A" not in ids(recs)
    assert stored_events(conn)[-1][:4] == ("me", "A", "view", None)


async def test_event_accepts_numeric_ids_and_stores_them_as_text(client, conn):
    response = await post_event(client, user_id=42, product_id=7, event_type="add_to_cart")
    assert response.status_code == 201
    assert (await response.get_json())["user_id"] == "42"
    assert [row[:3] for row in stored_events(conn)] == [("42", "7", "add_to_cart")]
    history = await client.get("/users/42/history")
    assert (await history.get_json())["events"][0]["product_id"] == "7"


async def test_event_ids_are_trimmed(client, conn):
    response = await post_event(client, user_id="  u1 ", product_id=" p1", event_type="view")
    assert response.status_code == 201
    assert [row[:2] for row in stored_events(conn)] == [("u1", "p1")]


async def test_rating_value_is_stored(client, conn):
    response = await post_event(
        client, user_id="u1", product_id="p1", event_type="rating", value=4.5
    )
    assert response.status_code == 201
    assert stored_events(conn)[0][2:4] == ("rating", 4.5)


async def test_purchased_item_never_comes_back(client):
    # X is what everyone who chose Y also bought, and the most popular item overall.
    rows = []
    for n in range(6):
        rows += views(f"u{n}", "Y", "X")
        rows += views(f"u{n}", "X", event_type="purchase")
    rows += views("other", "Z", "W")
    await record(client, rows)

    await post_event(client, user_id="me", product_id="Y", event_type="view")
    before = await recommend(client, user_id="me", case="behavior_based")
    assert ids(before)[0] == "X"  # the test would prove nothing otherwise

    response = await post_event(client, user_id="me", product_id="X", event_type="purchase")
    assert response.status_code == 201
    assert "X" not in ids((await response.get_json())["recommendations"])
    for case in ("behavior_based", "popular"):
        recs = await recommend(client, user_id="me", case=case, k=100)
        assert "X" not in ids(recs), case
        assert ids(recs), case  # still answers with the rest of the catalogue
    realtime = await client.get("/realtime-recommend", query_string={"user_id": "me"})
    assert "X" not in ids((await realtime.get_json())["recommendations"])


async def test_same_event_id_twice_is_stored_once(client, conn):
    event = {"user_id": "u1", "product_id": "p1", "event_type": "purchase", "event_id": "e-1"}
    first = await post_event(client, **event)
    assert first.status_code == 201
    assert (await first.get_json())["status"] == "recorded"

    second = await post_event(client, **event)
    assert second.status_code == 200
    body = await second.get_json()
    assert body["status"] == "duplicate"
    assert isinstance(body["recommendations"], list)

    assert count(conn, "events") == 1
    assert fetch(conn, "select events from recsys.item_stats") == [(1,)]
    assert fetch(conn, "select events from recsys.item_type_stats where type_id = 3") == [(1,)]
    assert fetch(conn, "select conversions from recsys.interactions") == [(1,)]


async def test_events_without_event_id_are_never_duplicates(client, conn):
    event = {"user_id": "u1", "product_id": "p1", "event_type": "view"}
    for _ in range(2):
        response = await post_event(client, **event)
        assert response.status_code == 201
        assert (await response.get_json())["status"] == "recorded"
    assert count(conn, "events") == 2


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T14:00:00+02:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T12:00:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),  # naive: UTC
        ("2024-03-01 12:00:00.250", datetime(2024, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)),
        (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1_700_000_000.5, datetime(2023, 11, 14, 22, 13, 20, 500_000, tzinfo=UTC)),
    ],
    ids=["iso-z", "iso-offset", "iso-naive", "iso-space-fraction", "unix", "unix-float"],
)
async def test_event_timestamp_is_stored(client, conn, timestamp, expected):
    response = await post_event(
        client, user_id="u1", product_id="p1", event_type="view", timestamp=timestamp
    )
    assert response.status_code == 201, await response.get_json()
    [row] = stored_events(conn)
    assert row[4] == expected
    # The API reports the same instant back.
    history = await (await client.get("/users/u1/history")).get_json()
    reported = datetime.fromisoformat(history["events"][0]["timestamp"])
    assert reported.tzinfo is not None
    assert reported == expected


async def test_event_without_timestamp_is_stamped_now(client, conn):
    response = await post_event(client, user_id="u1", product_id="p1", event_type="view")
    assert response.status_code == 201
    [row] = stored_events(conn)
    [(now,)] = fetch(conn, "select now()")
    assert abs(now - row[4]) < timedelta(hours=1)


BAD_EVENTS = [
    ({"product_id": "p1", "event_type": "view"}, "user_id"),
    ({"user_id": "u1", "event_type": "view"}, "product_id"),
    ({"user_id": "u1", "product_id": "p1"}, "event_type"),
    ({"user_id": "", "product_id": "p1", "event_type": "view"}, "user_id"),
    ({"user_id": "   ", "product_id": "p1", "event_type": "view"}, "user_id"),
    ({"user_id": None, "product_id": "p1", "event_type": "view"}, "user_id"),
    ({"user_id": "u" * 257, "product_id": "p1", "event_type": "view"}, "user_id"),
    # The limit holds for what was sent, not for what trimming leaves.
    ({"user_id": "u1" + " " * 300, "product_id": "p1", "event_type": "view"}, "user_id"),
    ({"user_id": "u1", "product_id": "", "event_type": "view"}, "product_id"),
    ({"user_id": "u1", "product_id": ["p1"], "event_type": "view"}, "product_id"),
    ({"user_id": "u1", "product_id": "p1", "event_type": "like"}, "event_type"),
    ({"user_id": "u1", "product_id": "p1", "event_type": ""}, "event_type"),
    ({"user_id": "u1", "product_id": "p1", "event_type": "rating"}, "value"),
    ({"user_id": "u1", "product_id": "p1", "event_type": "rating", "value": "x"}, "value"),
    (
        {"user_id": "u1", "product_id": "p1", "event_type": "view", "timestamp": "yesterday"},
        "timestamp",
    ),
    ({"user_id": "u1", "product_id": "p1", "event_type": "view", "event_id": ""}, "event_id"),
]


async def test_bad_event_is_rejected_and_writes_nothing(client, conn):
    await record(client, views("seed", "p0"))
    before = counts(conn)
    problems = []
    for event, field in BAD_EVENTS:
        response = await post_event(client, **event)
        error = await error_of(response, 400)
        if field not in fields_of(error):
            problems.append((event, field, error))
        if counts(conn) != before:
            problems.append((event, "wrote", counts(conn)))
            before = counts(conn)
    assert not problems


async def test_value_must_be_finite(client, conn):
    for raw in ("NaN", "Infinity", "-Infinity"):
        body = f'{{"user_id": "u1", "product_id": "p1", "event_type": "rating", "value": {raw}}}'
        response = await client.post(
            "/event", data=body, headers={"Content-Type": "application/json"}
        )
        error = await error_of(response, 400)
        assert "value" in fields_of(error) or error["code"] == "malformed_request", error
    assert counts(conn)["events"] == 0


async def test_unknown_event_type_error_names_the_type(client):
    response = await post_event(client, user_id="u1", product_id="p1", event_type="like")
    error = await error_of(response, 400)
    assert error["code"] == "invalid_request"
    assert "like" in error["message"]


# ----------------------------------------------------------------- POST /events


async def test_batch_is_recorded(client, conn):
    rows = [
        {"user_id": "u1", "product_id": "p1", "event_type": "view"},
        {"user_id": 2, "product_id": 3, "event_type": "add_to_cart", "timestamp": 1_700_000_000},
        {
            "user_id": "u1",
            "product_id": "p2",
            "event_type": "purchase",
            "event_id": "k1",
            "timestamp": "2024-01-01T00:00:00",
        },
    ]
    response = await post_events(client, rows)
    assert response.status_code == 201
    assert await response.get_json() == {"inserted": 3, "duplicates": 0}
    stored = stored_events(conn)
    assert [row[:4] for row in stored] == [
        ("u1", "p1", "view", None),
        ("2", "3", "add_to_cart", None),
        ("u1", "p2", "purchase", None),
    ]
    assert stored[1][4] == datetime.fromtimestamp(1_700_000_000, UTC)
    assert stored[2][4] == datetime(2024, 1, 1, tzinfo=UTC)
    assert stored[2][5] == "k1"
    assert count(conn, "users") == 2
    assert count(conn, "items") == 3


async def test_batch_with_ratings_stores_their_values(client, conn):
    rows = [
        {"user_id": "u1", "product_id": "p1", "event_type": "rating", "value": 3},
        {"user_id": "u2", "product_id": "p1", "event_type": "rating", "value": 4.5},
        {"user_id": "u2", "product_id": "p2", "event_type": "view"},
    ]
    assert await record(client, rows) == {"inserted": 3, "duplicates": 0}
    assert [row[2:4] for row in stored_events(conn)] == [
        ("rating", 3.0),
        ("rating", 4.5),
        ("view", None),
    ]
    ratings = "select events, value_sum from recsys.item_type_stats where type_id = 4"
    assert fetch(conn, ratings) == [(2, 7.5)]


async def test_batch_counts_duplicates_within_the_batch(client, conn):
    rows = [
        {"user_id": "u1", "product_id": "p1", "event_type": "view", "event_id": "a"},
        {"user_id": "u1", "product_id": "p1", "event_type": "view", "event_id": "a"},
        {"user_id": "u1", "product_id": "p2", "event_type": "view", "event_id": "b"},
        {"user_id": "u1", "product_id": "p2", "event_type": "view"},
        {"user_id": "u1", "product_id": "p2", "event_type": "view"},
    ]
    assert await record(client, rows) == {"inserted": 4, "duplicates": 1}
    assert count(conn, "events") == 4
    assert fetch(conn, "select sum(events) from recsys.item_type_stats where type_id = 1") == [(4,)]


async def test_batch_counts_duplicates_across_batches(client, conn):
    first = [
        {"user_id": "u1", "product_id": "p1", "event_type": "view", "event_id": k}
        for k in ("a", "b")
    ]
    second = [
        {"user_id": "u1", "product_id": "p1", "event_type": "view", "event_id": k}
        for k in ("b", "c", "a")
    ]
    assert await record(client, first) == {"inserted": 2, "duplicates": 0}
    assert await record(client, second) == {"inserted": 1, "duplicates": 2}
    assert await record(client, second) == {"inserted": 0, "duplicates": 3}
    assert sorted(row[5] for row in stored_events(conn)) == ["a", "b", "c"]
    # A single /event with a key first seen in a batch is a duplicate too.
    single = await post_event(
        client, user_id="u1", product_id="p1", event_type="view", event_id="c"
    )
    assert single.status_code == 200
    assert (await single.get_json())["status"] == "duplicate"
    assert count(conn, "events") == 3


def _good_rows(n: int = 5) -> list[dict]:
    # New users and items on every row: a partial write would show in every table.
    return [
        {"user_id": f"new-u{i}", "product_id": f"new-p{i}", "event_type": "view"} for i in range(n)
    ]


BAD_BATCH_ROWS = [
    (3, {"event_type": "like"}, "events.3.event_type"),
    (2, {"event_type": "rating"}, "events.2.value"),
    (1, {"user_id": ""}, "events.1.user_id"),
    (4, {"product_id": "  "}, "events.4.product_id"),
    (2, {"timestamp": "not a time"}, "events.2.timestamp"),
    (0, {"value": "high"}, "events.0.value"),
]


@pytest.mark.parametrize(
    ("index", "change", "field"), BAD_BATCH_ROWS, ids=[field for _, _, field in BAD_BATCH_ROWS]
)
async def test_batch_with_one_bad_row_is_rejected_whole(client, conn, index, change, field):
    await record(client, views("seed", "p0"))
    before = counts(conn)
    rows = _good_rows()
    rows[index] = {**rows[index], **change}
    response = await post_events(client, rows)
    error = await error_of(response, 400)
    assert field in fields_of(error), error
    assert counts(conn) == before


async def test_batch_with_missing_field_names_it(client, conn):
    rows = _good_rows()
    del rows[1]["user_id"]
    error = await error_of(await post_events(client, rows), 400)
    assert "events.1.user_id" in fields_of(error)
    assert counts(conn)["events"] == 0


async def test_batch_of_the_maximum_size_is_accepted(client, conn):
    rows = [
        {"user_id": f"u{i % 100}", "product_id": f"p{i % 37}", "event_type": "view"}
        for i in range(10_000)
    ]
    assert await record(client, rows) == {"inserted": 10_000, "duplicates": 0}
    assert count(conn, "events") == 10_000


async def test_oversized_batch_is_413_and_writes_nothing(client, conn):
    rows = [{"user_id": f"u{i}", "product_id": "p", "event_type": "view"} for i in range(10_001)]
    error = await error_of(await post_events(client, rows), 413)
    assert error["code"] == "batch_too_large"
    assert all(n == 0 for n in counts(conn).values())


async def test_batch_without_events_is_400(client, conn):
    for body in ({"events": []}, {}, {"events": "nope"}, {"events": None}, {"events": [[]]}):
        error = await error_of(await client.post("/events", json=body), 400)
        assert any(key.startswith("events") for key in fields_of(error)), (body, error)
    assert counts(conn)["events"] == 0


async def test_concurrent_retries_of_one_event_are_stored_once(client, conn):
    event = {"user_id": "u1", "product_id": "p1", "event_type": "purchase", "event_id": "once"}
    responses = await asyncio.gather(*(post_event(client, **event) for _ in range(8)))
    statuses = sorted([r.status_code for r in responses])
    assert statuses == [200] * 7 + [201]
    assert count(conn, "events") == 1
    assert fetch(conn, "select events from recsys.item_type_stats where type_id = 3") == [(1,)]


async def test_concurrent_events_of_one_user_keep_counts_exact(client, conn):
    products = [f"p{i}" for i in range(12)]
    responses = await asyncio.gather(
        *(post_event(client, user_id="u1", product_id=p, event_type="view") for p in products)
    )
    assert all(r.status_code == 201 for r in responses)
    n = len(products)
    # Every pair of the user's items is counted exactly once, whatever the interleaving.
    assert fetch(conn, "select count(*), sum(users) from recsys.item_pairs") == [
        (n * (n - 1) // 2, n * (n - 1) // 2)
    ]
    assert fetch(conn, "select n_items from recsys.users") == [(n,)]
    assert fetch(conn, "select array_agg(seq order by seq) from recsys.interactions") == [
        (list(range(1, n + 1)),)
    ]
