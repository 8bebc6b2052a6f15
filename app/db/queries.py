"""Named SQL from sql/queries.sql (installed as app.sql), parsed once into a dict."""

from __future__ import annotations

import re
from functools import cache

from app import resources

SQL_DIR = resources.directory(resources.SQL)
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    """Split `-- name: x` blocks into {x: sql}."""
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


@cache
def all_queries() -> dict[str, str]:
    return parse((SQL_DIR / "queries.sql").read_text())


def get(name: str) -> str:
    return all_queries()[name]


def schema() -> str:
    """The whole current schema (sql/schema.sql)."""
    return (SQL_DIR / "schema.sql").read_text()
