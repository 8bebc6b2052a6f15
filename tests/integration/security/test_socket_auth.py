"""With keys configured, sockets need a key at the handshake, and a read key
needs a server-signed token for each user it registers (/ws and Socket.IO)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import socketio
import websockets

from app.auth import tokens
from tests.support.auth import ADMIN_KEY, READ_KEY, SECRET, SECURE, WRITE_KEY, bearer
from tests.support.events import seed
from tests.support.served import served as serve_app
from tests.support.sockets import next_event, register

TIMEOUT = 10


@pytest.fixture
async def served(db_url, tmp_path):
    async with serve_app(db_url, tmp_path, listen_probe_seconds=0.5, **SECURE) as s:
        yield s


async def token_for(served, user_id: str, key: str = WRITE_KEY) -> dict:
    async with httpx.AsyncClient(base_url=served.url) as http:
        response = await http.post(f"/users/{user_id}/token", headers=bearer(key))
    assert response.status_code == 201, response.text
    return response.json()


def register_message(user_id: str, token: str | None = None) -> str:
    data = {"user_id": user_id} | ({"token": token} if token else {})
    return json.dumps({"event": "register_user", "data": data})


async def test_ws_handshake_needs_a_key(served):
    with pytest.raises(websockets.InvalidStatus) as rejected:
        async with websockets.connect(served.ws_url):
            pass
    assert rejected.value.response.status_code == 401
    assert b"unauthorized" in rejected.value.response.body


async def test_read_key_needs_the_users_token(served, db_url):
    seed(db_url)
    issued = await token_for(served, "42")
    assert issued["user_id"] == "42" and issued["expires_at"]
    async with websockets.connect(f"{served.ws_url}?api_key={READ_KEY}") as ws:
        await ws.send(register_message("42"))
        assert "token" in (await next_event(ws, "error"))["data"]["message"]
        await ws.send(register_message("43", issued["token"]))
        assert "another user" in (await next_event(ws, "error"))["data"]["message"]
        await ws.send(register_message("42", issued["token"]))
        assert (await next_event(ws, "registered"))["data"] == {"user_id": "42"}
        await next_event(ws, "realtime_recommendation")
        async with httpx.AsyncClient(base_url=served.url) as http:
            event = {"user_id": "42", "product_id": "a", "event_type": "view"}
            await http.post("/event", json=event, headers=bearer(WRITE_KEY))
        push = await next_event(ws, "realtime_recommendation")
    assert push["data"]["user_id"] == "42"


async def test_expired_and_forged_tokens_are_refused(served):
    expired = tokens.issue(SECRET, "42", expires_at=1)
    forged = tokens.issue(b"f" * 32, "42", expires_at=2**40)
    async with websockets.connect(f"{served.ws_url}?api_key={READ_KEY}") as ws:
        for token, reason in [(expired, "expired"), (forged, "signature")]:
            await ws.send(register_message("42", token))
            assert reason in (await next_event(ws, "error"))["data"]["message"]


async def test_a_write_key_socket_needs_no_token(served):
    async with websockets.connect(served.ws_url, additional_headers=bearer(WRITE_KEY)) as ws:
        registered, _ = await register(ws, "anyone")
    assert registered["data"]["user_id"] == "anyone"


async def test_tokens_need_a_write_key(served):
    async with httpx.AsyncClient(base_url=served.url) as http:
        assert (await http.post("/users/42/token")).status_code == 401
        read = await http.post("/users/42/token", headers=bearer(READ_KEY))
        assert read.status_code == 403
        admin = await http.post("/users/42/token", headers=bearer(ADMIN_KEY))
        assert admin.status_code == 201


async def socketio_client(served, auth: dict | None) -> tuple[socketio.AsyncClient, asyncio.Queue]:
    received: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient()
    for name in ("registered", "error", "realtime_recommendation"):
        client.on(name, lambda data, name=name: received.put_nowait((name, data)))
    await client.connect(served.url, transports=["websocket"], auth=auth)
    return client, received


async def next_named(queue: asyncio.Queue, name: str) -> dict:
    while True:
        got, data = await asyncio.wait_for(queue.get(), TIMEOUT)
        if got == name:
            return data


async def test_socketio_connect_needs_a_key(served):
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socketio_client(served, None)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socketio_client(served, {"api_key": "wrong-key-0123456789"})


async def test_socketio_read_key_needs_the_users_token(served, db_url):
    seed(db_url)
    issued = await token_for(served, "7")
    client, received = await socketio_client(served, {"api_key": READ_KEY})
    try:
        await client.emit("register_user", {"user_id": "7"})
        assert "token" in (await next_named(received, "error"))["message"]
        await client.emit("register_user", {"user_id": "8", "token": issued["token"]})
        assert "another user" in (await next_named(received, "error"))["message"]
        await client.emit("register_user", {"user_id": "7", "token": issued["token"]})
        assert await next_named(received, "registered") == {"user_id": "7"}
        assert (await next_named(received, "realtime_recommendation"))["user_id"] == "7"
    finally:
        await client.disconnect()


async def test_socketio_write_key_needs_no_token(served):
    client, received = await socketio_client(served, {"api_key": WRITE_KEY})
    try:
        await client.emit("register_user", {"user_id": "9"})
        assert await next_named(received, "registered") == {"user_id": "9"}
    finally:
        await client.disconnect()
