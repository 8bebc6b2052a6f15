"""Hybrid (recsys.hybrid): `adaptive` blends every strategy with weights fitted
per history length; `switching` uses the strongest one the history supports."""

from __future__ import annotations

from app.db.pool import Connection
from app.recommenders import _sql
from app.recommenders.base import NeedsUser, Query, Recommendation


async def recommend(conn: Connection, query: Query) -> list[Recommendation]:
    if query.user_id is None:
        raise NeedsUser("user_id")
    return await _sql.run(conn, "hybrid", query)
