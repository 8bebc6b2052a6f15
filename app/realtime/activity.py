"""Live event counts for the admin dashboard's sockets (/admin/stream).

While at least one admin socket listens, a loop asks the database for the
events stored since the last tick (one index range on events' primary key),
woken by the NOTIFY every event sends and at most once per TICK, and hands
each socket {at, events, by_type}. Nobody listening: no queries. Every instance
LISTENs, so each one's stream counts every instance's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.db import dashboard
from app.db.pool import Connection

log = logging.getLogger(__name__)

TICK = 1.0  # seconds: bursts of events become one message
IDLE = 5.0  # seconds: a tick without a notification (one may be lost)
QUEUE_SIZE = 16

Message = dict[str, Any]


class Activity:
    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self._pool = pool
        self._queues: set[asyncio.Queue[Message]] = set()
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> asyncio.Queue[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="recsys.activity")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message]) -> None:
        self._queues.discard(queue)

    def wake(self) -> None:
        """An event was stored somewhere (called for each notification)."""
        self._woken.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        async with self._pool.connection() as conn:
            after = await dashboard.last_event_id(conn)
        while self._queues:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), IDLE)
            self._woken.clear()
            try:
                after = await self._tick(after)
            except Exception:
                log.exception("the admin activity stream's query failed; retrying")
            await asyncio.sleep(TICK)

    async def _tick(self, after: int) -> int:
        async with self._pool.connection() as conn:
            rows = await dashboard.activity_since(conn, after)
        if not rows:
            return after
        message = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "events": sum(r["events"] for r in rows),
            "by_type": {r["event_type"]: r["events"] for r in rows},
        }
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # a slow dashboard keeps the newest counts
            queue.put_nowait(message)
        return max(int(r["last_id"]) for r in rows)
