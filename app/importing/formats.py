"""How a delimited file maps onto events or items, and the built-in presets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

EVENT_ROLES = {"user", "item", "type", "value", "time", "event_id", "invoice", "-"}
ITEM_ROLES = {"id", "title", "description", "categories", "price", "country", "-"}
# A return (online-retail's cancelled invoice lines): neutral, so it is counted
# (item_type_stats) and changes no preference; the purchase it undoes still counts.
RETURN = {"name": "return", "kind": "neutral", "weight": 0.0}


class FormatError(ValueError):
    """The options describe no valid file format."""


@dataclass(frozen=True)
class FileFormat:
    """Columns by position (`-` skips one); `header` skips the first line."""

    columns: tuple[str, ...]
    sep: str = ","
    header: bool = False
    encoding: str = "utf-8"
    event_type: str | None = None  # constant type when no `type` column
    time_unit: str = "auto"  # auto | s | ms | iso
    category_sep: str = "|"
    genre_flags: bool = False  # MovieLens 100K u.item: 19 0/1 genre columns
    # Rows without a user (an anonymous sale) are left out instead of rejected.
    skip_anonymous: bool = False
    # Items repeat on many rows (a transaction log): one item per id, with its
    # most frequent title, median price and every country it sold to.
    grouped: bool = False
    # Event types the format's rows use, created by the import when missing.
    event_types: tuple[dict[str, Any], ...] = ()

    def with_options(self, **options: Any) -> FileFormat:
        return replace(self, **{k: v for k, v in options.items() if v is not None})


EVENT_PRESETS = {
    "movielens-100k": FileFormat(
        columns=("user", "item", "value", "time"), sep="\t", event_type="rating", time_unit="s"
    ),
    "movielens-csv": FileFormat(
        columns=("user", "item", "value", "time"),
        sep=",",
        header=True,
        event_type="rating",
        time_unit="s",
    ),
    # UCI Online Retail: InvoiceNo,StockCode,Description,Quantity,InvoiceDate,
    # UnitPrice,CustomerID,Country. A line is a purchase, or a return when the
    # invoice starts with C; event_id is "invoice/line", so a basket is the
    # events whose event_key starts with the same invoice.
    "online-retail": FileFormat(
        columns=("invoice", "item", "-", "-", "time", "-", "user", "-"),
        sep=",",
        header=True,
        time_unit="iso",
        skip_anonymous=True,
        event_types=(RETURN,),
    ),
}

ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)

ITEM_PRESETS = {
    "movielens-100k": FileFormat(
        columns=("id", "title", "release_date", "-", "imdb_url"),
        sep="|",
        encoding="latin-1",
        genre_flags=True,
    ),
    "movielens-csv": FileFormat(columns=("id", "title", "categories"), sep=",", header=True),
    # The same file as its events: the description is the item's title.
    "online-retail": FileFormat(
        columns=("-", "id", "title", "-", "-", "price", "-", "country"),
        sep=",",
        header=True,
        grouped=True,
    ),
}


def check(fmt: FileFormat, roles: set[str], required: set[str]) -> FileFormat:
    unknown = [c for c in fmt.columns if c not in roles and not fmt.genre_flags]
    if unknown:
        raise FormatError(f"unknown column role(s) {', '.join(unknown)}; use {sorted(roles)}")
    missing = required - set(fmt.columns)
    if missing:
        raise FormatError(f"--columns must name {', '.join(sorted(missing))}")
    named = [c for c in fmt.columns if c != "-"]
    if len(named) != len(set(named)):
        raise FormatError("a column role appears twice in --columns")
    return fmt


def event_format(preset: str | None, **options: Any) -> FileFormat:
    base = _preset(EVENT_PRESETS, preset) or FileFormat(columns=("user", "item", "type"))
    fmt = check(base.with_options(**options), EVENT_ROLES, {"user", "item"})
    if "invoice" in fmt.columns and "type" in fmt.columns:
        raise FormatError("--columns may name invoice or type, not both")
    if "type" not in fmt.columns and fmt.event_type is None and "invoice" not in fmt.columns:
        fmt = replace(fmt, event_type="view")
    return fmt


def item_format(preset: str | None, **options: Any) -> FileFormat:
    base = _preset(ITEM_PRESETS, preset) or FileFormat(columns=("id", "title"))
    return check(base.with_options(**options), ITEM_ROLES | {"release_date", "imdb_url"}, {"id"})


def _preset(presets: dict[str, FileFormat], name: str | None) -> FileFormat | None:
    if name is None:
        return None
    if name not in presets:
        raise FormatError(f"unknown preset {name!r}; choose from {', '.join(presets)}")
    return presets[name]
