"""recsys.recommend takes content_based's attributes: the one dispatch the service calls.

Revision ID: 0007_recommend_attributes
Revises: 0006_popular_top_up
Create Date: 2026-12-02
"""

from migrations.frozen import apply

revision = "0007_recommend_attributes"
down_revision = "0006_popular_top_up"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply("0007_recommend_attributes.sql")
