"""Alembic environment: online migrations only, on the URL the service resolves."""

from __future__ import annotations

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool

from app.config import Settings
from app.db import url as db_url

config = context.config
target = config.attributes.get("url") or db_url.resolve(Settings.from_env())
# libpq accepts URLs and key=value strings alike; SQLAlchemy only URLs, so libpq connects.
engine = create_engine(
    "postgresql+psycopg://", creator=lambda: psycopg.connect(target), poolclass=pool.NullPool
)

with engine.connect() as connection:
    # The version table lives with the rest of the schema; the schema must exist first.
    connection.exec_driver_sql("create schema if not exists recsys")
    context.configure(connection=connection, version_table_schema="recsys")
    with context.begin_transaction():
        context.run_migrations()
    # SQLAlchemy 2 began a transaction with the statement above; keep its work.
    connection.commit()
