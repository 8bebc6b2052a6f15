"""Databases on the test server: created from a template, dropped after."""

from __future__ import annotations

import itertools
import os

import psycopg
from psycopg import conninfo, sql

TEMPLATE = "recsys_template"
DROP = sql.SQL("drop database if exists {} with (force)")
_counter = itertools.count()


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo.conninfo_to_dict(url)
    params["dbname"] = dbname
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def fresh_name() -> str:
    """A database name no other test of any concurrent session uses."""
    return f"recsys_test_{os.getpid()}_{next(_counter)}"


def _admin(server_url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(server_url, autocommit=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    with _admin(server_url) as conn:
        conn.execute(DROP.format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("create database {} template {} strategy file_copy").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_dbname(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(DROP.format(sql.Identifier(name)))
