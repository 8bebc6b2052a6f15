"""Socket.IO clients written for the original Flask + Socket.IO service work unchanged."""

import asyncio

import httpx
import psycopg
import socketio

from tests.support.events import seed


async def test_seed_socketio_client_receives_pushes(served, db_url):
    seed(db_url)
    received: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("realtime_recommendation", received.put_nowait)
    client.on("registered", lambda data: received.put_nowait({"registered": data}))
    await client.connect(served.url, transports=["websocket"])
    try:
        await client.emit("register_user", {"user_id": "42"})
        assert await asyncio.wait_for(received.get(), 10) == {"registered": {"user_id": "42"}}
        initial = await asyncio.wait_for(received.get(), 10)
        assert initial["user_id"] == "42"
        async with httpx.AsyncClient(base_url=served.url) as http:
            await http.post(
                "/event", json={"user_id": "42", "product_id": "a", "event_type": "view"}
            )
        push = await asyncio.wait_for(received.get(), 10)
    finally:
        await client.disconnect()
    assert push["recommendations"][0]["product_id"] == "b"


async def test_socketio_bad_register_gets_an_error(served):
    errors: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("error", errors.put_nowait)
    await client.connect(served.url, transports=["websocket"])
    try:
        await client.emit("register_user", {"nobody": 1})
        error = await asyncio.wait_for(errors.get(), 10)
    finally:
        await client.disconnect()
    assert "user_id" in error["message"]


async def test_socketio_push_after_plain_sql_insert(served, db_url):
    seed(db_url)
    received: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("realtime_recommendation", received.put_nowait)
    await client.connect(served.url, transports=["websocket"])
    try:
        await client.emit("register_user", {"user_id": 7})
        await asyncio.wait_for(received.get(), 10)  # the initial list
        with psycopg.connect(db_url) as conn:
            conn.execute("insert into recsys.users (external_id) values ('7')")
            conn.execute(
                "insert into recsys.events (user_id, item_id, type_id) "
                "select u.id, i.id, 1 from recsys.users u, recsys.items i "
                "where u.external_id = '7' and i.external_id = 'b'"
            )
        push = await asyncio.wait_for(received.get(), 10)
    finally:
        await client.disconnect()
    assert push["user_id"] == "7"
    assert push["recommendations"][0]["product_id"] == "a"
