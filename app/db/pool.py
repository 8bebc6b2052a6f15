"""The async connection pool the web app shares."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Connection = AsyncConnection[dict[str, Any]]


async def open_pool(url: str, min_size: int, max_size: int) -> AsyncConnectionPool[Connection]:
    pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "application_name": "recsys"},
        # A request waits at most this long for a connection, then fails with 503.
        timeout=5.0,
        open=False,
    )
    await pool.open(wait=True, timeout=10.0)
    return pool
