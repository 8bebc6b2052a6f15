"""Wires the listener to the broker and the broker to the recommenders."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from app import recommenders
from app.db.pool import Connection
from app.db.replicas import Reads
from app.realtime.activity import Activity
from app.realtime.broker import Broker, Message
from app.realtime.listener import Listener
from app.recommenders.base import Exposure, Query

PUSH_K = 10


class Realtime:
    def __init__(
        self,
        pool: AsyncConnectionPool[Connection],
        url: str,
        probe_every: float = 5.0,
        log_exposures: bool = True,
        reads: Reads | None = None,
    ) -> None:
        self._pool = pool
        # Pushes read from a replica once it has replayed the event (app/db/replicas.py).
        self._reads = reads or Reads(pool, [], 0)  # type: ignore[arg-type]
        # One ledger row per push, shared by the user's sockets.
        self._exposure = Exposure(surface="push", log=log_exposures)
        self.broker = Broker(self.recommendations)
        self.listener = Listener(url, self._on_notify, self.broker.notify_all, probe_every)
        self.activity = Activity(pool)
        self.lists_served = 0  # pushed lists (app/metrics/sampler.py counts them by case)

    async def start(self) -> None:
        self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()
        await self.broker.close()
        await self.activity.stop()

    async def recommendations(self, user_id: str) -> Message:
        """The message pushed to a user's sockets."""
        # The notification came after the event's commit: the primary's WAL
        # position now is at or past it.
        lsn = await self._reads.primary_lsn()
        query = Query(user_id=user_id, k=PUSH_K)
        served = await recommenders.serve_read(
            self._reads, recommenders.DEFAULT, query, self._exposure, lsn
        )
        self.lists_served += 1
        return {
            "user_id": user_id,
            "recomm_id": served.recomm_id,
            "recommendations": [r.__dict__ for r in served.recommendations],
        }

    def _on_notify(self, payload: dict[str, Any]) -> None:
        self.activity.wake()
        user_id = payload.get("user_id")
        if isinstance(user_id, str):
            self.broker.notify(user_id)
