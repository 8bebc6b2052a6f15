"""Anonymous sessions, user merge, similar users, bought-together baskets.

Revision ID: 0006_sessions
Revises: 0005_trending
Create Date: 2026-12-01
"""

from app.migrations.frozen import apply

revision = "0006_sessions"
down_revision = "0005_trending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0006_sessions.sql")
