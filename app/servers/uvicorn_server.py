"""Uvicorn with httptools (HTTP) and the websockets library (WebSocket), on
uvloop when `recsys serve` runs it (app/server.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import httptools
import uvicorn
from quart import Quart
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.servers import MAX_HEAD_BYTES, Options, Trigger

HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)


class HeadTooLarge(Exception):
    """Raised from a parser callback: stops httptools mid-head."""


class BoundedHttpTools(HttpToolsProtocol):
    """httptools has no limit on the request head (hypercorn's h11 has one):
    answer 431 once the request line and headers pass MAX_HEAD_BYTES, or once
    a head still incomplete has taken that many bytes, before the app sees it."""

    _head = 0  # bytes of the request line and headers parsed so far
    _raw = 0  # bytes received since this request began
    _in_head = True
    _too_large = False

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, but for a head too large.
        if self._in_head:
            self._raw += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._too_large:
                self._refuse()
            else:
                self.send_400_response("Invalid HTTP request received.")
            return
        if self._in_head and self._raw > MAX_HEAD_BYTES:
            self._refuse()

    def _refuse(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(HEAD_TOO_LARGE)
            self.transport.close()

    def _count(self, size: int) -> None:
        self._head += size
        if self._head > MAX_HEAD_BYTES:
            self._too_large = True
            raise HeadTooLarge

    def on_message_begin(self) -> None:
        self._head, self._in_head = 0, True
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._raw = 0  # the next request on this connection starts here
        super().on_response_complete()


class Server(uvicorn.Server):
    """Stops when told (not on its own signal handlers), and lets the app's
    sockets finish their 1001 close before uvicorn closes the rest with 1012."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # app/server.py decides when to stop: its trigger sets should_exit

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # stop accepting now; uvicorn's close below is a no-op then
        deadline = time.monotonic() + min(self.config.timeout_graceful_shutdown or 5, 5)
        # The sockets close themselves (the guard), each in its own task: poll.
        while self._websockets() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await super().shutdown(sockets)

    def _websockets(self) -> bool:
        return any(isinstance(c, WebSocketsSansIOProtocol) for c in self.server_state.connections)


def config(app: Any, options: Options) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        loop="none",  # the caller's loop (uvloop under `recsys serve`)
        http=BoundedHttpTools,
        ws=WebSocketsSansIOProtocol,
        ws_max_size=options.ws_max_message,
        # No permessage-deflate (uvicorn accepts it by default, and browsers,
        # aiohttp and websockets offer it): every push was compressed once per
        # socket, the largest cost of sending one (9% of the server's CPU in a
        # 5 000-socket push run), and each socket kept its own zlib state (~40 KiB).
        ws_per_message_deflate=False,
        # As under hypercorn: no server pings. uvicorn's default (every 20 s, a
        # close if the pong is 20 s late) closed sockets of a client too busy
        # to answer, e.g. the push benchmark opening 5 000 of them.
        ws_ping_interval=None,
        lifespan="on",
        timeout_graceful_shutdown=int(max(1, round(options.graceful_timeout))),
        log_config=None,
        access_log=False,  # app/logs.py writes one line per request
        server_header=False,
    )


async def serve(
    app: Quart, options: Options, shutdown: Trigger, sock: socket.socket | None = None
) -> None:
    server = Server(config(app, options))

    async def watch() -> None:
        await shutdown()
        server.should_exit = True

    watcher = asyncio.create_task(watch())
    try:
        await server.serve(sockets=[sock] if sock is not None else None)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
