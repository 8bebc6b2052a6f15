"""Trained models as tables: model_runs, factors, item neighbours, collaborative, predict.

Revision ID: 0002_models
Revises: 0001_initial
Create Date: 2026-11-28
"""

from app.migrations.frozen import apply

revision = "0002_models"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0002_models.sql")
