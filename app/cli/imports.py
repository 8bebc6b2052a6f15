"""`recsys import events|items FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.cli.common import Failure, database
from app.importing import events, formats, items
from app.importing.reader import RowError

SEP = {"tab": "\t", "\\t": "\t", "comma": ",", "pipe": "|", "semicolon": ";"}


def file_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option("--preset", help="movielens-100k, movielens-csv or online-retail."),
            click.option("--sep", help="Field separator (a character, or tab/comma/pipe)."),
            click.option("--header/--no-header", default=None, help="First line names columns."),
            click.option("--columns", help="Comma-separated roles by position; '-' skips."),
            click.option("--encoding", help="File encoding (default utf-8)."),
        ]
    ):
        f = option(f)
    return f


def options(
    sep: str | None, header: bool | None, columns: str | None, encoding: str | None
) -> dict[str, Any]:
    return {
        "sep": SEP.get(sep, sep) if sep else None,
        "header": header,
        "columns": tuple(c.strip() for c in columns.split(",")) if columns else None,
        "encoding": encoding,
    }


@click.group("import")
def import_group() -> None:
    """Bulk-load events or items from a delimited file."""


@import_group.command("events")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@file_options
@click.option("--event-type", help="Type of every row when no 'type' column (default view).")
@click.option("--time-unit", type=click.Choice(["auto", "s", "ms", "iso"]), default=None)
@click.option(
    "--path",
    "mode",
    type=click.Choice(events.PATHS),
    default="auto",
    show_default=True,
    help="auto: bulk (counts built set-based, tables locked) when the shop has no events,"
    " else the trigger; trigger: always the trigger (no table locks).",
)
def import_events(
    path: Path,
    preset: str | None,
    event_type: str | None,
    time_unit: str | None,
    mode: str,
    **kw: Any,
) -> None:
    """Import events; roles: user, item, type, value, time, event_id.

    Every row or none is stored, in one transaction. Into a shop without events
    the counts are built set-based after the rows (the bulk path: events and the
    derived tables are locked, readers and writers wait until it commits);
    otherwise the trigger merges them into the stored counts.
    """
    try:
        fmt = formats.event_format(
            preset, event_type=event_type, time_unit=time_unit, **options(**kw)
        )
        report = events.import_events(database(), path, fmt, mode=mode)
    except (formats.FormatError, RowError) as error:
        raise Failure(f"{path}: {error}") from None
    how = "bulk path" if report.bulk else "trigger path"
    click.echo(f"{report.inserted} events imported, {report.duplicates} duplicates skipped ({how})")


@import_group.command("items")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@file_options
@click.option("--category-sep", help="Separator inside the categories column (default |).")
def import_items(path: Path, preset: str | None, category_sep: str | None, **kw: Any) -> None:
    """Import items; roles: id, title, description, categories."""
    try:
        fmt = formats.item_format(preset, category_sep=category_sep, **options(**kw))
        count = items.import_items(database(), path, fmt)
    except (formats.FormatError, RowError) as error:
        raise Failure(f"{path}: {error}") from None
    click.echo(f"{count} items imported")
