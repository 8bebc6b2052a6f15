"""Refreshed neighbour lists: behavior_based reads ranked arrays, not every pair.

Revision ID: 0004_neighbor_lists
Revises: 0003_content_hybrid
Create Date: 2026-11-28
"""

from app.migrations.frozen import apply

revision = "0004_neighbor_lists"
down_revision = "0003_content_hybrid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0004_neighbor_lists.sql")
