"""Pairs: the trigger pairs each new item by an index range and a window array, not a self-join.

Revision ID: 0011_pairs
Revises: 0010_plans
Create Date: 2026-12-02
"""

from app.migrations.frozen import apply

revision = "0011_pairs"
down_revision = "0010_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0011_pairs.sql")
