"""Socket.IO for clients written for the seed: emit('register_user', {user_id}),
on('realtime_recommendation', ...). Served at /socket.io/ by the same process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import socketio

from app.realtime.broker import Subscription
from app.realtime.protocol import ProtocolError, user_id_of
from app.realtime.service import Realtime


class Bridge:
    def __init__(self, realtime: Callable[[], Realtime]) -> None:
        self._realtime = realtime
        self.server = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
        self._sessions: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self.server.on("register_user", self.register)
        self.server.on("disconnect", self.disconnect)

    def wrap(self, asgi_app: Any) -> socketio.ASGIApp:
        return socketio.ASGIApp(self.server, other_asgi_app=asgi_app, socketio_path="socket.io")

    async def register(self, sid: str, data: Any) -> None:
        try:
            user_id = user_id_of(data)
        except ProtocolError as error:
            await self.server.emit("error", {"message": str(error)}, to=sid)
            return
        self.disconnect(sid)
        realtime = self._realtime()
        subscription = realtime.broker.subscribe(user_id)
        task = asyncio.create_task(self._forward(sid, subscription))
        self._sessions[sid] = (subscription, task)
        await self.server.emit("registered", {"user_id": user_id}, to=sid)
        subscription.put(await realtime.recommendations(user_id))

    def disconnect(self, sid: str, *args: Any) -> None:
        session = self._sessions.pop(sid, None)
        if session is not None:
            subscription, task = session
            task.cancel()
            self._realtime().broker.unsubscribe(subscription)

    async def _forward(self, sid: str, subscription: Subscription) -> None:
        while True:
            message = await subscription.get()
            await self.server.emit("realtime_recommendation", message, to=sid)
