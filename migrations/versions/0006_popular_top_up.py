"""One popular top-up function for every strategy.

Revision ID: 0006_popular_top_up
Revises: 0005_erasure_retention
Create Date: 2026-12-02
"""

from migrations.frozen import apply

revision = "0006_popular_top_up"
down_revision = "0005_erasure_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0006_popular_top_up.sql")
