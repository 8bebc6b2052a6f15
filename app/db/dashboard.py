"""The admin dashboard's reads: each a named query over the analysts' views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.db import queries
from app.db.pool import Connection

Rows = list[dict[str, Any]]
# GET /admin/loop?by=...: the dimension names a query, never a piece of SQL.
LOOP_QUERIES = {
    "case": "admin_loop_by_case",
    "position": "admin_loop_by_position",
    "day": "admin_loop_by_day",
    "arm": "admin_loop_by_arm",
    "scenario": "admin_loop_by_scenario",
}


def plain(row: dict[str, Any]) -> dict[str, Any]:
    # The views round rates as numeric: numbers in JSON, not the strings
    # Decimal would become.
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}


async def rows(conn: Connection, name: str, params: dict[str, Any] | None = None) -> Rows:
    return [plain(r) for r in await (await conn.execute(queries.get(name), params)).fetchall()]


async def one(conn: Connection, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    row = await (await conn.execute(queries.get(name), params)).fetchone()
    assert row is not None  # aggregates and singletons always answer one row
    return plain(row)


async def overview(conn: Connection, days: int, top: int) -> dict[str, Any]:
    return {
        "counts": await one(conn, "admin_counts"),
        "active_users": await one(conn, "admin_active_users"),
        "funnel": await one(conn, "admin_funnel", {"days": days}),
        "daily_activity": await rows(conn, "admin_daily_activity", {"days": days}),
        "top_items": await rows(conn, "admin_top_items", {"limit": top}),
    }


async def events_per_minute(conn: Connection, minutes: int) -> Rows:
    return await rows(conn, "admin_events_per_minute", {"minutes": minutes})


async def loop(conn: Connection, by: str) -> Rows:
    return await rows(conn, LOOP_QUERIES[by])


async def runs(conn: Connection, limit: int) -> Rows:
    return await rows(conn, "list_runs", {"limit": limit})


async def activate(conn: Connection, run_id: int) -> dict[str, Any]:
    """recsys.activate_run: NoDataFound for an unknown run, ObjectNotInPrerequisiteState
    for one not ready (404 and 409 at the HTTP edge)."""
    return await one(conn, "activate_run", {"run_id": run_id})


async def tunables(conn: Connection) -> dict[str, Any]:
    return await one(conn, "admin_tunables")


async def last_event_id(conn: Connection) -> int:
    return int((await one(conn, "activity_last_id"))["last_id"])


async def activity_since(conn: Connection, after: int) -> Rows:
    return await rows(conn, "activity_since", {"after": after})
