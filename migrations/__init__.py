"""Alembic's environment and revisions, installed as `app.migrations`."""
