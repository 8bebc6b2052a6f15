"""Predicted ratings from the active explicit model (recsys.predict)."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import queries
from app.db.pool import Connection


@dataclass(frozen=True)
class Prediction:
    rating: float
    reason: str
    run_id: int
    fallback: bool


async def predict(conn: Connection, user_id: str, product_id: str) -> Prediction:
    cur = await conn.execute(queries.get("predict"), {"user_id": user_id, "product_id": product_id})
    row = await cur.fetchone()
    assert row is not None
    return Prediction(
        float(row["rating"]), row["reason"], int(row["run_id"]), bool(row["fallback"])
    )
