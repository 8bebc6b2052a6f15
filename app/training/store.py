"""A run's tables: created 'training', written with COPY, then finished and
activated in the same transaction, so readers never see half a model."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from app.db import queries
from app.training.neighbors import Neighbors
from app.training.surprise_models import Factors

Conn = psycopg.Connection[tuple[Any, ...]]


def create_run(conn: Conn, kind: str, role: str, params: dict[str, Any]) -> int:
    """Insert a 'training' run; the caller commits so `recsys models` shows it."""
    row = conn.execute(
        queries.get("create_run"), {"kind": kind, "role": role, "params": Jsonb(params)}
    ).fetchone()
    assert row is not None
    return int(row[0])


def set_choice(conn: Conn, run_id: int, kind: str, params: dict[str, Any]) -> None:
    """The model and params validation chose for a run created under another name."""
    conn.execute(
        queries.get("set_run_choice"), {"run_id": run_id, "kind": kind, "params": Jsonb(params)}
    )


def vectors(matrix: np.ndarray) -> list[str]:
    """pgvector's text form, '[x,y,...]', one per row."""
    return ["[" + ",".join(f"{v:.7g}" for v in row) + "]" for row in matrix]


def _copy(conn: Conn, name: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False)
    with conn.cursor().copy(queries.get(name)) as copy:
        copy.write(buffer.getvalue())


def write_factors(conn: Conn, run_id: int, model: Factors) -> None:
    for name, ids, bias, factors in (
        ("copy_user_factors", model.index.user_ids, model.user_bias, model.user_factors),
        ("copy_item_factors", model.index.item_ids, model.item_bias, model.item_factors),
    ):
        frame = pd.DataFrame(
            {"run_id": run_id, "id": ids, "bias": bias.astype(np.float32), "f": vectors(factors)}
        )
        _copy(conn, name, frame)
    # Built before activation: the first query of the new run finds its index.
    conn.execute(queries.get("index_item_factors"), {"run_id": run_id})


def write_neighbors(conn: Conn, run_id: int, model: Neighbors) -> None:
    _copy(conn, "copy_item_neighbors", model.frame(run_id))


def finish(
    conn: Conn, run_id: int, metrics: dict[str, Any], data: dict[str, Any], duration_s: float
) -> None:
    """Mark the run ready and make it its role's active run (caller commits)."""
    conn.execute(
        queries.get("finish_run"),
        {
            "run_id": run_id,
            "metrics": Jsonb(metrics),
            "data": Jsonb(data),
            "duration_s": duration_s,
        },
    )
    # Fresh statistics: the planner sizes the new run's probes correctly at once.
    conn.execute(queries.get("analyze_models"))
    activate(conn, run_id)


def activate(conn: Conn, run_id: int) -> tuple[int, str, str]:
    """(id, kind, role) of the run now active; raises for unknown or unready runs."""
    row = conn.execute(queries.get("activate_run"), {"run_id": run_id}).fetchone()
    assert row is not None
    return int(row[0]), str(row[1]), str(row[2])


def fail(conn: Conn, run_id: int, error: str, duration_s: float) -> None:
    conn.execute(
        queries.get("fail_run"), {"run_id": run_id, "error": error, "duration_s": duration_s}
    )


def prune(conn: Conn, role: str, keep: int) -> list[int]:
    rows = conn.execute(queries.get("prune_runs"), {"role": role, "keep": keep}).fetchall()
    return [int(r[0]) for r in rows]


def list_runs(conn: Conn, limit: int = 50) -> list[dict[str, Any]]:
    cur = conn.execute(queries.get("list_runs"), {"limit": limit})
    names = [c.name for c in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
