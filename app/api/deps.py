"""Shared request plumbing: a pooled connection per request."""

from __future__ import annotations

from collections import Counter
from typing import Any

from psycopg_pool import AsyncConnectionPool
from quart import current_app

from app.config import Settings
from app.db import pool as db_pool
from app.db.pool import Connection
from app.db.replicas import Reads
from app.metrics.instruments import Metrics
from app.realtime.service import Realtime
from app.recommenders.base import Exposure


def pool() -> AsyncConnectionPool[Connection]:
    return current_app.extensions["recsys.pool"]  # type: ignore[no-any-return]


def settings() -> Settings:
    return current_app.extensions["recsys.settings"]  # type: ignore[no-any-return]


def connection() -> Any:
    """`async with connection() as conn:` commits on success, rolls back on error."""
    return pool().connection()


def statement() -> Any:
    """`async with statement() as conn:` for one statement, in autocommit."""
    return db_pool.statement(pool())


def reads() -> Reads:
    """Where recommendation lists are read: a replica or the primary."""
    return current_app.extensions["recsys.reads"]  # type: ignore[no-any-return]


def realtime() -> Realtime:
    return current_app.extensions["recsys.realtime"]  # type: ignore[no-any-return]


def exposure(surface: str, **context: Any) -> Exposure:
    """The ledger context of a list served on `surface` (off with REC_EXPOSURES=false)."""
    return Exposure(surface=surface, log=settings().exposures, **context)


def metrics() -> Metrics | None:
    """This process's instruments; None with REC_METRICS=false."""
    return current_app.extensions.get("recsys.metrics")


def count_list(case: str, surface: str) -> None:
    if (m := metrics()) is not None:
        m.lists.labels(case, surface).inc()


def count_events(event_types: list[str], duplicates: int = 0) -> None:
    if (m := metrics()) is None:
        return
    for name, n in Counter(event_types).items():
        m.events.labels(name).inc(n)
    if duplicates:
        m.duplicates.inc(duplicates)
