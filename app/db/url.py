"""Which database to use: REC_DATABASE_URL, else the embedded server."""

from __future__ import annotations

from app.config import Settings
from app.db import embedded


def resolve(settings: Settings) -> str:
    """A libpq URL for the configured database, starting the embedded one if needed."""
    if settings.database_url:
        return settings.database_url
    return embedded.start(settings.data_dir)
