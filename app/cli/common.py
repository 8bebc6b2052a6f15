"""What every command shares: settings, the database, one-line failures."""

from __future__ import annotations

import asyncio
from typing import Any

import click
import psycopg
from psycopg.rows import dict_row

from app.config import Settings
from app.db import migrate, tenants, tunables
from app.db import url as db_url


class Failure(click.ClickException):
    """One clear line on stderr, exit status 1."""


def settings() -> Settings:
    """REC_* settings, with the tenant of `recsys --tenant` when given."""
    try:
        config = Settings.from_env()
        tenant = _tenant_option()
        if tenant is not None:
            config = config.with_overrides({"tenant": tenants.check(tenant)})
        return config
    except ValueError as error:
        raise Failure(str(error)) from None


def _tenant_option() -> str | None:
    context = click.get_current_context(silent=True)
    if context is None:
        return None
    tenant: str | None = context.find_root().params.get("tenant")
    return tenant


def database(upgrade: bool = True, apply_tunables: bool = True, every_tenant: bool = False) -> str:
    """The URL of the tenant's database (REC_TENANT / `recsys --tenant`; the
    default tenant's unless given), starting the embedded server if needed;
    upgraded to the newest schema if `upgrade`, with every tenant's too if
    `every_tenant`; with `apply_tunables`, the REC_* tunables the SQL reads are
    written to recsys.settings first (commands that write events or the counts
    derived from them need them; `db url` and `db psql` do not)."""
    config = settings()
    base = db_url.resolve(config)
    url = tenant_url(base, config.tenant)
    if upgrade:
        try:
            migrate.upgrade(url)
            if every_tenant:
                tenants.upgrade_all(base)
        except migrate.UnknownRevision as error:
            raise Failure(str(error)) from None
    if apply_tunables:
        asyncio.run(_apply_tunables(url, config))
    return url


def tenant_url(base: str, tenant: str) -> str:
    if not tenants.exists(base, tenant):
        raise Failure(f"no tenant {tenant!r}: create it with `recsys tenants create {tenant}`")
    return tenants.url_for(base, tenant)


async def _apply_tunables(url: str, config: Settings) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await tunables.apply(conn, config)


def run_db(call: Any, *args: Any) -> Any:
    """`await call(conn, *args)` on one connection to the (upgraded) database,
    committed: the CLI's one-shot admin calls into app.db."""
    return asyncio.run(_call(database(upgrade=True), call, *args))


async def _call(url: str, call: Any, *args: Any) -> Any:
    async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
        result = await call(conn, *args)
        await conn.commit()
        return result
