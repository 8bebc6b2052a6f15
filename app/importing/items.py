"""`recsys import items`: file -> item dicts -> recsys.upsert_items, one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg.types.json import Jsonb
from tqdm import tqdm

from app.config import MAX_ID
from app.db import queries
from app.importing import reader
from app.importing.formats import ML100K_GENRES, FileFormat
from app.importing.reader import RowError

BATCH = 5_000
NO_GENRES = "(no genres listed)"


def import_items(url: str, path: Path, fmt: FileFormat, progress: bool | None = None) -> int:
    """Create or replace every item in the file; returns how many."""
    total = reader.count_rows(path, fmt)
    done = 0
    imported: list[str] = []
    with (
        psycopg.connect(url) as conn,
        tqdm(
            total=total, unit="items", desc="import items", disable=progress is False or None
        ) as bar,
    ):
        for chunk in _item_chunks(path, fmt):
            for batch in _batches(list(to_items(chunk, fmt))):
                conn.execute(queries.get("upsert_items"), {"items": Jsonb(batch)})
                imported += [item["product_id"] for item in batch]
                done += len(batch)
                bar.update(len(batch))
        # Same transaction: imported items are embedded when a content run is active.
        from app.training import embeddings  # scikit-learn: only when importing items

        embeddings.embed(conn, imported)
        conn.commit()
    return done


def _item_chunks(path: Path, fmt: FileFormat) -> Iterator[pd.DataFrame]:
    if not fmt.grouped:
        yield from reader.chunks(path, fmt)
        return
    chunks = list(reader.chunks(path, fmt))
    if chunks:
        yield grouped(pd.concat(chunks, ignore_index=True))


def grouped(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per item id of a transaction log: the first line it appears on,
    its most frequent title, its median price and its countries ('|'-joined)."""
    name = {role: reader.column_name(rows, role) for role in ("id", "title", "price", "country")}
    assert name["id"] is not None
    ids = rows[name["id"]].str.strip()
    out = rows.groupby(ids, sort=False).agg(line=("line", "min")).reset_index()
    if name["title"]:
        titles = rows[name["title"]].str.strip()
        counted = titles[titles != ""].groupby(ids).value_counts()
        best = counted.groupby(level=0).head(1).reset_index(level=1).iloc[:, 0]
        out[name["title"]] = out[name["id"]].map(best).fillna("")
    if name["price"]:
        prices = pd.to_numeric(rows[name["price"]], errors="coerce")
        out[name["price"]] = out[name["id"]].map(prices[prices > 0].groupby(ids).median())
    if name["country"]:
        countries = rows[name["country"]].str.strip()
        joined = countries[countries != ""].groupby(ids).agg(lambda c: "|".join(sorted(set(c))))
        out[name["country"]] = out[name["id"]].map(joined).fillna("")
    return out.sort_values("line").reset_index(drop=True)


def to_items(chunk: pd.DataFrame, fmt: FileFormat) -> Iterator[dict[str, Any]]:
    ids = reader.column(chunk, "id")
    assert ids is not None
    for position, product_id in enumerate(ids.str.strip()):
        line = int(chunk["line"].iloc[position])
        if not product_id or len(product_id) > MAX_ID:
            raise RowError(line, f"item id must be 1-{MAX_ID} characters")
        row = chunk.iloc[position]
        yield {
            "product_id": product_id,
            "title": _cell(chunk, row, "title"),
            "description": _cell(chunk, row, "description"),
            "categories": _categories(chunk, row, fmt),
            "attributes": _attributes(chunk, row),
        }


def _cell(chunk: pd.DataFrame, row: pd.Series, role: str) -> str | None:
    name = reader.column_name(chunk, role)
    value = str(row[name]).strip() if name else ""
    return value or None


def _categories(chunk: pd.DataFrame, row: pd.Series, fmt: FileFormat) -> list[str]:
    if fmt.genre_flags:
        # The 19 columns after the named ones are 0/1 flags in u.genre order.
        flags = list(row.iloc[len(fmt.columns) : len(fmt.columns) + len(ML100K_GENRES)])
        return [g for g, flag in zip(ML100K_GENRES, flags, strict=False) if str(flag) == "1"]
    raw = _cell(chunk, row, "categories") or ""
    return [c.strip() for c in raw.split(fmt.category_sep) if c.strip() and c.strip() != NO_GENRES]


def _attributes(chunk: pd.DataFrame, row: pd.Series) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for role in ("release_date", "imdb_url"):
        value = _cell(chunk, row, role)
        if value:
            attrs[role] = value
    price = reader.column_name(chunk, "price")
    if price and pd.notna(pd.to_numeric(row[price], errors="coerce")):
        attrs["price"] = round(float(row[price]), 4)
    countries = _cell(chunk, row, "country")
    if countries:
        attrs["countries"] = countries.split("|")
    return attrs


def _batches(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
