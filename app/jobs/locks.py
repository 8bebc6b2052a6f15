"""Session advisory locks that let one instance do a round while the others skip.

The lock statements are the `try_<name>_lock` / `release_<name>_lock` queries of
sql/queries.sql; this module only holds one for the length of a `with` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from app.db import queries


@contextmanager
def held_if_free(url: str, name: str) -> Iterator[bool]:
    """Yields whether this session got the `try_<name>_lock` query's lock; releases it after."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(queries.get(f"try_{name}_lock")).fetchone()
        held = bool(row and row[0])
        try:
            yield held
        finally:
            if held:
                conn.execute(queries.get(f"release_{name}_lock"))
