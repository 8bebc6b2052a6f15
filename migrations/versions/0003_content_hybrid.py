"""Content embeddings in pgvector and the hybrid recommenders (adaptive, switching).

Revision ID: 0003_content_hybrid
Revises: 0002_models
Create Date: 2026-11-28
"""

from app.migrations.frozen import apply

revision = "0003_content_hybrid"
down_revision = "0002_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0003_content_hybrid.sql")
