"""Runs of the content encoder (`--model content`, `semantic`) and of the hybrid
blend weights (`--model hybrid`): read, fit, write, activate in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg

from app.db import queries
from app.training import data, embeddings, store
from app.training.content import DEFAULT_DIMS, DEFAULT_WEIGHTS, TfidfEncoder
from app.training.hybrid import HybridWeights

CONTENT = ("content", "semantic")
HYBRID = "hybrid"


class NoData(Exception):
    """The tables hold nothing this model can learn from."""


def role_of(kind: str) -> str:
    return "hybrid" if kind == HYBRID else "content"


def default_params(kind: str, random_state: int, given: dict[str, Any]) -> dict[str, Any]:
    if kind == "content":
        base = {"dims": DEFAULT_DIMS, "weights": DEFAULT_WEIGHTS, "random_state": random_state}
        return {**base, **given}
    if kind == "semantic":
        return {**given}
    return {**HybridWeights(random_state=random_state).params(), **given}


def implicit_choice(url: str) -> dict[str, Any]:
    """{model, model_params} of the active implicit run; empty without one."""
    with psycopg.connect(url) as conn:
        row = conn.execute(queries.get("active_implicit_choice")).fetchone()
    return {"model": row[0], "model_params": row[1]} if row else {}


def has_text(conn: psycopg.Connection[Any]) -> bool:
    _, texts = embeddings.read_items(conn)
    conn.rollback()
    return any(not t.is_empty() for t in texts)


def read(url: str, kind: str) -> Any:
    """Content: every item's text. Hybrid: interactions and the current embeddings."""
    with psycopg.connect(url) as conn:
        if kind in CONTENT:
            _, texts = embeddings.read_items(conn)
            if not any(not t.is_empty() for t in texts):
                raise NoData(f"{kind}: no item has a title, description, category or attribute")
            return texts
        frame = data.interactions(conn)
        rows = conn.execute(queries.get("training_embeddings")).fetchall()
    if frame.empty:
        raise NoData(f"{kind}: no interactions to train on")
    return frame, {int(r[0]): np.asarray(r[1], dtype=np.float64) for r in rows}


def make(kind: str, params: dict[str, Any]) -> Any:
    if kind == "content":
        return TfidfEncoder(params["dims"], dict(params["weights"]), params["random_state"])
    if kind == "semantic":
        from app.training.semantic import SemanticEncoder, available

        missing = available()
        if missing:
            raise NoData(f"semantic: {missing}")
        return SemanticEncoder()
    hybrid = HybridWeights(**{k: v for k, v in params.items() if k not in ("weights", "switching")})
    return hybrid


def train(
    url: str,
    kind: str,
    role: str,
    params: dict[str, Any],
    inputs: Any,
    keep: int,
    step: Callable[[str], None],
) -> tuple[int, float, dict[str, Any], dict[str, Any]]:
    """One run: (run id, seconds, metrics, data). A failure marks it 'failed' and
    leaves the active run as it was."""
    with psycopg.connect(url) as conn:
        run_id = store.create_run(conn, kind, role, params)
        conn.commit()
        started = time.perf_counter()
        try:
            step(f"{kind}: fitting")
            model = make(kind, params)
            metrics, size = fit_and_write(conn, run_id, kind, model, inputs, step)
            took = round(time.perf_counter() - started, 3)
            store.finish(conn, run_id, metrics, size, took)
            store.prune(conn, role, keep)
            conn.commit()
        except BaseException as error:
            conn.rollback()
            took = round(time.perf_counter() - started, 3)
            store.fail(conn, run_id, f"{type(error).__name__}: {error}", took)
            conn.commit()
            raise
    return run_id, took, metrics, size


def fit_and_write(
    conn: store.Conn, run_id: int, kind: str, model: Any, inputs: Any, step: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    if kind in CONTENT:
        model.fit(inputs)
        step(f"{kind}: embedding every item (run {run_id})")
        size = embeddings.write(conn, run_id, model)
        coverage = size["embedded"] / size["items"] if size["items"] else 0.0
        return {"coverage": coverage}, size
    frame, vectors = inputs
    model.fit(frame, vectors, step)
    # A bucket without validation users keeps the documented defaults, written
    # out so the run says what it serves.
    row = conn.execute(queries.get("default_hybrid_weights")).fetchone()
    model.weights = {**(row[0] if row else {}), **model.weights}
    conn.execute(
        queries.get("set_run_params"),
        {"run_id": run_id, "params": psycopg.types.json.Jsonb(model.params())},
    )
    if "popularity" in model.metrics:
        days = model.metrics["popularity"]["half_life_days"]
        conn.execute(queries.get("set_popularity_half_life"), {"days": days})
    size = {"users": int(frame["user_id"].nunique()), "rows": len(frame), "embedded": len(vectors)}
    longest = model.metrics.get("20+", {})
    headline = {"ndcg_at_10": longest["ndcg_at_10"]} if "ndcg_at_10" in longest else {}
    return {**headline, "buckets": model.metrics}, size
