"""The neighbour-list refresh: one call of recsys.refresh_neighbor_lists_since.

The loop that calls it on a period is app/jobs/neighbors.py.
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from app.db import queries
from app.db.pool import Connection


async def refresh(pool: AsyncConnectionPool[Connection], everything: bool = False) -> int | None:
    """Lists written, or None when another instance holds the lock."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(queries.get("refresh_neighbor_lists"), {"everything": everything})
        ).fetchone()
    return None if row is None else row["lists"]
