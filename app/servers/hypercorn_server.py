"""Hypercorn (h11 + wsproto on asyncio): the server recsys ran under first."""

from __future__ import annotations

import logging
import socket

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app
from quart import Quart

from app.servers import MAX_HEAD_BYTES, Options, Trigger


def config(options: Options) -> Config:
    config = Config()
    config.bind = [f"{options.host}:{options.port}"]
    config.graceful_timeout = options.graceful_timeout
    config.h11_max_incomplete_size = MAX_HEAD_BYTES
    # Frames beyond the limit are refused by the protocol layer (close 1009)
    # before they are buffered; app/realtime/guard.py checks whole messages.
    config.websocket_max_message_size = options.ws_max_message
    # Hypercorn logs through its own handler; without this, the root handler
    # that `recsys` installs prints every line twice. It creates its loggers
    # on first use of config.log, resetting propagate: create them first.
    assert config.log is not None
    logging.getLogger("hypercorn.error").propagate = False
    return config


async def serve(
    app: Quart, options: Options, shutdown: Trigger, sock: socket.socket | None = None
) -> None:
    sockets = Sockets([], [sock], []) if sock is not None else None
    cfg = config(options)
    await worker_serve(
        wrap_app(app, cfg.wsgi_max_body_size, "asgi"),
        cfg,
        sockets=sockets,
        shutdown_trigger=shutdown,
    )
