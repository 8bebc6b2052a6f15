"""Per-user reads, and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.db import queries
from app.db.pool import Connection


async def user_exists(conn: Connection, user_id: str) -> bool:
    cur = await conn.execute(queries.get("user_exists"), {"user_id": user_id})
    row = await cur.fetchone()
    return bool(row and row["exists"])


async def select_history(conn: Connection, user_id: str, limit: int) -> list[dict[str, Any]]:
    cur = await conn.execute(
        queries.get("select_user_history"), {"user_id": user_id, "limit": limit}
    )
    return await cur.fetchall()


@dataclass(frozen=True)
class Erased:
    events: int
    interactions: int
    pairs: int


async def delete_user(conn: Connection, user_id: str) -> Erased | None:
    """Erases the user in the caller's transaction; None if unknown."""
    cur = await conn.execute(queries.get("forget_user"), {"user_id": user_id})
    row = await cur.fetchone()
    if row is None:
        return None
    return Erased(int(row["events"]), int(row["interactions"]), int(row["pairs"]))


async def merge(conn: Connection, target: str, anonymous: str) -> int:
    """Folds `anonymous`'s events into `target` (recsys.merge_users); the events moved."""
    cur = await conn.execute(queries.get("merge_users"), {"target": target, "anonymous": anonymous})
    row = await cur.fetchone()
    assert row is not None
    return int(row["moved"])


async def similar(conn: Connection, user_id: str, k: int) -> list[dict[str, Any]]:
    cur = await conn.execute(queries.get("similar_users"), {"user_id": user_id, "k": k})
    return await cur.fetchall()
