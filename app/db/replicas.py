"""Recommendation reads from streaming replicas (REC_REPLICA_URLS).

A read that must see a write (POST /event's answer, the push after an event)
passes the primary's WAL position taken after that write committed; the
replica is used once it has replayed that far, polled for at most
REC_REPLICA_WAIT seconds, else the read goes to the primary. A replica that is
down or refuses a connection sends its reads to the primary too. Writes, the
exposure ledger and LISTEN stay on the primary.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
from psycopg_pool import PoolTimeout

from app.db import queries
from app.db.pool import Connection, Pool, open_replica_pool

log = logging.getLogger(__name__)

# Between two looks at a lagging replica's replay position.
POLL = 0.002
REPLICA, LAGGING, UNREACHABLE = "replica", "lagging", "unreachable"

T = TypeVar("T")
Read = Callable[[Connection], Awaitable[T]]


class Reads:
    """Where a recommendation list is read; `where` counts the replica's answers
    and why it did not answer (the primary answers those)."""

    def __init__(self, primary: Pool, replicas: list[Pool], wait: float) -> None:
        self.primary = primary
        self.replicas = replicas
        self.wait = wait
        self._turn = itertools.cycle(range(len(replicas))) if replicas else None
        self.where: Counter[str] = Counter()

    @property
    def replicated(self) -> bool:
        return bool(self.replicas)

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.close()

    async def on_replica(self, read: Read[T], lsn: str | None = None) -> T | None:
        """`await read(conn)` on a replica that has replayed `lsn` (None: any);
        None when there is no replica, or it lags or fails: ask the primary."""
        if self._turn is None:
            return None
        replica = self.replicas[next(self._turn)]
        try:
            async with replica.connection() as conn:
                if lsn is not None and not await self._caught_up(conn, lsn):
                    self.where[LAGGING] += 1
                    return None
                result = await read(conn)
        except (psycopg.OperationalError, PoolTimeout) as error:
            self.where[UNREACHABLE] += 1
            log.warning("replica unreachable, reading from the primary: %s", error)
            return None
        self.where[REPLICA] += 1
        return result

    async def _caught_up(self, conn: Connection, lsn: str) -> bool:
        deadline = time.monotonic() + self.wait
        while True:
            row = await (await conn.execute(queries.get("replayed"), {"lsn": lsn})).fetchone()
            if row is not None and row["replayed"]:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL)

    async def primary_lsn(self) -> str | None:
        """The primary's WAL position now (None without replicas: nothing waits)."""
        if not self.replicated:
            return None
        async with self.primary.connection() as conn:
            return await wal_lsn(conn)


async def wal_lsn(conn: Connection) -> str:
    row = await (await conn.execute(queries.get("wal_lsn"))).fetchone()
    assert row is not None
    return str(row["lsn"])


async def open_reads(primary: Pool, urls: tuple[str, ...], wait: float, size: int) -> Reads:
    replicas = [await open_replica_pool(url, size) for url in urls]
    return Reads(primary, replicas, wait)
