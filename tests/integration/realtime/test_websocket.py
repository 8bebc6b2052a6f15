"""Native WebSocket /ws against a served app: pushes after HTTP and SQL writes."""

import asyncio
import json

import httpx
import psycopg
import pytest
import websockets

from tests.support.events import seed
from tests.support.sockets import next_event, register


async def test_register_then_push_after_http_event(served, db_url):
    seed(db_url)
    async with websockets.connect(served.ws_url) as ws:
        registered, initial = await register(ws, 42)
        assert registered["data"] == {"user_id": "42"}
        assert initial["data"]["user_id"] == "42"
        async with httpx.AsyncClient(base_url=served.url) as http:
            response = await http.post(
                "/event", json={"user_id": "42", "product_id": "a", "event_type": "purchase"}
            )
        assert response.status_code == 201
        push = await next_event(ws, "realtime_recommendation")
    ids = [r["product_id"] for r in push["data"]["recommendations"]]
    assert "a" not in ids and ids[0] == "b"
    assert push["data"]["recommendations"][0]["reason"].startswith("often together with")


async def test_push_after_plain_sql_insert(served, db_url):
    seed(db_url)
    async with websockets.connect(served.ws_url) as ws:
        await register(ws, "u1")
        with psycopg.connect(db_url) as conn:
            conn.execute("select recsys.ingest_events(array['u1'], array['b'], array['view'])")
        push = await next_event(ws, "realtime_recommendation")
    assert push["data"]["recommendations"][0]["product_id"] == "a"


async def test_only_the_users_own_sockets_receive(served, db_url):
    seed(db_url)
    async with (
        websockets.connect(served.ws_url) as mine,
        websockets.connect(served.ws_url) as other,
    ):
        await register(mine, "me")
        await register(other, "someone-else")
        with psycopg.connect(db_url) as conn:
            conn.execute("select recsys.ingest_events(array['me'], array['a'], array['view'])")
        await next_event(mine, "realtime_recommendation")
        try:
            message = await asyncio.wait_for(other.recv(), 1.0)
        except TimeoutError:
            message = None
    assert message is None


async def test_malformed_messages_get_errors_and_the_socket_stays_usable(served):
    async with websockets.connect(served.ws_url) as ws:
        for bad in [
            "not json",
            json.dumps([1]),
            json.dumps({"event": "hello"}),
            json.dumps({"event": "register_user", "data": {"user_id": ""}}),
            json.dumps({"event": "register_user", "data": {"user_id": True}}),
        ]:  # an oversized message closes the socket (1009): security/test_socket_limits.py
            await ws.send(bad)
            error = await next_event(ws, "error")
            assert error["data"]["message"]
        registered, _ = await register(ws, "u9")
    assert registered["data"]["user_id"] == "u9"


async def test_listener_recovers_after_its_backend_is_terminated(served, db_url):
    seed(db_url)
    listener = served.realtime.listener
    async with websockets.connect(served.ws_url) as ws:
        await register(ws, "u1")
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("select pg_terminate_backend(%s)", (listener.backend_pid,))
        for _ in range(200):
            if listener.connections >= 2 and listener.connected.is_set():
                break
            await asyncio.sleep(0.05)
        assert listener.connections >= 2
        # After a reconnect every watched user is refreshed (notifications may be lost).
        await next_event(ws, "realtime_recommendation")
        with psycopg.connect(db_url) as conn:
            conn.execute("select recsys.ingest_events(array['u1'], array['a'], array['view'])")
        push = await next_event(ws, "realtime_recommendation")
    assert push["data"]["recommendations"][0]["product_id"] == "b"


async def test_the_listener_is_named_in_pg_stat_activity(served, db_url):
    # Operators (and the chaos soak) find it by name to terminate or watch it.
    listener = served.realtime.listener
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select application_name from pg_stat_activity where pid = %s",
            (listener.backend_pid,),
        ).fetchone()
    assert row == ("recsys-listener",)


async def test_pushes_are_not_compressed_under_uvicorn(served, db_url):
    # Found profiling the 5 000-socket push benchmark (issue 17): uvicorn
    # negotiated permessage-deflate with every client that offered it (this
    # one does), and compressed each push once per socket.
    if served.app.extensions["recsys.settings"].server != "uvicorn":
        pytest.skip("hypercorn's wsproto always accepts permessage-deflate")
    seed(db_url)
    async with websockets.connect(served.ws_url, compression="deflate") as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        _, initial = await register(ws, 42)
    assert initial["data"]["recommendations"]
