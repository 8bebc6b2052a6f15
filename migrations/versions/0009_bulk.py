"""Bulk import: recsys.bulk_ingest_events, every aggregate built set-based into an empty shop.

Revision ID: 0009_bulk
Revises: 0008_cross
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0009_bulk"
down_revision = "0008_cross"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0009_bulk.sql")
