"""A scratch database for one evaluation: created on the live server, migrated,
filled with the training part, and dropped at the end, even on error or Ctrl-C.

A database, not a schema: every table, function and trigger is qualified
`recsys.*`, so a second schema would need a rewritten copy of all of them,
while a second database runs the very same SQL; and PostgreSQL cannot query
across databases, so nothing done here can read or write the live tables.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import conninfo, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from app.db import migrate, queries

log = logging.getLogger(__name__)

PREFIX = "recsys_eval_"
STAGED = ["line", "user_id", "product_id", "event_type", "value", "ts", "event_id"]
ITEM_BATCH = 5_000


class ScratchError(RuntimeError):
    """The scratch database could not be created (e.g. no CREATEDB privilege)."""


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo.conninfo_to_dict(url)
    params["dbname"] = dbname
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


@contextmanager
def database(server_url: str) -> Iterator[str]:
    """Yield the URL of a new, migrated database on `server_url`'s server; drop it after."""
    name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    try:
        _execute(server_url, sql.SQL("create database {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise ScratchError(f"cannot create a scratch database: {error}") from None
    try:
        url = with_dbname(server_url, name)
        migrate.upgrade(url)
        yield url
    finally:
        drop(server_url, name)


def drop(server_url: str, name: str) -> None:
    try:
        statement = sql.SQL("drop database if exists {} with (force)")
        _execute(server_url, statement.format(sql.Identifier(name)))
    except psycopg.Error as error:
        log.warning("could not drop scratch database %s: %s", name, error)


def _execute(url: str, statement: sql.Composed) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def set_event_types(url: str, event_types: list[dict[str, Any]]) -> None:
    """The source's event types and weights, so scores match the live ones."""
    with psycopg.connect(url) as conn:
        for row in event_types:
            conn.execute(queries.get("evaluation_set_event_type"), row)
        conn.commit()


def ensure_event_types(url: str, event_types: Sequence[dict[str, Any]]) -> None:
    """Event types a file format needs, created unless they exist."""
    with psycopg.connect(url) as conn:
        for row in event_types:
            conn.execute(queries.get("ensure_event_type"), row)
        conn.commit()


def event_types(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return list(conn.execute(queries.get("evaluation_event_types")).fetchall())


def load_events(url: str, events: pd.DataFrame) -> int:
    """Insert events as `recsys import events` does (COPY, then one ingest call,
    so the trigger runs once); returns how many were inserted."""
    staged = events.assign(
        line=range(1, len(events) + 1),
        ts=events["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
    ).reindex(columns=STAGED)
    with psycopg.connect(url) as conn:
        conn.execute(queries.get("create_event_staging"))
        with conn.cursor().copy(queries.get("copy_event_staging")) as copy:
            copy.write(staged.to_csv(sep="\t", header=False, index=False))
        row = conn.execute(queries.get("ingest_staged_events")).fetchone()
        conn.commit()
    assert row is not None
    return int(row[0])


def load_items(url: str, items: list[dict[str, Any]]) -> None:
    """Item dicts as recsys.upsert_items takes them (copied from a database)."""
    with psycopg.connect(url) as conn:
        for start in range(0, len(items), ITEM_BATCH):
            batch = [_jsonable(item) for item in items[start : start + ITEM_BATCH]]
            conn.execute(queries.get("upsert_items"), {"items": Jsonb(batch)})
        conn.commit()


def _jsonable(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "categories": list(item.get("categories") or [])}


def catalogue(url: str) -> list[str]:
    """Every available item's external id."""
    with psycopg.connect(url) as conn:
        return [str(r[0]) for r in conn.execute(queries.get("evaluation_catalogue")).fetchall()]


def embeddings(url: str) -> dict[str, np.ndarray]:
    """External id -> content embedding (numpy), for items that have one."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(queries.get("evaluation_embeddings")).fetchall()
    return {str(p): np.asarray(v, dtype=np.float64) for p, v in rows}
