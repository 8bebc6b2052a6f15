"""The dashboard's JSON endpoints answer the rows of the views analysts query."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest
import websockets

from tests.support.api import error_of, get_json, record, views


def view_rows(conn: psycopg.Connection[Any], sql: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(sql).fetchall()  # type: ignore[arg-type]


def jsonable(rows: list[dict[str, Any]]) -> Any:
    """The rows as the API's JSON writes them (dates as ISO text, numerics as numbers)."""
    return json.loads(
        json.dumps(rows, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else float(v))
    )


async def shop(client: Any) -> None:
    rows = views("u1", "A", "B") + views("u2", "A", "C") + views("u3", "A")
    rows += [{"user_id": "u1", "product_id": "A", "event_type": "add_to_cart"}]
    rows += [{"user_id": "u1", "product_id": "A", "event_type": "purchase"}]
    await record(client, rows)


async def test_overview_is_daily_activity_item_funnel_and_active_users(client, conn):
    await shop(client)
    body = await get_json(client, "/admin/overview", days=7, top=2)
    assert body["daily_activity"] == jsonable(
        view_rows(conn, "select * from recsys.daily_activity order by day")
    )
    funnel = body["funnel"]
    assert (funnel["views"], funnel["add_to_carts"], funnel["purchases"]) == (5, 1, 1)
    top = view_rows(
        conn, "select * from recsys.item_funnel order by users desc, purchases desc, product_id"
    )
    assert [r["product_id"] for r in body["top_items"]] == [r["product_id"] for r in top[:2]]
    assert body["top_items"][0]["product_id"] == "A" and body["top_items"][0]["users"] == 3
    assert body["active_users"] == {"last_5_minutes": 3, "last_hour": 3, "last_day": 3}
    assert body["counts"]["items"] == 3 and body["counts"]["users"] == 3
    assert body["tenant"] == "default"


async def test_events_per_minute(client):
    await shop(client)
    body = await get_json(client, "/admin/events-per-minute", minutes=5)
    by_type = {}
    for row in body["minutes"]:
        by_type[row["event_type"]] = by_type.get(row["event_type"], 0) + row["events"]
    assert by_type == {"view": 5, "add_to_cart": 1, "purchase": 1}


@pytest.mark.parametrize("by", ["case", "position", "day", "arm", "scenario"])
async def test_loop_answers_the_loop_view(client, conn, by):
    await shop(client)
    listed = await get_json(client, "/recommend", user_id="u9", case="popular", k=3)
    first = listed["recommendations"][0]["product_id"]
    event = {"user_id": "u9", "product_id": first, "event_type": "view"}
    await client.post("/event", json={**event, "recomm_id": listed["recomm_id"]})
    body = await get_json(client, "/admin/loop", by=by)
    expected = view_rows(conn, f"select * from recsys.loop_by_{by}")  # by: the test's own list
    key = {"case": "case_name", "position": "position", "day": "day", "arm": "arm"}.get(by, by)
    order = sorted(jsonable(expected), key=lambda r: (str(r[key]), str(r.get("method"))))
    got = sorted(body["rows"], key=lambda r: (str(r[key]), str(r.get("method"))))
    assert got == order and got


async def test_bad_input_is_a_400_naming_the_field(client):
    error = await error_of(await client.get("/admin/loop?by=users;drop"), 400)
    assert "by" in error["fields"]
    error = await error_of(await client.get("/admin/overview?days=0"), 400)
    assert "days" in error["fields"]


async def test_models_lists_runs_and_activates_one(client, db_url):
    with psycopg.connect(db_url) as conn:
        for active in (False, True):
            conn.execute(
                "insert into recsys.model_runs (kind, role, status, active, metrics, trained_at)"
                " values ('ease', 'implicit', 'ready', %s, '{\"ndcg_at_10\": 0.2}', now())",
                [active],
            )
        conn.execute(
            "insert into recsys.model_runs (kind, role, status, error) values"
            " ('svd', 'explicit', 'failed', 'no ratings')"
        )
    runs = (await get_json(client, "/admin/models"))["runs"]
    assert [(r["id"], r["active"], r["status"]) for r in runs] == [
        (3, False, "failed"),
        (2, True, "ready"),
        (1, False, "ready"),
    ]
    assert runs[1]["metrics"] == {"ndcg_at_10": 0.2}
    activated = await client.post("/admin/models/1/activate")
    assert activated.status_code == 200 and (await activated.get_json())["id"] == 1
    runs = (await get_json(client, "/admin/models"))["runs"]
    assert [r["id"] for r in runs if r["active"]] == [1]
    await error_of(await client.post("/admin/models/3/activate"), 409)
    await error_of(await client.post("/admin/models/99/activate"), 404)
    # Beyond a bigint: no such run, and nothing reaches the database.
    await error_of(await client.post(f"/admin/models/{2**64}/activate"), 404)


async def test_settings_and_strategies(client):
    body = await get_json(client, "/admin/settings")
    assert body["tunables"]["pair_window"] == 200
    assert body["service"]["metrics"] is True and "token_secret" not in body["service"]
    names = [s["name"] for s in (await get_json(client, "/strategies"))["strategies"]]
    assert names == [
        "collaborative",
        "behavior_based",
        "content_based",
        "popular",
        "trending",
        "latest",
        "hybrid",
        "hybrid_switching",
    ]


async def test_the_page_is_served(client):
    response = await client.get("/admin")
    assert response.status_code == 200
    assert "recsys admin" in await response.get_data(as_text=True)


async def test_stream_counts_events_as_they_arrive(served):
    import httpx

    async with websockets.connect(served.url.replace("http", "ws") + "/admin/stream") as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["event"] == "subscribed"
        await asyncio.sleep(0.3)  # the stream has read where it starts
        async with httpx.AsyncClient(base_url=served.url) as http:
            rows = [
                *views("u1", "A", "B"),
                {"user_id": "u1", "product_id": "A", "event_type": "purchase"},
            ]
            assert (await http.post("/events", json={"events": rows})).status_code == 201
        counted: dict[str, int] = {}
        while sum(counted.values()) < 3:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["event"] == "activity"
            for name, n in message["data"]["by_type"].items():
                counted[name] = counted.get(name, 0) + n
        assert counted == {"view": 2, "purchase": 1}
