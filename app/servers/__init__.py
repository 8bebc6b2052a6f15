"""The ASGI servers `recsys serve` can run this app under, behind one interface.

Each module here has `serve(app, options, shutdown, sock)`: serve `app` on
`sock` (or bind `options.host:options.port`) until the coroutine `shutdown`
returns, then stop accepting, let in-flight requests finish for up to
`options.graceful_timeout` seconds and run the app's shutdown (after_serving).
`shutdown` has already closed the app's sockets with 1001 (app/server.py).
docs/performance.md measures what each one costs per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.config import SERVERS, Settings

# Fastest first: `recsys serve` runs the first unless told otherwise (REC_SERVER, --server).
NAMES = SERVERS
DEFAULT = NAMES[0]
# The request line and headers: larger heads get 431 before the app runs.
MAX_HEAD_BYTES = 16 * 1024

Trigger = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    graceful_timeout: float
    ws_max_message: int

    @classmethod
    def of(cls, host: str, port: int, settings: Settings) -> Options:
        return cls(host, port, settings.graceful_timeout, settings.ws_max_message)
