"""What a process runs for each tenant: its pool, its reads, its listener and
sockets, its background rounds (app/db/tenants.py says where tenants live).

The default tenant's shop opens on start and waits for the database; every
tenant that exists then opens with it, and one created later opens on its
first request. A tenant's shop is entirely its own: no pool, listener,
broker or job ever serves two tenants.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app import jobs
from app.config import Settings
from app.db import pool as db_pool
from app.db import queries, replicas, tenants, tunables
from app.db.replicas import Reads
from app.realtime.service import Realtime

log = logging.getLogger(__name__)


class UnknownTenant(LookupError):
    """A key names a tenant that has no database (never created, or dropped)."""


@dataclass
class Shop:
    tenant: str
    url: str
    pool: db_pool.Pool
    reads: Reads
    realtime: Realtime
    jobs: jobs.Jobs

    @classmethod
    async def open(cls, tenant: str, url: str, settings: Settings, patient: bool) -> Shop:
        pool = await db_pool.open_pool(url, settings.pool_min, settings.pool_max, patient=patient)
        # Whether or not this start migrated: the SQL reads its tunables from the table.
        async with pool.connection() as conn:
            await tunables.apply(conn, settings)
        # A streaming replica holds every database of its primary: the tenant's
        # has the same name there.
        replica_urls = tuple(tenants.url_for(u, tenant) for u in settings.replica_urls)
        reads = await replicas.open_reads(
            pool, replica_urls, settings.replica_wait, settings.pool_max
        )
        realtime = Realtime(pool, url, settings.listen_probe_seconds, settings.exposures, reads)
        await realtime.start()
        return cls(tenant, url, pool, reads, realtime, jobs.start(settings, pool, url))

    async def close(self) -> None:
        await self.jobs.stop()
        await self.realtime.stop()
        await self.reads.close()
        await self.pool.close()


class Shops:
    """The open shops of this process, by tenant."""

    def __init__(self, settings: Settings, url: str) -> None:
        self._settings = settings
        self._url = url
        self._open: dict[str, Shop] = {}
        self._lock = asyncio.Lock()

    @property
    def default(self) -> Shop:
        return self._open[tenants.DEFAULT]

    def all(self) -> list[Shop]:
        return list(self._open.values())

    async def start(self) -> None:
        self._open[tenants.DEFAULT] = await Shop.open(
            tenants.DEFAULT, self._url, self._settings, patient=True
        )
        for tenant in await self._tenants():
            await self.get(tenant)

    async def get(self, tenant: str) -> Shop:
        """The tenant's shop, opened on first use; UnknownTenant if it has no database."""
        shop = self._open.get(tenant)
        if shop is not None:
            return shop
        async with self._lock:
            if tenant not in self._open:
                if tenant not in await self._tenants():
                    raise UnknownTenant(tenant)
                url = tenants.url_for(self._url, tenant)
                self._open[tenant] = await Shop.open(tenant, url, self._settings, patient=False)
                log.info("opened tenant %s", tenant)
            return self._open[tenant]

    async def forget(self, tenant: str) -> None:
        """Close a tenant's shop whose database is gone (`recsys tenants drop`)."""
        async with self._lock:
            shop = self._open.pop(tenant, None)
        if shop is not None:
            await shop.close()

    async def gone(self, tenant: str) -> bool:
        """Whether `tenant`'s database has been dropped since its shop opened."""
        return tenant != tenants.DEFAULT and tenant not in await self._tenants()

    async def _tenants(self) -> list[str]:
        base = {"base": tenants.dbname(self._url)}
        async with db_pool.statement(self.default.pool) as conn:
            rows = await (await conn.execute(queries.get("tenant_databases"), base)).fetchall()
        return [tenants.tenant_of(self._url, str(row["database"])) for row in rows]

    async def close(self) -> None:
        """Close every shop (kept, closed, for whoever inspects them after)."""
        for shop in self._open.values():
            await shop.close()
