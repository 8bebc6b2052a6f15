"""Native WebSocket at /ws with the original Flask + Socket.IO service's event names.

Size, rate and shutdown close codes are applied to every socket by
app/realtime/guard.py; the handshake's key is checked by app/api/auth.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from quart import Blueprint, g, websocket

from app.api import auth, deps
from app.realtime.broker import Subscription
from app.realtime.protocol import Access, ProtocolError, registered_user

bp = Blueprint("ws", __name__)


async def send(event: str, data: dict[str, Any]) -> None:
    await websocket.send(json.dumps({"event": event, "data": data}))


async def forward(subscription: Subscription) -> None:
    while True:
        await send("realtime_recommendation", await subscription.get())


@bp.websocket("/ws")
async def ws() -> None:
    """Send {"event": "register_user", "data": {"user_id": "42"}} (plus "token"
    when authentication is on); receive "registered", then
    "realtime_recommendation" after each of that user's events."""
    realtime = deps.realtime()
    access = auth.socket_access(g.scope)
    subscription: Subscription | None = None
    forwarder: asyncio.Task[None] | None = None
    try:
        while True:
            raw = await websocket.receive()
            try:
                user_id = parse_register(raw, access)
            except ProtocolError as error:
                await send("error", {"message": str(error)})
                continue
            if subscription is not None:
                realtime.broker.unsubscribe(subscription)
                assert forwarder is not None
                forwarder.cancel()
            subscription = realtime.broker.subscribe(user_id)
            await send("registered", {"user_id": user_id})
            # Through the broker, which retries while the database is down (the
            # socket stays open and gets its first list once it is back).
            realtime.broker.notify(user_id)
            forwarder = asyncio.create_task(forward(subscription))
    finally:
        if forwarder is not None:
            forwarder.cancel()
        if subscription is not None:
            realtime.broker.unsubscribe(subscription)


def parse_register(raw: str | bytes, access: Access) -> str:
    try:
        message = json.loads(raw)
    except ValueError:
        raise ProtocolError("messages must be JSON") from None
    if not isinstance(message, dict) or message.get("event") != "register_user":
        raise ProtocolError('expected {"event": "register_user", "data": {"user_id": ...}}')
    return registered_user(message.get("data"), access)
