"""Training data read from the tables, and dense indexes for the models.

Frames have columns user_id, item_id (internal bigint ids), value, ts (epoch s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from scipy import sparse

from app.db import queries

COLUMNS = ["user_id", "item_id", "value", "ts"]


def read(conn: psycopg.Connection[tuple[object, ...]], name: str) -> pd.DataFrame:
    rows = conn.execute(queries.get(name)).fetchall()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype(
        {"user_id": "int64", "item_id": "int64", "value": "float64", "ts": "float64"}
    )


def ratings(conn: psycopg.Connection[tuple[object, ...]]) -> pd.DataFrame:
    """Explicit ratings: the latest value of each (user, item) with a rating."""
    return read(conn, "training_ratings")


def interactions(conn: psycopg.Connection[tuple[object, ...]]) -> pd.DataFrame:
    """Implicit feedback: the event-type-weighted score of each (user, item)."""
    return read(conn, "training_interactions")


@dataclass(frozen=True)
class Index:
    """Dense positions <-> internal ids; raw and dense ids are never mixed."""

    user_ids: np.ndarray
    item_ids: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Index:
        return cls(np.sort(frame["user_id"].unique()), np.sort(frame["item_id"].unique()))

    def users(self, ids: pd.Series | np.ndarray) -> np.ndarray:
        return np.searchsorted(self.user_ids, np.asarray(ids))

    def items(self, ids: pd.Series | np.ndarray) -> np.ndarray:
        return np.searchsorted(self.item_ids, np.asarray(ids))


def weights(values: pd.Series | np.ndarray, weighting: str) -> np.ndarray:
    """Implicit weight of an interaction score; mirrors recsys.neighbor_scores."""
    values = np.asarray(values, dtype=np.float64)
    if weighting == "binary":
        return np.ones_like(values)
    logged: np.ndarray = np.log1p(np.maximum(values, 0))
    return logged


def matrix(frame: pd.DataFrame, index: Index, weighting: str) -> sparse.csr_matrix:
    """The users x items matrix of implicit weights."""
    return sparse.csr_matrix(
        (
            weights(frame["value"], weighting),
            (index.users(frame["user_id"]), index.items(frame["item_id"])),
        ),
        shape=(len(index.user_ids), len(index.item_ids)),
    )
