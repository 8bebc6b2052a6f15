"""Shared request plumbing: the caller's tenant's shop, a pooled connection per request."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from quart import current_app, g

from app.config import Settings
from app.db import pool as db_pool
from app.db.pool import Connection
from app.db.replicas import Reads
from app.db.tenants import DEFAULT
from app.metrics.instruments import Metrics
from app.realtime.service import Realtime
from app.recommenders.base import Exposure
from app.shops import Shop, Shops


def shops() -> Shops:
    return current_app.extensions["recsys.shops"]  # type: ignore[no-any-return]


def shop() -> Shop:
    """The shop of the tenant whose key made this request (app/api/auth.py)."""
    found: Shop | None = g.get("shop")
    return found if found is not None else shops().default


def unknown_tenant(tenant: str) -> str:
    return f"this key's tenant {tenant!r} does not exist (any more)"


async def tenant_gone() -> str | None:
    """This request's tenant if its database has been dropped since its shop
    opened (the shop is closed then), else None."""
    shop: Shop | None = g.get("shop")
    if shop is None or shop.tenant == DEFAULT:
        return None
    try:
        gone = await shops().gone(shop.tenant)
    except (psycopg.OperationalError, PoolTimeout):
        return None  # the default database is down too: a plain 503
    if not gone:
        return None
    await shops().forget(shop.tenant)
    return shop.tenant


def pool() -> AsyncConnectionPool[Connection]:
    return shop().pool


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
    return shop().reads


def realtime() -> Realtime:
    return shop().realtime


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
