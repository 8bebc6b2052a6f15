"""Polices every WebSocket, native /ws and Socket.IO alike, at the ASGI layer:
oversized messages close with 1009, floods with 1008, and a server that shuts
down closes every socket with 1001 (going away) so clients reconnect elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from app.realtime.limits import TokenBucket

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GOING_AWAY = 1001
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009


class Guard:
    def __init__(self, app: ASGIApp, max_message: int, rate: float, burst: int) -> None:
        self._app = app
        self.max_message = max_message
        self.rate = rate
        self.burst = burst
        self.going_away = asyncio.Event()
        self.open = 0  # sockets in this process now (app/metrics/sampler.py reads it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self._app(scope, receive, send)
            return
        connection = Connection(self, receive, send)
        self.open += 1
        try:
            await self._app(scope, connection.receive, connection.send)
        finally:
            self.open -= 1

    def close_all(self) -> None:
        """Close every open socket, and any opened from now on, with 1001."""
        self.going_away.set()


def size_of(message: Message) -> int:
    text = message.get("text")
    data = message.get("bytes")
    return (len(text.encode()) if text else 0) + (len(data) if data else 0)


class Connection:
    """One socket: checks what arrives, and closes it with a code when it must."""

    def __init__(self, guard: Guard, receive: Receive, send: Send) -> None:
        self._guard = guard
        self._receive = receive
        self._send = send
        self._bucket = TokenBucket(guard.rate, guard.burst)
        self.closed: int | None = None

    async def receive(self) -> Message:
        if self.closed is not None:
            return {"type": "websocket.disconnect", "code": self.closed}
        message = await self._next()
        if message is None:
            return await self.close(GOING_AWAY, "the server is shutting down")
        if message["type"] == "websocket.receive":
            limit = self._guard.max_message
            if size_of(message) > limit:
                return await self.close(MESSAGE_TOO_BIG, f"messages are limited to {limit} bytes")
            if not self._bucket.take():
                rate = f"{self._guard.rate:g}/s, bursts of {self._guard.burst}"
                return await self.close(POLICY_VIOLATION, f"too many messages (limit {rate})")
        return message

    async def send(self, message: Message) -> None:
        if self.closed is not None:
            return  # the guard closed the socket; the app's late writes go nowhere
        if message["type"] == "websocket.close":
            self.closed = int(message.get("code", 1000))
        await self._send(message)

    async def close(self, code: int, reason: str) -> Message:
        """Send the close frame; tell the app the peer is gone."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason})
        return {"type": "websocket.disconnect", "code": code}

    async def _next(self) -> Message | None:
        """The next ASGI message, or None once the server is going away."""
        if self._guard.going_away.is_set():
            return None
        receiving = asyncio.ensure_future(self._receive())
        away = asyncio.ensure_future(self._guard.going_away.wait())
        try:
            await asyncio.wait({receiving, away}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            away.cancel()
            if not receiving.done():
                receiving.cancel()
        if receiving.done() and not receiving.cancelled():
            return receiving.result()
        with contextlib.suppress(asyncio.CancelledError):
            await receiving
        return None
