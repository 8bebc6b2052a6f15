"""case=trending and case=latest: recsys.trending, recsys.latest, settings.trending_window.

Revision ID: 0005_trending
Revises: 0004_rules
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0005_trending"
down_revision = "0004_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0005_trending.sql")
