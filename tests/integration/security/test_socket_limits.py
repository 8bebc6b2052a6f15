"""Socket limits, applied to /ws and Socket.IO alike: an oversized message
closes with 1009, more messages than the rate allows close with 1008."""

from __future__ import annotations

import json

import pytest
import websockets

from tests.support.served import served as serve_app
from tests.support.sockets import close_code, emit, next_event, register, socketio_ws

# No refill to speak of during a test: exactly BURST messages pass.
BURST = 5
LIMITS = {"ws_max_message": 1000, "ws_burst": BURST, "ws_rate": 0.001}


@pytest.fixture
async def served(db_url, tmp_path):
    async with serve_app(db_url, tmp_path, **LIMITS) as s:
        yield s


async def test_ws_message_too_big_closes_1009(served):
    async with websockets.connect(served.ws_url) as ws:
        await register(ws, "u1")  # a message within the limit is fine
        await ws.send(json.dumps({"event": "register_user", "data": {"user_id": "x" * 2000}}))
        assert await close_code(ws) == 1009
    assert "1000 bytes" in ws.close_reason


async def test_ws_flood_closes_1008(served):
    async with websockets.connect(served.ws_url) as ws:
        for _ in range(BURST):
            await ws.send("not json")
            await next_event(ws, "error")  # each of the burst is answered
        await ws.send("not json")
        assert await close_code(ws) == 1008
    assert "too many messages" in ws.close_reason


async def test_socketio_message_too_big_closes_1009(served):
    ws = await socketio_ws(served)
    await ws.send(emit("register_user", {"user_id": "x" * 2000}))
    assert await close_code(ws) == 1009


async def test_socketio_flood_closes_1008(served):
    ws = await socketio_ws(served)
    for _ in range(BURST):
        await ws.send(emit("register_user", {"nobody": 1}))
    assert await close_code(ws) == 1008
