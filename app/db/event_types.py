"""Event types are data: list, create or change (rebuilding what their events built), drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.db import queries
from app.db.pool import Connection

KINDS = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class EventType:
    name: str
    kind: str = "positive"
    weight: float = 1.0
    uses_value: bool = False
    conversion: bool = False


@dataclass(frozen=True)
class Put:
    created: bool
    # Users whose aggregates were rebuilt because the type's events changed meaning.
    rebuilt_users: int


async def list_types(conn: Connection) -> list[dict[str, Any]]:
    cur = await conn.execute(queries.get("list_event_types"))
    return await cur.fetchall()


async def put_type(conn: Connection, event_type: EventType) -> Put:
    cur = await conn.execute(queries.get("put_event_type"), event_type.__dict__)
    row = await cur.fetchone()
    assert row is not None
    return Put(created=bool(row["created"]), rebuilt_users=int(row["rebuilt_users"]))


async def drop_type(conn: Connection, name: str) -> bool:
    """False if no such type; raises DependentObjectsStillExist if events use it."""
    cur = await conn.execute(queries.get("drop_event_type"), {"name": name})
    row = await cur.fetchone()
    return bool(row and row["dropped"])
