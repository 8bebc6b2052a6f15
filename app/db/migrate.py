"""Bring a database to the newest schema with alembic."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config

from app.config import Settings
from app.db import queries

ROOT = Path(__file__).resolve().parents[2]


def upgrade(url: str, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


def apply_settings(url: str, settings: Settings) -> None:
    """Copy REC_* tunables that the SQL reads into recsys.settings."""
    if settings.pair_window is None:
        return
    with psycopg.connect(url) as conn:
        conn.execute(queries.get("set_pair_window"), {"pair_window": settings.pair_window})
