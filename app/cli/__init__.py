"""The `recsys` command."""

from __future__ import annotations

import logging

import click

from app.cli.bench import bench
from app.cli.common import database, settings
from app.cli.db import db
from app.cli.demo import demo
from app.cli.evaluate import evaluate
from app.cli.event_types import event_types
from app.cli.experiments import experiments
from app.cli.imports import import_group
from app.cli.models import models, train
from app.cli.scenarios import scenarios
from app.cli.tenants import tenants_group
from app.cli.users import users
from app.config import SERVERS
from app.db import tenants


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.option(
    "--tenant",
    default=None,
    metavar="NAME",
    help="Work on this tenant's shop (default REC_TENANT, else the default tenant).",
)
def main(verbose: bool, tenant: str | None) -> None:
    """recsys: real-time recommendations whose state lives in PostgreSQL."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default=None, help="Address to bind (default REC_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default REC_PORT or 5000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the schema on start.")
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    default=None,
    help="The ASGI server (default REC_SERVER or uvicorn, the fastest measured).",
)
def serve(
    host: str | None, port: int | None, workers: int, no_migrate: bool, server: str | None
) -> None:
    """Serve the HTTP API (upgrading the schema first)."""
    config = settings()
    # The app applies the tunables itself on start (create_app), migrated or not.
    if config.tenant != tenants.DEFAULT:
        raise click.UsageError("serve answers every tenant, each request its key's: drop --tenant")
    url = database(
        upgrade=config.migrate_on_start and not no_migrate, apply_tunables=False, every_tenant=True
    )
    from app import server as runner

    runner.run(url, host or config.host, port or config.port, workers, server)


main.add_command(db)
main.add_command(import_group)
main.add_command(demo)
main.add_command(train)
main.add_command(models)
main.add_command(users)
main.add_command(event_types)
main.add_command(evaluate)
main.add_command(bench)
main.add_command(experiments)
main.add_command(scenarios)
main.add_command(tenants_group)
