"""REC_* tunables that the SQL reads, copied into recsys.settings.

The trigger and the SQL recommenders read recsys.settings, not the environment,
so the service and every command that writes events apply them on start,
whether or not they migrate.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from app.config import Settings
from app.db import queries


async def apply(conn: AsyncConnection[Any], settings: Settings) -> None:
    """Write the tunables set in `settings` (unset ones keep the stored value)."""
    params = {
        "pair_window": settings.pair_window,
        "page_ttl_minutes": settings.page_ttl_minutes,
        "attribution_hours": settings.attribution_hours,
    }
    if all(value is None for value in params.values()):
        return
    await conn.execute(queries.get("apply_tunables"), params)
