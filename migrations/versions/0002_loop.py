"""The loop: event types as data, negative feedback, the exposure ledger, attribution.

Revision ID: 0002_loop
Revises: 0001_initial
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0002_loop"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0002_loop.sql")
