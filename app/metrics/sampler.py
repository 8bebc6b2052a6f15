"""Copies what the pool, the sockets and the realtime service count into the
process's metrics: every SAMPLE_SECONDS, and just before this process answers a
scrape. The realtime code keeps plain integers (it knows nothing of
Prometheus); counters here advance by what those integers grew since the last
sample.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from app import recommenders
from app.db.pool import Connection
from app.metrics.instruments import Metrics
from app.realtime.guard import Guard
from app.realtime.service import Realtime

# Other workers' gauges and push counters lag a scrape by at most this.
SAMPLE_SECONDS = 2.0


@dataclass
class Seen:
    pushes: int = 0
    dropped: int = 0
    reconnects: int = 0
    lists: int = 0


class Sampler:
    def __init__(
        self,
        metrics: Metrics,
        pool: AsyncConnectionPool[Connection],
        realtime: Realtime,
        guard: Guard,
    ) -> None:
        self._metrics = metrics
        self._pool = pool
        self._realtime = realtime
        self._guard = guard
        self._seen = Seen()
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        m, stats = self._metrics, self._pool.get_stats()
        m.pool_size.set(stats.get("pool_size", 0))
        m.pool_in_use.set(stats.get("pool_size", 0) - stats.get("pool_available", 0))
        m.pool_waiting.set(stats.get("requests_waiting", 0))
        m.sockets.set(self._guard.open)
        pushes = self._realtime.broker.stats
        reconnects = max(self._realtime.listener.connections - 1, 0)
        self._advance(m.pushes.inc, pushes.sent, "pushes")
        self._advance(m.dropped.inc, pushes.dropped, "dropped")
        self._advance(m.reconnects.inc, reconnects, "reconnects")
        self._advance(
            m.lists.labels(recommenders.DEFAULT, "push").inc, self._realtime.lists_served, "lists"
        )

    def _advance(self, inc: Callable[[float], None], now: int, name: str) -> None:
        grown = now - getattr(self._seen, name)
        if grown > 0:
            inc(grown)
            setattr(self._seen, name, now)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recsys.metrics_sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()  # the last counts reach the files before the process goes

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECONDS)
