"""What an evaluation reads: events (and items) copied out of a database
read-only, or parsed from files by the importer's own validation; and the
(user, item) pairs that splits cut.

Event frames have columns user_id, product_id, event_type, value, ts (UTC
timestamps, NaT when the file has no time), event_id: external ids as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg.rows import dict_row

from app.db import queries
from app.importing import events as importing
from app.importing import reader
from app.importing.formats import FileFormat

EPOCH = pd.Timestamp(0, tz="UTC")
EVENT_COLUMNS = ["user_id", "product_id", "event_type", "value", "ts", "event_id"]


@dataclass(frozen=True)
class Source:
    """Events to split, plus where the catalogue comes from (a list of item
    dicts copied from a database, or an item file read by `recsys import items`)."""

    label: str
    events: pd.DataFrame
    items: list[dict[str, Any]] = field(default_factory=list)
    items_file: tuple[Path, FileFormat] | None = None
    event_types: list[dict[str, Any]] = field(default_factory=list)
    # Types the file's format needs beyond the defaults (online-retail's return).
    extra_types: tuple[dict[str, Any], ...] = ()


class SourceError(ValueError):
    """The events cannot be evaluated (none, unknown types, no times...)."""


def from_database(url: str, label: str) -> Source:
    """Copy events, items and event types out of `url` in one read-only snapshot."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        try:
            rows = conn.execute(queries.get("evaluation_events")).fetchall()
            items = conn.execute(queries.get("evaluation_items")).fetchall()
            types = conn.execute(queries.get("evaluation_event_types")).fetchall()
        except psycopg.errors.UndefinedTable:
            raise SourceError(
                "the database has no recsys schema; import events or pass --events FILE"
            ) from None
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["value"] = frame["value"].astype("float64")
    return Source(label, _checked(frame), list(items), None, list(types))


def from_file(path: Path, fmt: FileFormat, items: tuple[Path, FileFormat] | None = None) -> Source:
    """Events from a delimited file, each row validated as `recsys import events` does."""
    parts = [importing.to_events(chunk, fmt) for chunk in reader.chunks(path, fmt)]
    if not parts:
        raise SourceError(f"{path}: no events")
    frame = pd.concat(parts, ignore_index=True).reindex(columns=EVENT_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"]).astype("float64")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    return Source(str(path), _checked(frame), [], items, [], fmt.event_types)


def _checked(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        raise SourceError("there are no events to evaluate")
    return frame


def pairs(events: pd.DataFrame, event_types: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (user, item): user_id, item_id, value (the interaction score
    the trigger keeps: the sum of weight x value-or-1), ts (epoch seconds of
    the first event, what splits order by), rating (the latest rated value,
    NaN when none). Pairs whose score is not positive are left out."""
    types = {t["name"]: t for t in event_types}
    unknown = sorted(set(events["event_type"]) - set(types))
    if unknown:
        known = ", ".join(types)
        raise SourceError(f"unknown event type(s) {', '.join(unknown)}; known: {known}")
    weight = events["event_type"].map(lambda t: types[t]["weight"]).astype("float64")
    uses_value = events["event_type"].map(lambda t: types[t]["uses_value"]).astype(bool)
    scored = events.assign(
        score=np.where(uses_value, weight * events["value"].fillna(0), weight),
        epoch=(events["ts"] - EPOCH).dt.total_seconds(),
        rated=events["value"].where(uses_value),
    )
    grouped = scored.sort_values("ts", kind="stable").groupby(["user_id", "product_id"])
    out = grouped.agg(value=("score", "sum"), ts=("epoch", "min"), rating=("rated", "last"))
    out = out.reset_index().rename(columns={"product_id": "item_id"})
    return out[out["value"] > 0].reset_index(drop=True)


def events_of(events: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """The events of the (user, item) pairs in `chosen`."""
    keys = pd.MultiIndex.from_frame(chosen[["user_id", "item_id"]])
    mine = pd.MultiIndex.from_frame(events[["user_id", "product_id"]])
    return events[mine.isin(keys)]
