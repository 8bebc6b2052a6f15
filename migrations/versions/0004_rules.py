"""Business rules, scenarios and availability windows: recsys.ranked, recsys.scenarios.

Revision ID: 0004_rules
Revises: 0003_experiments
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0004_rules"
down_revision = "0003_experiments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0004_rules.sql")
