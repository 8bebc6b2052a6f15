"""Socket.IO for clients written for the original Flask + Socket.IO service:
emit('register_user', {user_id}), on('realtime_recommendation', ...). Served at
/socket.io/ by the same process.

With authentication on, the connection needs a key (the `auth` payload
`{"api_key": ...}`, an Authorization / X-API-Key header, or `?api_key=`), and a
read key's register_user needs the user's token, as on /ws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import socketio

from app.auth.keys import Scope, key_of, presented_key
from app.auth.tokens import tenant_secret
from app.config import Settings
from app.db.tenants import DEFAULT
from app.realtime.broker import Subscription
from app.realtime.protocol import Access, ProtocolError, access_for, registered_user
from app.realtime.service import Realtime
from app.shops import Shops, UnknownTenant

PATH = "/socket.io/"


class Bridge:
    def __init__(self, shops: Callable[[], Shops], settings: Settings, secret: bytes) -> None:
        self._shops = shops
        self._settings = settings
        self._secret = secret
        self.server = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins="*",
            max_http_buffer_size=settings.ws_max_message,
        )
        self._sessions: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self._access: dict[str, Access] = {}
        # Each connection's tenant's realtime (its key's tenant).
        self._realtimes: dict[str, Realtime] = {}
        self.server.on("connect", self.connect)
        self.server.on("register_user", self.register)
        self.server.on("disconnect", self.disconnect)

    def wrap(self, asgi_app: Any) -> Any:
        """`asgi_app` behind Socket.IO: what is not for /socket.io/ goes straight
        to it (socketio.ASGIApp would look at every request's path and its
        static files first), the rest, and the lifespan, through Socket.IO."""
        wrapped = socketio.ASGIApp(self.server, other_asgi_app=asgi_app, socketio_path="socket.io")

        async def bridged(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan" or is_socketio(scope["path"]):
                await wrapped(scope, receive, send)
            else:
                await asgi_app(scope, receive, send)

        return bridged

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        scope, tenant = self._caller(environ, auth)
        try:
            shop = await self._shops().get(tenant)
        except UnknownTenant:
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "unauthorized", "message": f"this key's tenant {tenant!r} does not exist"}
            ) from None
        self._realtimes[sid] = shop.realtime
        secret = tenant_secret(self._secret, tenant)
        self._access[sid] = access_for(self._settings.auth_enabled, scope, secret)

    def _caller(self, environ: dict[str, Any], auth: Any) -> tuple[Scope, str]:
        """The connection's scope and tenant; refuses the connection without a known key."""
        if not self._settings.auth_enabled:
            return Scope.ADMIN, DEFAULT
        key = presented(environ, auth)
        found = key_of(self._settings.api_keys, key) if key else None
        if found is None:
            message = "an API key is required" if key is None else "unknown API key"
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "unauthorized", "message": message}
            )
        return found.scope, found.tenant

    async def register(self, sid: str, data: Any) -> None:
        # A connection that skipped connect (none should) is held to the strictest rule.
        strict = access_for(self._settings.auth_enabled, Scope.READ, self._secret)
        try:
            user_id = registered_user(data, self._access.get(sid, strict))
        except ProtocolError as error:
            await self.server.emit("error", {"message": str(error)}, to=sid)
            return
        self.unsubscribe(sid)
        realtime = self._realtimes[sid]
        subscription = realtime.broker.subscribe(user_id)
        task = asyncio.create_task(self._forward(sid, subscription))
        self._sessions[sid] = (subscription, task)
        await self.server.emit("registered", {"user_id": user_id}, to=sid)
        # Through the broker, which retries while the database is down (the
        # socket stays open and gets its first list once it is back).
        realtime.broker.notify(user_id)

    def disconnect(self, sid: str, *args: Any) -> None:
        self._access.pop(sid, None)
        self.unsubscribe(sid)
        self._realtimes.pop(sid, None)

    def unsubscribe(self, sid: str) -> None:
        session = self._sessions.pop(sid, None)
        if session is not None:
            subscription, task = session
            task.cancel()
            self._realtimes[sid].broker.unsubscribe(subscription)

    async def _forward(self, sid: str, subscription: Subscription) -> None:
        while True:
            message = await subscription.get()
            await self.server.emit("realtime_recommendation", message, to=sid)


def is_socketio(path: str) -> bool:
    """Whether engineio's ASGIApp takes `path` (it adds a trailing slash, then
    compares the prefix /socket.io/)."""
    return path.startswith(PATH) or path == PATH[:-1]


def presented(environ: dict[str, Any], auth: Any) -> str | None:
    """The key from the Socket.IO auth payload, a header, or the query string."""
    if isinstance(auth, dict) and isinstance(auth.get("api_key"), str) and auth["api_key"]:
        return str(auth["api_key"])
    query = parse_qs(str(environ.get("QUERY_STRING", ""))).get("api_key")
    return presented_key(
        str(environ.get("HTTP_AUTHORIZATION", "")),
        str(environ.get("HTTP_X_API_KEY", "")),
        query[0] if query else None,
    )
