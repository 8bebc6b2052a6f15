"""Erasure of a user and retention of events, with the aggregates kept exact.

Revision ID: 0005_erasure_retention
Revises: 0004_neighbor_lists
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0005_erasure_retention"
down_revision = "0004_neighbor_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0005_erasure_retention.sql")
