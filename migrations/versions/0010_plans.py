"""Plans: behavior_based with one generic plan per session, cross_similarities planned per call.

Revision ID: 0010_plans
Revises: 0009_bulk
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0010_plans"
down_revision = "0009_bulk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0010_plans.sql")
