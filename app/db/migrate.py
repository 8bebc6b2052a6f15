"""Bring a database to the newest schema with alembic."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.config import Settings
from app.db import queries

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def head() -> str:
    """The newest revision id."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def apply_settings(url: str, settings: Settings) -> None:
    """Copy REC_* tunables that the SQL reads into recsys.settings."""
    if settings.pair_window is None:
        return
    with psycopg.connect(url) as conn:
        conn.execute(queries.get("set_pair_window"), {"pair_window": settings.pair_window})
