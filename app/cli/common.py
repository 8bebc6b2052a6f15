"""What every command shares: settings, the database, one-line failures."""

from __future__ import annotations

import asyncio
from typing import Any

import click
import psycopg
from psycopg.rows import dict_row

from app.config import Settings
from app.db import migrate, tunables
from app.db import url as db_url


class Failure(click.ClickException):
    """One clear line on stderr, exit status 1."""


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as error:
        raise Failure(str(error)) from None


def database(upgrade: bool = True, apply_tunables: bool = True) -> str:
    """The database's URL, starting the embedded server if needed; upgraded to the
    newest schema if `upgrade`; with `apply_tunables`, the REC_* tunables the SQL
    reads are written to recsys.settings first (commands that write events or the
    counts derived from them need them; `db url` and `db psql` do not)."""
    config = settings()
    url = db_url.resolve(config)
    if upgrade:
        try:
            migrate.upgrade(url)
        except migrate.UnknownRevision as error:
            raise Failure(str(error)) from None
    if apply_tunables:
        asyncio.run(_apply_tunables(url, config))
    return url


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
