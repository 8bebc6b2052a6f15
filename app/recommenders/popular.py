"""Most popular items by time-decayed, event-weighted activity (recsys.popular)."""

from __future__ import annotations

from app.db.pool import Connection
from app.recommenders import _sql
from app.recommenders.base import Query, Recommendation


async def recommend(conn: Connection, query: Query) -> list[Recommendation]:
    return await _sql.run(conn, "popular", query)
