"""The background rounds of `recsys serve`, started and stopped in one place.

Each round is an asyncio task looping on its period (app/jobs/periodic.py): the
neighbour-list refresh (REC_NEIGHBOR_REFRESH), retention (REC_RETENTION_DAYS)
and scheduled training (REC_TRAIN_EVERY). Every instance runs the rounds its
settings enable; an advisory lock per round lets one instance do the work while
the others skip it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db.pool import Connection
from app.jobs import neighbors, retention

Round = Callable[[], Coroutine[Any, Any, None]]


def enabled(
    settings: Settings, pool: AsyncConnectionPool[Connection], url: str
) -> dict[str, Round]:
    """The rounds these settings turn on, by name, not yet started."""
    rounds: dict[str, Round] = {}
    if refresh := settings.neighbor_refresh:
        rounds["neighbor_refresh"] = lambda: neighbors.every(pool, refresh)
    if days := settings.retention_days:
        rounds["retention"] = lambda: retention.every(url, days)
    if period := settings.train_every:
        # Imported only when on: training loads scikit-learn and surprise.
        from app.jobs import training

        rounds["training"] = lambda: training.every(url, period)
    return rounds


@dataclass
class Jobs:
    """The running rounds, by name."""

    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def stop(self) -> None:
        """Cancel every round and return once each has ended."""
        for task in self.tasks.values():
            task.cancel()
        # return_exceptions: the rounds' CancelledErrors are results here, while a
        # cancellation of stop() itself still propagates.
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


def start(settings: Settings, pool: AsyncConnectionPool[Connection], url: str) -> Jobs:
    """Start every round the settings enable; `await jobs.stop()` ends them."""
    return Jobs(
        {
            name: asyncio.create_task(run(), name=f"recsys.{name}")
            for name, run in enabled(settings, pool, url).items()
        }
    )
