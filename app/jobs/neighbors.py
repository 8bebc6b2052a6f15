"""Keeping recsys.neighbor_lists fresh: the read cache behavior_based uses.

Each round refreshes the lists of the items that received events since the
last round; every `full_every` rounds, every list (their neighbours' scores
drift too). Several instances may run this: a transaction-level advisory lock
(in the refresh query) lets one refresh and the others skip.
"""

from __future__ import annotations

import itertools
import logging

from psycopg_pool import AsyncConnectionPool

from app.db import neighbors
from app.db.pool import Connection
from app.jobs import periodic

log = logging.getLogger(__name__)

# With the default 10 s period, a full rebuild about every hour.
FULL_EVERY = 360


async def every(
    pool: AsyncConnectionPool[Connection], seconds: float, full_every: int = FULL_EVERY
) -> None:
    """Refresh after each `seconds`; a failed round is logged and the next one tried."""
    rounds = itertools.count(1)

    async def refresh_round() -> None:
        written = await neighbors.refresh(pool, everything=next(rounds) % full_every == 0)
        if written:
            log.info("refreshed %d neighbour lists", written)

    await periodic.every(
        seconds, refresh_round, "neighbour-list refresh failed; behavior_based serves the old lists"
    )
