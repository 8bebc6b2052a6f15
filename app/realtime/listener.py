"""One LISTEN connection per process: dedicated, autocommit, self-healing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg

from app.db import queries

log = logging.getLogger(__name__)

CHANNEL = "recsys_events"
# How operators (and the chaos soak) find the listener in pg_stat_activity.
APPLICATION_NAME = "recsys-listener"


class Listener:
    """Calls on_notify(payload) for each notification. Probes the connection when
    idle, reconnects with backoff, and calls on_reconnect() after a reconnect,
    because notifications sent while it was away are lost."""

    def __init__(
        self,
        url: str,
        on_notify: Callable[[dict[str, Any]], None],
        on_reconnect: Callable[[], None],
        probe_every: float = 5.0,
    ) -> None:
        self._url = url
        self._on_notify = on_notify
        self._on_reconnect = on_reconnect
        self._probe_every = probe_every
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connections = 0
        self.backend_pid: int | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._listen()
            except (psycopg.OperationalError, psycopg.InterfaceError) as error:
                log.warning("listener lost its connection (%s); retrying", error)
            if self.connected.is_set():
                backoff = 0.1  # it was healthy: retry fast, then back off
            self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, application_name=APPLICATION_NAME
        ) as conn:
            await conn.execute(queries.get("listen"))
            self.backend_pid = conn.info.backend_pid
            self.connections += 1
            if self.connections > 1:
                self._on_reconnect()
            self.connected.set()
            while True:
                async for notify in conn.notifies(timeout=self._probe_every):
                    self._dispatch(notify.payload)
                await conn.execute(queries.get("health"))  # liveness probe

    def _dispatch(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("ignoring a notification that is not JSON: %.100s", payload)
            return
        if isinstance(message, dict):
            self._on_notify(message)
