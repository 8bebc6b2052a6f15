"""Trained models applied live (recsys.collaborative): item neighbours over the
user's current history, matrix factors via pgvector, popular for new users."""

from __future__ import annotations

from app.db.pool import Connection
from app.recommenders import _sql
from app.recommenders.base import NeedsUser, Query, Recommendation


async def recommend(conn: Connection, query: Query) -> list[Recommendation]:
    if query.user_id is None:
        raise NeedsUser("user_id")
    return await _sql.run(conn, "collaborative", query)
