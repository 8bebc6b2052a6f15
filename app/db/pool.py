"""The async connection pool the web app shares, quick to fail and quick to recover.

While PostgreSQL is down, a request must get its 503 at once rather than queue for
a connection that cannot come; once it is back, the pool must refill by itself.
psycopg_pool already replaces broken connections with backoff; this pool adds:

- a `down` flag, raised when a connection comes back broken and lowered when a new
  connection opens; while it is up, a request waits DOWN_WAIT for a connection
  instead of `timeout` (a waiting request also makes the pool try to grow);
- a purge of the idle connections at the first broken one (a restarted server has
  closed them all), so later requests do not each fail on a dead socket;
- a short reconnect_timeout, so the backoff of the background attempts never grows
  past a few seconds: the first request after recovery starts a fresh attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps
from psycopg_pool import AsyncConnectionPool, PoolTimeout

Connection = AsyncConnection[dict[str, Any]]

log = logging.getLogger(__name__)

JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dump_json(obj: Any) -> bytes | str:
    """Jsonb parameters (a served list's request, rules, attributes) by orjson, as
    the responses are: several times faster than the json module, which still
    takes what orjson refuses (integers beyond 64 bits, which jsonb stores)."""
    try:
        return orjson.dumps(obj, option=JSON_OPTIONS)
    except TypeError:
        return json.dumps(obj)


set_json_dumps(dump_json)

# How long a request waits for a connection while the database is known down.
DOWN_WAIT = 0.5
# Background reconnection gives up after this; requests then start fresh attempts.
RECONNECT_TIMEOUT = 3.0
# How long opening the pool waits for its first connections.
OPEN_TIMEOUT = 10.0
# How long a read waits for a replica's connection before asking the primary.
REPLICA_WAIT_FOR_CONNECTION = 0.5


class Pool(AsyncConnectionPool[Connection]):
    down = False
    _purge: asyncio.Task[None] | None = None

    async def getconn(self, timeout: float | None = None) -> Connection:  # noqa: ASYNC109
        if self.down:
            timeout = min(timeout if timeout is not None else self.timeout, DOWN_WAIT)
        return await super().getconn(timeout)

    async def putconn(self, conn: Connection) -> None:
        if conn.broken and not self.down:
            log.warning("database connection lost; failing fast until it is back")
            self.down = True
            if self._purge is None or self._purge.done():
                self._purge = asyncio.create_task(self.check())
        await super().putconn(conn)


async def open_pool(url: str, min_size: int, max_size: int, patient: bool = False) -> Pool:
    """An open pool; PoolTimeout if the database does not answer within
    OPEN_TIMEOUT, or, `patient`, a new attempt after each such wait."""
    while True:
        pool = _pool(url, min_size, max_size)
        try:
            await pool.open(wait=True, timeout=OPEN_TIMEOUT)
            return pool
        except PoolTimeout:
            await pool.close()
            if not patient:
                raise
            # A server process started during an outage (a supervisor replacing
            # a worker, say) waits here instead of exiting, which would cost a
            # whole new start (imports included) once the database is back.
            log.warning("the database is not reachable; waiting for it")


def _pool(url: str, min_size: int, max_size: int) -> Pool:
    async def connected(conn: Connection) -> None:
        if pool.down:
            log.warning("database connection is back")
            pool.down = False

    pool = Pool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "application_name": "recsys"},
        # A request waits at most this long for a connection, then fails with 503.
        timeout=5.0,
        reconnect_timeout=RECONNECT_TIMEOUT,
        configure=connected,
        open=False,
    )
    return pool


async def open_replica_pool(url: str, max_size: int) -> Pool:
    """A streaming replica's pool: autocommit (reads only, nothing to commit), a
    short wait for a connection (the primary answers instead), and opened
    without waiting, so a replica that is down does not stop the app starting."""
    pool = Pool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "application_name": "recsys-replica", "autocommit": True},
        timeout=REPLICA_WAIT_FOR_CONNECTION,
        reconnect_timeout=RECONNECT_TIMEOUT,
        open=False,
    )
    await pool.open(wait=False)
    return pool


@asynccontextmanager
async def statement(pool: AsyncConnectionPool[Connection]) -> AsyncIterator[Connection]:
    """A pooled connection in autocommit, for work that is one statement (a
    health probe, a served list and its ledger row): the statement is its own
    transaction, so no BEGIN and COMMIT round trips around it (3 round trips
    become 1). Switching needs no round trip; the pool gets it back as it was."""
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            yield conn
        finally:
            if not conn.broken:
                await conn.set_autocommit(False)
