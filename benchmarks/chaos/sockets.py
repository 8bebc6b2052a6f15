"""Socket subscribers that reconnect, /ws and raw Socket.IO (Engine.IO v4), as
the demo page and the original service's clients do."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import websockets

OPEN_TIMEOUT = 10.0


@dataclass
class Subscriber:
    user_id: str
    protocol: str  # ws | socketio
    registered: asyncio.Event = field(default_factory=asyncio.Event)
    pushes: list[float] = field(default_factory=list)  # time.monotonic() of each
    connections: int = 0
    opened: list[float] = field(default_factory=list)  # time.monotonic() of each connection
    drops: Counter[str] = field(default_factory=Counter)  # why a connection ended

    def on_event(self, name: str) -> None:
        if name == "registered":
            self.registered.set()
        elif name == "realtime_recommendation":
            self.pushes.append(time.monotonic())


async def subscribe(sub: Subscriber, url: str) -> None:
    """Stay subscribed until cancelled, reconnecting with a short backoff."""
    backoff = 0.1
    session = _ws if sub.protocol == "ws" else _socketio
    while True:
        try:
            await session(sub, url)
            sub.drops["closed"] += 1
        except (websockets.WebSocketException, OSError, TimeoutError) as error:
            sub.drops[type(error).__name__] += 1
            backoff = min(backoff * 2, 2.0)
        else:
            backoff = 0.1
        sub.registered.clear()
        await asyncio.sleep(backoff)


async def _ws(sub: Subscriber, url: str) -> None:
    async with websockets.connect(_ws_base(url) + "/ws", open_timeout=OPEN_TIMEOUT) as ws:
        sub.connections += 1
        sub.opened.append(time.monotonic())
        await ws.send(json.dumps({"event": "register_user", "data": {"user_id": sub.user_id}}))
        async for raw in ws:
            sub.on_event(json.loads(raw)["event"])


async def _socketio(sub: Subscriber, url: str) -> None:
    address = _ws_base(url) + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(address, open_timeout=OPEN_TIMEOUT) as ws:
        opened = await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)
        assert isinstance(opened, str) and opened.startswith("0"), opened
        await ws.send("40")
        connected = await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)
        assert isinstance(connected, str) and connected.startswith("40"), connected
        sub.connections += 1
        sub.opened.append(time.monotonic())
        await ws.send(_emit("register_user", {"user_id": sub.user_id}))
        async for raw in ws:
            if raw == "2":  # Engine.IO ping
                await ws.send("3")
            elif isinstance(raw, str) and raw.startswith("42"):
                sub.on_event(json.loads(raw[2:])[0])
            elif raw == "41":  # the server disconnected the namespace
                return


def _ws_base(url: str) -> str:
    return url.replace("http://", "ws://")


def _emit(event: str, data: Any) -> str:
    return "42" + json.dumps([event, data])


async def pushed_after(sub: Subscriber, since: float, seconds: float) -> bool:
    """True once `sub` received a push after `since` (monotonic)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sub.pushes and sub.pushes[-1] > since:
            return True
        await asyncio.sleep(0.05)
    return False
