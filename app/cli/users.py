"""`recsys users delete ID`: erasure from the command line."""

from __future__ import annotations

import asyncio

import click
import psycopg
from psycopg.rows import dict_row

from app.cli.common import Failure, database
from app.db import users as db_users


@click.group()
def users() -> None:
    """Users: delete (erasure)."""


@users.command()
@click.argument("user_id")
def delete(user_id: str) -> None:
    """Erase USER_ID: events, interactions, factors, and what they added to the counts."""
    erased = asyncio.run(_delete(database(upgrade=False), user_id))
    if erased is None:
        raise Failure(f"unknown user_id {user_id!r}")
    click.echo(
        f"erased {user_id}: {erased.events} events, {erased.interactions} interactions,"
        f" {erased.pairs} item pairs changed"
    )


async def _delete(url: str, user_id: str) -> db_users.Erased | None:
    async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
        return await db_users.delete_user(conn, user_id)
