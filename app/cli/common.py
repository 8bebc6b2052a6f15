"""What every command shares: settings, the database, one-line failures."""

from __future__ import annotations

import click

from app.config import Settings
from app.db import migrate
from app.db import url as db_url


class Failure(click.ClickException):
    """One clear line on stderr, exit status 1."""


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as error:
        raise Failure(str(error)) from None


def database(upgrade: bool = True) -> str:
    config = settings()
    url = db_url.resolve(config)
    if upgrade:
        migrate.upgrade(url)
        migrate.apply_settings(url, config)
    return url
