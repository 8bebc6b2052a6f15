"""The exposure ledger's reads: the chain a next page continues."""

from __future__ import annotations

from typing import Any

from app.db import queries
from app.db.pool import Connection


async def chain_of(conn: Connection, recomm_id: str) -> dict[str, Any] | None:
    """The chain of `recomm_id` (recsys.chain_of): its first request, every product
    it showed, the next page's number and whether it expired; None if unknown."""
    cur = await conn.execute(queries.get("chain_of"), {"recomm_id": recomm_id})
    return await cur.fetchone()
