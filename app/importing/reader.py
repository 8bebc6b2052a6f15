"""Read a delimited file in chunks, each row tagged with its line number."""

from __future__ import annotations

import csv
import gzip
import itertools
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from app.importing.formats import FileFormat

CHUNK_ROWS = 100_000


class RowError(ValueError):
    """A row of the file is malformed; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def count_rows(path: Path, fmt: FileFormat) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        lines = sum(1 for _ in f)
    return max(lines - int(fmt.header), 0)


def chunks(path: Path, fmt: FileFormat) -> Iterator[pd.DataFrame]:
    """DataFrames of text cells named by role, plus `line`; extra columns kept by position."""
    names = [f"{role}#{i}" for i, role in enumerate(fmt.columns)]
    first_line = 2 if fmt.header else 1
    reader = pd.read_csv(
        path,
        sep=fmt.sep,
        header=None,
        skiprows=int(fmt.header),
        dtype=str,
        keep_default_na=False,
        na_values=[],
        encoding=fmt.encoding,
        chunksize=CHUNK_ROWS,
        engine="c",
        quoting=csv.QUOTE_MINIMAL if fmt.sep == "," else csv.QUOTE_NONE,
        on_bad_lines="error",
        index_col=False,
    )
    offset = 0
    try:
        for frame in reader:
            frame = _name_columns(frame, names, first_line + offset)
            frame["line"] = range(first_line + offset, first_line + offset + len(frame))
            offset += len(frame)
            yield frame
    except pd.errors.ParserError as error:
        raise RowError(_parser_line(error, fmt), f"malformed row ({error})") from None


def _name_columns(frame: pd.DataFrame, names: list[str], first_line: int) -> pd.DataFrame:
    if frame.shape[1] < len(names):
        raise RowError(first_line, f"expected {len(names)} columns, found {frame.shape[1]}")
    renamed = dict(zip(frame.columns[: len(names)], names, strict=True))
    return frame.rename(columns=renamed)


def _parser_line(error: Exception, fmt: FileFormat) -> int:
    # pandas says "... in line N, saw M"; N counts physical lines read by the parser.
    words = str(error).replace(",", " ").split()
    for before, word in itertools.pairwise(words):
        if before == "line" and word.isdigit():
            return int(word) + int(fmt.header)
    return 0


def column_name(frame: pd.DataFrame, role: str) -> str | None:
    for name in frame.columns:
        if isinstance(name, str) and name.split("#")[0] == role:
            return name
    return None


def column(frame: pd.DataFrame, role: str) -> pd.Series | None:
    """The cells of the column with this role, or None when the format has none."""
    name = column_name(frame, role)
    return frame[name] if name else None
