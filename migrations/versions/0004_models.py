"""Models: similar items fall back to content and popular items (recsys.similar_or_fallback).

Revision ID: 0004_models
Revises: 0003_experiments
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0004_models"
down_revision = "0003_experiments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0004_models.sql")
