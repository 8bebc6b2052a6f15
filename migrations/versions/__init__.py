"""Alembic revisions (alembic skips this file), installed as `app.migrations.versions`."""
