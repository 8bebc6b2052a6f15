"""Run one of the recsys.* recommendation functions."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from app.db import queries
from app.db.pool import Connection
from app.recommenders.base import Query, Recommendation


async def run(conn: Connection, name: str, query: Query) -> list[Recommendation]:
    params = {
        "user_id": query.user_id,
        "product_id": query.product_id,
        "k": query.k,
        "exclude": query.exclude,
        "category": query.category,
        "method": query.method or "adaptive",
        "attributes": None if query.attributes is None else Jsonb(query.attributes),
    }
    cur = await conn.execute(queries.get(name), params)
    return [
        Recommendation(r["product_id"], float(r["score"]), r["reason"])
        for r in await cur.fetchall()
    ]
