"""Scenarios as rows (recsys.scenarios): saved settings of one placement."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from app.db import queries
from app.db.pool import Connection


@dataclass(frozen=True)
class Scenario:
    name: str
    case_name: str
    method: str | None = None
    rules: dict[str, Any] | None = None
    diversity: float = 0.0
    max_per_category: int | None = None
    rotation: float = 0.0
    k: int | None = None
    fallback: list[str] = field(default_factory=list)
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


async def put(conn: Connection, scenario: Scenario) -> tuple[Scenario, bool]:
    """Creates or replaces it (recsys.put_scenario checks every field); the
    scenario as stored, and whether it is new."""
    params = asdict(scenario)
    params["rules"] = None if scenario.rules is None else Jsonb(scenario.rules)
    cur = await conn.execute(queries.get("put_scenario"), params)
    row = await cur.fetchone()
    assert row is not None
    created = bool(row.pop("created"))
    return Scenario(**row), created


async def get(conn: Connection, name: str) -> Scenario | None:
    cur = await conn.execute(queries.get("get_scenario"), {"name": name})
    row = await cur.fetchone()
    return None if row is None else Scenario(**row)


async def list_all(conn: Connection) -> list[Scenario]:
    cur = await conn.execute(queries.get("list_scenarios"))
    return [Scenario(**row) for row in await cur.fetchall()]


async def drop(conn: Connection, name: str) -> bool:
    cur = await conn.execute(queries.get("drop_scenario"), {"name": name})
    return await cur.fetchone() is not None
