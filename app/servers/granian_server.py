"""Granian (a Rust HTTP/WebSocket server with its own process manager)."""

from __future__ import annotations

import os
from typing import Any

from app.metrics.instruments import MULTIPROC_ENV
from app.servers import Options

Scope = dict[str, Any]


def run(options: Options, workers: int) -> None:
    """Serve `application` in `workers` processes until SIGTERM/SIGINT.

    Granian owns the signals: on one it stops accepting, waits up to the
    graceful timeout for its workers, and each runs the app's shutdown (which
    closes the sockets with 1001, app/__init__.py)."""
    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        f"{__name__}:application",
        address=options.host,
        port=options.port,
        interface=Interfaces.ASGI,
        workers=max(1, workers),
        factory=True,
        websockets=True,
        workers_kill_timeout=int(max(1, round(options.graceful_timeout))),
        log_access=False,  # app/logs.py writes one line per request
    ).serve()


def application() -> Any:
    """Each worker's app, from the environment app/server.py prepared."""
    from app import create_app

    app = create_app()

    async def asgi(scope: Scope, receive: Any, send: Any) -> None:
        await app(scope, receive, send)  # type: ignore[arg-type]
        if scope["type"] == "lifespan" and os.environ.get(MULTIPROC_ENV):
            # Its live gauges leave the sums; its counters stay in the totals.
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    return asgi
