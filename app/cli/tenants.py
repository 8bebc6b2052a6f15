"""`recsys tenants create|list|drop`: shops that share one deployment."""

from __future__ import annotations

import os
import secrets

import click

from app.cli.common import Failure, settings
from app.db import tenants
from app.db import url as db_url

SCOPES = ("read", "write", "admin")


@click.group("tenants")
def tenants_group() -> None:
    """Tenants: each one a shop of its own, in a database of its own (docs/tenants.md)."""


def _base() -> str:
    return db_url.resolve(settings())


@tenants_group.command()
@click.argument("name")
@click.option(
    "--password-env",
    metavar="VAR",
    default=None,
    help="Make the tenant's SQL role a login with the password in this variable (for psql).",
)
def create(name: str, password_env: str | None) -> None:
    """Create tenant NAME: its database, schema and SQL role; print keys for it."""
    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if not password:
            raise Failure(f"--password-env: {password_env} is not set")
    try:
        url = tenants.create(_base(), name, password)
    except tenants.TenantError as error:
        raise Failure(str(error)) from None
    click.echo(f"created tenant {name}: database and SQL role {tenants.dbname(url)}")
    click.echo(f"  psql: {url}" + ("" if password else " (the role is NOLOGIN: grant it)"))
    click.echo("  keys for REC_API_KEYS / REC_API_KEYS_FILE (restart the server to load them):")
    for scope in SCOPES:
        click.echo(f"  {secrets.token_urlsafe(24)}:{scope}@{name}")


@tenants_group.command("list")
def list_() -> None:
    """Every tenant besides the default one, by name."""
    for name in tenants.list_tenants(_base()):
        click.echo(name)


@tenants_group.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def drop(name: str, yes: bool) -> None:
    """Erase tenant NAME: its database (every event, item, count and model) and role."""
    if not yes:
        click.confirm(f"erase tenant {name} and everything of it?", abort=True)
    try:
        tenants.drop(_base(), name)
    except tenants.TenantError as error:
        raise Failure(str(error)) from None
    click.echo(f"dropped tenant {name}; remove its keys from REC_API_KEYS")
