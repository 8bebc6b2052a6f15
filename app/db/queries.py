"""Named SQL from sql/queries.sql, parsed once into a dict, and the schema files of
sql/ (installed as app.sql)."""

from __future__ import annotations

import re
from functools import cache

from app import resources

SQL_DIR = resources.directory(resources.SQL)
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
# sql/NN_concern.sql: the schema's files; NN orders them by dependency.
_SCHEMA_FILE = re.compile(r"^\d\d_\w+\.sql$")


def parse(text: str) -> dict[str, str]:
    """Split `-- name: x` blocks into {x: sql}."""
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


@cache
def all_queries() -> dict[str, str]:
    return parse((SQL_DIR / "queries.sql").read_text())


def get(name: str) -> str:
    return all_queries()[name]


def schema_files() -> list[str]:
    """The names of the schema's files, in the order they load."""
    return sorted(entry.name for entry in SQL_DIR.iterdir() if _SCHEMA_FILE.match(entry.name))


def schema() -> str:
    """The whole current schema: the files of schema_files() concatenated."""
    return "\n".join((SQL_DIR / name).read_text() for name in schema_files())
