"""The catalogue: upserts and single-item reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from app.db import queries
from app.db.pool import Connection


async def upsert_items(conn: Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create or replace items; returns product_id and whether each was created."""
    cur = await conn.execute(queries.get("upsert_items"), {"items": Jsonb(list(items))})
    return await cur.fetchall()


async def select_item(conn: Connection, product_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(queries.get("select_item"), {"product_id": product_id})
    return await cur.fetchone()


async def list_items(
    conn: Connection, category: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Items, most popular first."""
    params = {"category": category, "limit": limit, "offset": offset}
    cur = await conn.execute(queries.get("list_items"), params)
    return await cur.fetchall()
