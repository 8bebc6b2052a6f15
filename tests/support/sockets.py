"""Socket clients for tests: the /ws protocol and a raw Socket.IO connection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

TIMEOUT = 10


async def next_event(ws: Any, name: str) -> Any:
    """The next /ws message whose event is `name`, skipping others."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if message["event"] == name:
            return message


async def register(ws: Any, user_id: Any) -> tuple[Any, Any]:
    """register_user, then the `registered` answer and the first push."""
    await ws.send(json.dumps({"event": "register_user", "data": {"user_id": user_id}}))
    registered = await next_event(ws, "registered")
    initial = await next_event(ws, "realtime_recommendation")
    return registered, initial


async def close_code(ws: Any) -> int:
    """Read until the server closes; its close code."""
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert ws.close_code is not None
    return int(ws.close_code)


async def socketio_ws(served: Any) -> Any:
    """A raw Engine.IO v4 websocket, connected to the default namespace."""
    ws = await websockets.connect(
        served.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    )
    assert (await asyncio.wait_for(ws.recv(), TIMEOUT)).startswith("0")  # open
    await ws.send("40")
    assert (await asyncio.wait_for(ws.recv(), TIMEOUT)).startswith("40")  # connected
    return ws


def emit(event: str, data: Any) -> str:
    """A Socket.IO event frame."""
    return "42" + json.dumps([event, data])
