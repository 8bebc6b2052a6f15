"""Writing events: one statement per batch, so the trigger runs once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db import queries
from app.db.pool import Connection


@dataclass(frozen=True)
class NewEvent:
    user_id: str
    product_id: str
    event_type: str
    value: float | None = None
    timestamp: datetime | None = None
    event_id: str | None = None
    recomm_id: str | None = None


@dataclass(frozen=True)
class IngestResult:
    inserted: int
    duplicates: int


async def insert_events(conn: Connection, events: Sequence[NewEvent]) -> IngestResult:
    cur = await conn.execute(queries.get("ingest_events"), ingest_params(events))
    row = await cur.fetchone()
    assert row is not None
    return IngestResult(inserted=int(row["inserted"]), duplicates=int(row["duplicates"]))


def ingest_params(events: Sequence[NewEvent]) -> dict[str, list[Any]]:
    """The named query ingest_events' arguments: one array per field."""
    return {
        "user_ids": [e.user_id for e in events],
        "product_ids": [e.product_id for e in events],
        "event_types": [e.event_type for e in events],
        "values": [e.value for e in events],
        "timestamps": [e.timestamp for e in events],
        "event_keys": [e.event_id for e in events],
        "recomm_ids": [e.recomm_id for e in events],
    }
