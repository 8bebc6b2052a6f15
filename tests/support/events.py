"""Small writers shared by the integration tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)

# (user, product, event_type, value, ts); ts None means now()
Event = tuple[str, str, str, float | None, datetime | None]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ingest(conn: psycopg.Connection[Any], events: Sequence[Event]) -> tuple[int, int]:
    """One recsys.ingest_events call (one INSERT, one trigger call)."""
    users, products, types, values, stamps = (list(c) for c in zip(*events, strict=True))
    row = conn.execute(
        "select * from recsys.ingest_events(%s::text[], %s::text[], %s::text[],"
        " %s::real[], %s::timestamptz[])",
        (users, products, types, values, stamps),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def upsert_items(conn: psycopg.Connection[Any], *items: dict[str, Any]) -> None:
    conn.execute("select * from recsys.upsert_items(%s)", (Jsonb(list(items)),))


def seed(db_url: str) -> None:
    """Three users who viewed a and b; c is popular; d is bought together with a."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "select recsys.ingest_events(%s, %s, %s)",
            (
                ["x", "x", "y", "y", "z", "z", "z"],
                ["a", "b", "a", "b", "c", "a", "d"],
                ["view"] * 7,
            ),
        )
