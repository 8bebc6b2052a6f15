"""Keeping recsys.neighbor_lists fresh: the read cache behavior_based uses.

Each round refreshes the lists of the items that received events since the
last round; every `full_every` rounds, every list (their neighbours' scores
drift too). Several instances may run this: a transaction-level advisory lock
lets one refresh and the others skip.
"""

from __future__ import annotations

import itertools
import logging

from psycopg_pool import AsyncConnectionPool

from app import periodic
from app.db import queries
from app.db.pool import Connection

log = logging.getLogger(__name__)


async def refresh(pool: AsyncConnectionPool[Connection], everything: bool = False) -> int | None:
    """Lists written, or None when another instance holds the lock."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(queries.get("refresh_neighbor_lists"), {"everything": everything})
        ).fetchone()
    return None if row is None else row["lists"]


async def every(
    pool: AsyncConnectionPool[Connection], seconds: float, full_every: int = 360
) -> None:
    """Refresh after each `seconds`; a failed round is logged and the next one tried."""
    rounds = itertools.count(1)

    async def refresh_round() -> None:
        written = await refresh(pool, everything=next(rounds) % full_every == 0)
        if written:
            log.info("refreshed %d neighbour lists", written)

    await periodic.every(
        seconds, refresh_round, "neighbour-list refresh failed; behavior_based serves the old lists"
    )
