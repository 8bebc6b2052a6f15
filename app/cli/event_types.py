"""`recsys event-types list|set|delete`: event types are data."""

from __future__ import annotations

import click
from psycopg import errors as pg

from app.cli.common import Failure, run_db
from app.db import event_types as db_types


@click.group("event-types")
def event_types() -> None:
    """Event types: list, set (create or change), delete."""


@event_types.command("list")
def list_types() -> None:
    """Every event type: kind, weight, value, conversion, and its events."""
    rows = run_db(db_types.list_types)
    click.echo(f"{'name':<16} {'kind':<9} {'weight':>8}  value  conversion  {'events':>10}")
    for r in rows:
        click.echo(
            f"{r['name']:<16} {r['kind']:<9} {r['weight']:>8g}  {_yes(r['uses_value']):<5}"
            f"  {_yes(r['conversion']):<10}  {r['events']:>10,}"
        )


@event_types.command("set")
@click.argument("name")
@click.option("--kind", type=click.Choice(db_types.KINDS), default="positive", show_default=True)
@click.option("--weight", type=click.FloatRange(min=0), default=1.0, show_default=True)
@click.option(
    "--uses-value", is_flag=True, help="Events need a value, which multiplies the weight."
)
@click.option("--conversion", is_flag=True, help="A purchase: never offered again to the user.")
def set_type(name: str, kind: str, weight: float, uses_value: bool, conversion: bool) -> None:
    """Create NAME, or change it (rebuilding what its events built)."""
    event_type = db_types.EventType(name, kind, weight, uses_value, conversion)
    try:
        put = run_db(db_types.put_type, event_type)
    except (pg.CheckViolation, pg.InvalidTextRepresentation) as error:
        raise Failure(f"event type {name!r} rejected: {error.diag.message_primary}") from None
    if put.created:
        click.echo(f"created event type {name} ({kind}, weight {weight:g})")
    else:
        click.echo(f"event type {name} set; {put.rebuilt_users} users' aggregates rebuilt")


@event_types.command("delete")
@click.argument("name")
def delete_type(name: str) -> None:
    """Delete NAME (refused while events use it)."""
    try:
        dropped = run_db(db_types.drop_type, name)
    except pg.DependentObjectsStillExist as error:
        raise Failure(f"{error.diag.message_primary}; {error.diag.message_hint}") from None
    if not dropped:
        raise Failure(f"unknown event type {name!r}")
    click.echo(f"deleted event type {name}")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
