"""Retention's statements: prune one batch of users' old events (recsys.prune_events),
or one batch of old served lists (recsys.prune_exposures).

The loop over batches and the round inside `recsys serve` are app/jobs/retention.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from app.db import queries


def prune_batch(
    conn: psycopg.Connection[Any], older_than: datetime, max_users: int
) -> tuple[int, int]:
    """Delete the events with ts < older_than of at most `max_users` users, in the
    caller's transaction; (users, events) pruned, (0, 0) when nothing is left."""
    params = {"cutoff": older_than, "max_users": max_users}
    row = conn.execute(queries.get("prune_events"), params).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def prune_exposures_batch(
    conn: psycopg.Connection[Any], older_than: datetime, max_rows: int
) -> int:
    """Delete at most `max_rows` exposures served before older_than; how many."""
    params = {"cutoff": older_than, "max_rows": max_rows}
    row = conn.execute(queries.get("prune_exposures"), params).fetchone()
    return int(row[0]) if row else 0
