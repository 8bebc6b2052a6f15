"""Apply a frozen SQL file from migrations/sql: revisions never read the live sql/."""

from __future__ import annotations

from alembic import op

from app import resources

FROZEN = resources.directory(resources.MIGRATIONS) / "sql"


def apply(filename: str) -> None:
    # Straight to psycopg: no parameters, so '%' in the SQL stays literal.
    driver = op.get_bind().connection.driver_connection
    driver.execute((FROZEN / filename).read_text())  # type: ignore[union-attr]
