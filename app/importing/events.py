"""`recsys import events`: file -> validated chunks -> COPY -> one INSERT.

Into a shop without events the INSERT skips the trigger and every count is built
set-based afterwards (recsys.bulk_ingest_events, sql/16_bulk.sql); otherwise it
is one trigger call that merges into what is stored (`path="trigger"` forces it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import errors as pg
from tqdm import tqdm

from app.config import MAX_ID
from app.db import queries
from app.importing import reader
from app.importing.formats import FileFormat
from app.importing.reader import RowError

STAGED = ["line", "user_id", "product_id", "event_type", "value", "ts", "event_id"]

# auto: the bulk path when the shop has no events, else the trigger; trigger: always the trigger.
PATHS = ("auto", "trigger")


@dataclass(frozen=True)
class Report:
    rows: int
    inserted: int
    duplicates: int
    # True when the bulk path built the counts (an empty shop), False for the trigger.
    bulk: bool = False


def import_events(
    url: str, path: Path, fmt: FileFormat, progress: bool | None = None, mode: str = "auto"
) -> Report:
    """Import every row or none: the file is one transaction."""
    if mode not in PATHS:
        raise ValueError(f"mode must be one of {', '.join(PATHS)}, got {mode!r}")
    total = reader.count_rows(path, fmt)
    with (
        psycopg.connect(url) as conn,
        tqdm(
            total=total, unit="rows", desc="import events", disable=progress is False or None
        ) as bar,
    ):
        conn.execute(queries.get("create_event_staging"))
        for event_type in fmt.event_types:
            conn.execute(queries.get("ensure_event_type"), event_type)
        for chunk in reader.chunks(path, fmt):
            _copy(conn, to_events(chunk, fmt))
            bar.update(len(chunk))
        bar.set_description("updating counts")
        inserted, duplicates, bulk = _ingest(conn, mode)
        conn.commit()
    return Report(rows=total, inserted=inserted, duplicates=duplicates, bulk=bulk)


def to_events(chunk: pd.DataFrame, fmt: FileFormat) -> pd.DataFrame:
    """Validate one chunk; raise RowError naming the first bad line."""
    if fmt.skip_anonymous:
        users = reader.column(chunk, "user")
        assert users is not None
        chunk = chunk[users.str.strip() != ""]
    out = pd.DataFrame({"line": chunk["line"]})
    out["user_id"] = _required_text(chunk, "user")
    out["product_id"] = _required_text(chunk, "item")
    types = reader.column(chunk, "type")
    out["event_type"] = types.str.strip() if types is not None else fmt.event_type
    invoices = reader.column(chunk, "invoice")
    if invoices is not None:
        invoices = invoices.str.strip()
        _reject(chunk, invoices == "", "empty invoice")
        out["event_type"] = invoices.str.startswith("C").map({True: "return", False: "purchase"})
    _reject(chunk, out["event_type"] == "", "empty event type")
    out["value"] = _numbers(chunk, reader.column(chunk, "value"))
    out["ts"] = _times(chunk, reader.column(chunk, "time"), fmt.time_unit)
    keys = reader.column(chunk, "event_id")
    if keys is not None:
        keys = keys.str.strip()
        _reject(chunk, keys.str.len() > MAX_ID, f"event id longer than {MAX_ID} characters")
    out["event_id"] = keys.replace("", None) if keys is not None else None
    if invoices is not None and keys is None:
        # The invoice kept for baskets; the line keeps repeated lines apart.
        out["event_id"] = invoices + "/" + chunk["line"].astype(str)
    return out


def _required_text(chunk: pd.DataFrame, role: str) -> pd.Series:
    cells = reader.column(chunk, role)
    assert cells is not None
    cells = cells.str.strip()
    _reject(chunk, cells == "", f"empty {role} id")
    _reject(chunk, cells.str.len() > MAX_ID, f"{role} id longer than {MAX_ID} characters")
    return cells


def _numbers(chunk: pd.DataFrame, cells: pd.Series | None) -> pd.Series | None:
    if cells is None:
        return None
    values = pd.to_numeric(cells.str.strip().replace("", None), errors="coerce")
    _reject(chunk, values.isna() & (cells.str.strip() != ""), "value is not a number")
    return values


def _times(chunk: pd.DataFrame, cells: pd.Series | None, unit: str) -> pd.Series | None:
    if cells is None:
        return None
    cells = cells.str.strip()
    numeric = pd.to_numeric(cells, errors="coerce")
    if unit in ("s", "ms") or (unit == "auto" and numeric.notna().all()):
        times = pd.to_datetime(
            numeric, unit="ms" if unit == "ms" else "s", utc=True, errors="coerce"
        )
    else:
        times = pd.to_datetime(cells, utc=True, errors="coerce", format="ISO8601")
    _reject(chunk, times.isna(), "unparsable timestamp")
    return times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _reject(chunk: pd.DataFrame, bad: pd.Series, message: str) -> None:
    if bad.any():
        position = bad.to_numpy().nonzero()[0][0]
        raise RowError(int(chunk["line"].iloc[position]), message)


def _copy(conn: psycopg.Connection[tuple[object, ...]], events: pd.DataFrame) -> None:
    text = events.reindex(columns=STAGED).to_csv(sep="\t", header=False, index=False)
    with conn.cursor().copy(queries.get("copy_event_staging")) as copy:
        copy.write(text)


def _ingest(conn: psycopg.Connection[tuple[object, ...]], mode: str) -> tuple[int, int, bool]:
    query = "bulk_ingest_staged_events" if mode == "auto" else "ingest_staged_events"
    try:
        with conn.transaction():  # a savepoint: the staged rows survive a rejection
            row = conn.execute(queries.get(query)).fetchone()
    except pg.InvalidParameterValue as error:
        raise RowError(_line_of(conn, error), error.diag.message_primary or str(error)) from None
    assert row is not None
    bulk = bool(row[2]) if len(row) > 2 else False
    return int(row[0]), int(row[1]), bulk  # type: ignore[call-overload]


def _line_of(conn: psycopg.Connection[tuple[object, ...]], error: pg.Error) -> int:
    # The database reports the 0-based index in the batch; staged rows keep line order.
    index = int(error.diag.message_detail or 0)
    row = conn.execute(queries.get("staged_line"), {"index": index}).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]
