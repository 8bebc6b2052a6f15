"""Models: similar items fall back to content and popular items (recsys.similar_or_fallback).

Revision ID: 0007_models
Revises: 0006_sessions
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0007_models"
down_revision = "0006_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0007_models.sql")
