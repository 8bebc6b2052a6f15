"""Initial schema: events, trigger-kept aggregates, models, content, the SQL recommenders.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-02
"""

from app.migrations.frozen import apply

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0001_initial.sql")
