"""Cross-occurrence: views and carts that predict purchases (cross_pairs, then_bought).

Revision ID: 0008_cross
Revises: 0007_models
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0008_cross"
down_revision = "0007_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0008_cross.sql")
