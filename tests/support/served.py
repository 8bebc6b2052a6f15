"""Serve the real ASGI app (Quart + Socket.IO) inside the test's event loop, under the
server `recsys serve` runs by default (REC_SERVER picks another: app/servers/)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app import create_app, server
from app.servers import Options


@dataclass
class Served:
    url: str
    app: Any

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    @property
    def realtime(self) -> Any:
        return self.app.extensions["recsys.shops"].default.realtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(db_url: str, data_dir: Path, **overrides: Any) -> AsyncIterator[Served]:
    settings = {"database_url": db_url, "data_dir": data_dir, "neighbor_refresh": None}
    app = create_app({**settings, **overrides})
    port = free_port()
    options = Options("127.0.0.1", port, 1, app.extensions["recsys.settings"].ws_max_message)
    stop = asyncio.Event()
    name = app.extensions["recsys.settings"].server
    task = asyncio.create_task(server.serve(app, options, stop=stop.wait, server=name))
    url = f"http://127.0.0.1:{port}"
    await until_up(url)
    try:
        listener = app.extensions["recsys.shops"].default.realtime.listener
        await asyncio.wait_for(listener.connected.wait(), 10)
        yield Served(url, app)
    finally:
        stop.set()
        await task


def wait_until_up(url: str, seconds: float = 30.0) -> None:
    """Block until `url`/health answers 200; TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url}/health did not answer 200 within {seconds:.0f} s")


async def until_up(url: str, seconds: float = 30.0) -> None:
    """Wait until `url`/health answers 200; TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{url}/health did not answer 200 within {seconds:.0f} s")
