"""Bring a database to the newest schema with alembic."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app import resources


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration, built here rather than read from alembic.ini:
    the installed package has no repository root, and env.py needs only the URL.
    (The repository's alembic.ini serves `alembic` run by hand from a checkout.)"""
    config = Config()
    config.set_main_option("script_location", str(resources.directory(resources.MIGRATIONS)))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    return config


def head() -> str:
    """The newest revision id."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
