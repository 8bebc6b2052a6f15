"""/admin/stream: a WebSocket of live event counts for the dashboard's chart."""

from __future__ import annotations

import asyncio
import json

from quart import Blueprint, websocket

from app.api import deps

bp = Blueprint("admin_stream", __name__)


@bp.websocket("/admin/stream")
async def stream() -> None:
    """Receive {"event": "activity", "data": {at, events, by_type}} about once a
    second while events arrive (admin key when authentication is on; browsers
    send it as ?api_key=). Messages sent to the server are ignored."""
    activity = deps.realtime().activity
    queue = activity.subscribe()

    async def forward() -> None:
        while True:
            data = await queue.get()
            await websocket.send(json.dumps({"event": "activity", "data": data}))

    sender = asyncio.create_task(forward())
    try:
        await websocket.send(json.dumps({"event": "subscribed", "data": {}}))
        while True:
            # Receiving is what notices a closed socket and a shutdown (app/realtime/guard.py).
            await websocket.receive()
    finally:
        sender.cancel()
        activity.unsubscribe(queue)
