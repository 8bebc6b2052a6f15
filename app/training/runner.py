"""`recsys train`: read the tables, validate, fit, write a run, activate it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import psycopg
from tqdm import tqdm

from app.training import content_runs, data, store, validation
from app.training.neighbors import EASE, EASE_LAMBDA, EASE_MAX_ITEMS, N_NEIGHBORS, ItemKNN
from app.training.surprise_models import DEFAULTS, MatrixFactorization

log = logging.getLogger(__name__)

EXPLICIT = ("svd", "svdpp")
IMPLICIT = ("ease", "item_knn")
CONTENT = content_runs.CONTENT
HYBRID = content_runs.HYBRID
MODELS = (*EXPLICIT, *IMPLICIT, *CONTENT, HYBRID)
KEEP_RUNS = 3


NoData = content_runs.NoData


@dataclass(frozen=True)
class Options:
    validate: bool = True
    keep: int = KEEP_RUNS
    random_state: int = 0
    progress: bool = True
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    run_id: int
    kind: str
    role: str
    duration_s: float
    metrics: dict[str, Any]
    data: dict[str, Any]


def role_of(kind: str) -> str:
    if kind in CONTENT or kind == HYBRID:
        return content_runs.role_of(kind)
    return "explicit" if kind in EXPLICIT else "implicit"


def default_params(kind: str, options: Options) -> dict[str, Any]:
    given = options.params.get(kind, {})
    if kind in CONTENT or kind == HYBRID:
        return content_runs.default_params(kind, options.random_state, given)
    if kind in EXPLICIT:
        return {**DEFAULTS[kind], "random_state": options.random_state, **given}
    # ln(1 + weighted score): a purchase counts more than a view, with diminishing
    # returns; on ml-100k it also ranked better than binary (docs/models.md).
    base = {"n_neighbors": N_NEIGHBORS, "weighting": "log"}
    return {**base, "lam": EASE_LAMBDA, **given} if kind == "ease" else {**base, **given}


def make_model(kind: str, params: dict[str, Any]) -> Any:
    if kind in EXPLICIT:
        rest = {k: v for k, v in params.items() if k != "random_state"}
        return MatrixFactorization(kind, params.get("random_state", 0), rest)
    return EASE(**params) if kind == "ease" else ItemKNN(**params)


def read_frame(url: str, kind: str) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        frame = data.ratings(conn) if kind in EXPLICIT else data.interactions(conn)
    if frame.empty:
        what = "ratings (events with a value)" if kind in EXPLICIT else "interactions"
        raise NoData(f"{kind}: no {what} to train on")
    return frame


def describe(kind: str, frame: pd.DataFrame, model: Any) -> dict[str, Any]:
    size = {
        "users": int(frame["user_id"].nunique()),
        "items": int(frame["item_id"].nunique()),
        "rows": len(frame),
    }
    if kind in EXPLICIT:
        fitted = model.model
        low, high = fitted.scale
        size |= {"global_mean": fitted.global_mean, "rating_min": low, "rating_max": high}
    return size


def write(conn: store.Conn, run_id: int, kind: str, model: Any) -> None:
    if kind in EXPLICIT:
        store.write_factors(conn, run_id, model.model)
    else:
        store.write_neighbors(conn, run_id, model.model)


def train_one(url: str, kind: str, options: Options, step: Callable[[str], None]) -> Outcome:
    """One run: fails as a 'failed' row, leaving the active run as it was."""
    role, params = role_of(kind), default_params(kind, options)
    step(f"{kind}: reading")
    if kind in CONTENT or kind == HYBRID:
        inputs = content_runs.read(url, kind)
        run_id, took, metrics, size = content_runs.train(
            url, kind, role, params, inputs, options.keep, step
        )
        return Outcome(run_id, kind, role, took, metrics, size)
    frame = read_frame(url, kind)
    with psycopg.connect(url) as conn:
        run_id = store.create_run(conn, kind, role, params)
        conn.commit()
        started = time.perf_counter()
        try:
            outcome = fit_and_store(conn, run_id, kind, frame, options, params, step)
        except BaseException as error:
            conn.rollback()
            store.fail(conn, run_id, f"{type(error).__name__}: {error}", elapsed(started))
            conn.commit()
            raise
        return Outcome(run_id, kind, role, elapsed(started), *outcome)


def fit_and_store(
    conn: store.Conn,
    run_id: int,
    kind: str,
    frame: pd.DataFrame,
    options: Options,
    params: dict[str, Any],
    step: Callable[[str], None],
) -> tuple[dict[str, Any], dict[str, Any]]:
    started = time.perf_counter()
    metrics: dict[str, Any] = {}
    if options.validate:
        step(f"{kind}: validating")
        check = validation.explicit if kind in EXPLICIT else validation.implicit
        metrics = check(make_model(kind, params), frame)
    step(f"{kind}: fitting {len(frame):,} rows")
    model = make_model(kind, params).fit(frame)
    step(f"{kind}: writing run {run_id}")
    write(conn, run_id, kind, model)
    size = describe(kind, frame, model)
    store.finish(conn, run_id, metrics, size, elapsed(started))
    store.prune(conn, role_of(kind), options.keep)
    conn.commit()
    return metrics, size


def elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def implicit_kind(url: str) -> str:
    with psycopg.connect(url) as conn:
        frame = data.interactions(conn)
    return "ease" if frame["item_id"].nunique() <= EASE_MAX_ITEMS else "item_knn"


def plan(url: str, models: Sequence[str]) -> list[str]:
    """`all`: SVD where ratings exist, EASE (item_knn beyond EASE_MAX_ITEMS items),
    content where items have text, then the hybrid weights (last: they read the others)."""
    named = [m for m in dict.fromkeys(models) if m != "all"]
    if "all" not in models:
        return named
    with psycopg.connect(url) as conn:
        has_ratings = not data.ratings(conn).empty
        has_text = content_runs.has_text(conn)
    defaults = (["svd"] if has_ratings else []) + [implicit_kind(url)]
    defaults += (["content"] if has_text else []) + [HYBRID]
    rest = [m for m in named if m not in defaults]
    return [m for m in defaults if m != HYBRID] + rest + [HYBRID]


def train(
    url: str, models: Sequence[str] = ("all",), options: Options | None = None
) -> list[Outcome]:
    """Train each model in turn; a failure stops the rest and is re-raised."""
    options = options or Options()
    kinds = plan(url, models)
    outcomes = []
    with tqdm(total=len(kinds), desc="train", unit="model", disable=not options.progress) as bar:
        for kind in kinds:
            outcomes.append(train_one(url, kind, options, bar.set_description))
            bar.update(1)
    for outcome in outcomes:
        log.info("run %s (%s) active: %s", outcome.run_id, outcome.kind, outcome.metrics)
    return outcomes
