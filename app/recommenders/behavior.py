"""Item-to-item from live co-occurrence counts (recsys.behavior_based)."""

from __future__ import annotations

from app.db.pool import Connection
from app.recommenders import _sql
from app.recommenders.base import NeedsUser, Query, Recommendation


async def recommend(conn: Connection, query: Query) -> list[Recommendation]:
    if query.user_id is None:
        raise NeedsUser("user_id")
    return await _sql.run(conn, "behavior_based", query)


async def similar_items(conn: Connection, query: Query) -> list[Recommendation]:
    if query.product_id is None:
        raise NeedsUser("product_id")
    return await _sql.run(conn, "similar_items", query)
