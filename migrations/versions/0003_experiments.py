"""Experiments: recsys.experiments and their arms, hash assignment, start and stop.

Revision ID: 0003_experiments
Revises: 0002_loop
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0003_experiments"
down_revision = "0002_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0003_experiments.sql")
