"""GET /metrics: the values move as requests, events and lists go by."""

from __future__ import annotations

import psycopg
import websockets

from app.metrics import gauges
from tests.support import sockets
from tests.support.api import get_json, record, views
from tests.support.metrics import names, scrape, value


async def test_requests_are_counted_by_route_template_and_status(client):
    before = await scrape(client)
    await client.get("/items/nope")
    await client.get("/items/nope")
    await client.get("/health")
    after = await scrape(client)
    route = {"route": "/items/<path:product_id>", "method": "GET"}
    assert value(after, "recsys_http_requests_total", status="404", **route) == 2
    assert value(before, "recsys_http_requests_total", status="404", **route) == 0
    health = {"route": "/health", "method": "GET"}
    assert value(after, "recsys_http_requests_total", status="200", **health) == 1
    assert value(after, "recsys_http_request_duration_seconds_count", **route) == 2
    # Paths no route matched share one label instead of one series each.
    await client.get("/no/such/path")
    unmatched = await scrape(client)
    labels = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert value(unmatched, "recsys_http_requests_total", **labels) == 1


async def test_lists_are_counted_by_case_and_surface(client):
    await record(client, views("u1", "A", "B") + views("u2", "A", "C"))
    await get_json(client, "/recommend", user_id="u1", case="popular", k=2)
    await get_json(client, "/recommend", user_id="u1", case="popular", k=2)
    body = await get_json(client, "/recommend", user_id="u1", k=1)
    await get_json(client, "/recommend/next", recomm_id=body["recomm_id"])
    await client.post("/event", json={"user_id": "u3", "product_id": "A", "event_type": "view"})
    text = await scrape(client)
    lists = "recsys_lists_served_total"
    assert value(text, lists, case="popular", surface="recommend") == 2
    assert value(text, lists, case="behavior_based", surface="recommend") == 1
    assert value(text, lists, case="behavior_based", surface="next") == 1
    assert value(text, lists, case="behavior_based", surface="event") == 1


async def test_events_are_counted_by_type_and_duplicates_apart(client):
    rows = [
        *views("u1", "A", "B"),
        {"user_id": "u1", "product_id": "A", "event_type": "purchase", "event_id": "p1"},
    ]
    await record(client, rows)
    await record(client, [rows[-1]])  # the same event_id again: a duplicate
    bad = await client.post("/events", json={"events": [{"user_id": "u1"}]})
    assert bad.status_code == 400  # rejected: nothing counted
    text = await scrape(client)
    assert value(text, "recsys_events_ingested_total", event_type="view") == 2
    assert value(text, "recsys_events_ingested_total", event_type="purchase") == 2
    assert value(text, "recsys_event_duplicates_total") == 1


async def test_pool_gauges_are_there(client):
    text = await scrape(client)
    # The scrape itself holds no connection while it is rendered; the pool is open.
    assert value(text, "recsys_pool_connections") >= 1
    assert {"recsys_pool_connections_in_use", "recsys_pool_requests_waiting"} <= names(text)


async def test_database_gauges_read_runs_lists_and_the_loop(app, client, db_url):
    await record(client, views("u1", "A", "B") + views("u2", "A", "C") + views("u3", "D"))
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into recsys.model_runs (kind, role, status, active, trained_at)"
            " values ('ease', 'implicit', 'ready', true, now() - interval '1 hour')"
        )
    body = await get_json(client, "/recommend", user_id="u9", case="popular", k=4)
    first = body["recommendations"][0]["product_id"]
    event = {"user_id": "u9", "product_id": first, "event_type": "view"}
    await client.post("/event", json={**event, "recomm_id": body["recomm_id"]})
    with psycopg.connect(db_url) as conn:
        conn.execute("select recsys.refresh_neighbor_lists_since(true)")
    text = await scrape(client)
    age = value(text, "recsys_model_run_age_seconds", role="implicit", kind="ease", run_id="1")
    assert 3590 < age < 3700
    assert value(text, "recsys_neighbor_lists_events_behind") == 0
    assert value(text, "recsys_neighbor_lists_refresh_age_seconds") < 60
    popular = {"case": "popular", "method": ""}
    assert value(text, "recsys_impressions_last_hour", **popular) == 4
    assert value(text, "recsys_clicks_last_hour", **popular) == 1
    assert value(text, "recsys_ctr_last_hour", **popular) == 0.25
    # Cached: new events do not show until the cache expires.
    await record(client, views("u4", "E"))
    assert value(await scrape(client), "recsys_neighbor_lists_events_behind") == 0
    app.app.extensions["recsys.database_gauges"].cache_seconds = 0
    assert value(await scrape(client), "recsys_neighbor_lists_events_behind") == 1
    assert gauges.CACHE_SECONDS > 0


async def test_sockets_and_pushes_are_counted(served):
    import httpx

    async with httpx.AsyncClient(base_url=served.url) as http:

        async def metrics() -> str:
            response = await http.get("/metrics")
            assert response.status_code == 200
            return response.text

        async with websockets.connect(served.ws_url) as ws:
            await sockets.register(ws, "u1")
            text = await metrics()
            assert value(text, "recsys_open_sockets") == 1
            assert value(text, "recsys_pushes_sent_total") == 1  # the list on registering
            event = {"user_id": "u1", "product_id": "A", "event_type": "view"}
            await http.post("/event", json=event)
            await sockets.next_event(ws, "realtime_recommendation")
            text = await metrics()
            assert value(text, "recsys_pushes_sent_total") == 2
            pushed = {"case": "behavior_based", "surface": "push"}
            assert value(text, "recsys_lists_served_total", **pushed) == 2
            assert value(text, "recsys_pushes_dropped_total") == 0
        closed = await metrics()
        assert value(closed, "recsys_open_sockets") == 0
        assert value(closed, "recsys_listener_reconnects_total") == 0


async def test_metrics_off_answers_404_and_counts_nothing(db_url, tmp_path):
    from app import create_app

    application = create_app({"database_url": db_url, "data_dir": tmp_path, "metrics": False})
    async with application.test_app() as test_app:
        client = test_app.test_client()
        response = await client.get("/metrics")
        assert response.status_code == 404
        body = await response.get_json()
        assert "REC_METRICS" in body["error"]["message"]
        assert "recsys.metrics" not in application.extensions
