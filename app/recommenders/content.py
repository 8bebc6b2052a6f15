"""Nearest items by content embedding (recsys.content_based): to a product, or
to the recency-weighted centroid of the user's latest items."""

from __future__ import annotations

from app.db.pool import Connection
from app.recommenders import _sql
from app.recommenders.base import NeedsUser, Query, Recommendation


async def recommend(conn: Connection, query: Query) -> list[Recommendation]:
    if query.user_id is None and query.product_id is None:
        raise NeedsUser("user_id")
    return await _sql.run(conn, "content_based", query)
