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

from app.training import content_runs, data, selection, store, validation
from app.training.neighbors import EASE_LAMBDA, N_NEIGHBORS
from app.training.surprise_models import DEFAULTS, MatrixFactorization

log = logging.getLogger(__name__)

EXPLICIT = ("svd", "svdpp")
IMPLICIT = selection.FAMILIES
# `--model implicit`: the implicit model itself chosen on validation (selection.AUTO).
CHOSEN = "implicit"
CONTENT = content_runs.CONTENT
HYBRID = content_runs.HYBRID
MODELS = (*EXPLICIT, *IMPLICIT, CHOSEN, *CONTENT, HYBRID)
KEEP_RUNS = 3


NoData = content_runs.NoData


@dataclass(frozen=True)
class Options:
    validate: bool = True
    keep: int = KEEP_RUNS
    random_state: int = 0
    progress: bool = True
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How implicit models hold out their validation part (app.evaluation.split).
    validation: str = "temporal"


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
    # Given params are fixed; validation searches the others (app.training.selection).
    return dict(given)


def unvalidated(kind: str, n_items: int, given: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Without validation: the documented defaults (EASE while it is cheap)."""
    if kind == CHOSEN:
        kind = selection.candidates(selection.AUTO, n_items)[0]
    # ln(1 + weighted score): a purchase counts more than a view, with diminishing returns.
    base: dict[str, Any] = {"n_neighbors": N_NEIGHBORS, "weighting": "log"}
    if kind == "ease":
        base["lam"] = EASE_LAMBDA
    return kind, {**base, **selection.GRIDS[kind][0], **given}


def make_model(kind: str, params: dict[str, Any], random_state: int = 0) -> Any:
    if kind in EXPLICIT:
        rest = {k: v for k, v in params.items() if k != "random_state"}
        return MatrixFactorization(kind, params.get("random_state", 0), rest)
    return selection.make(kind, params, random_state)


def read_frame(url: str, kind: str) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        frame = data.ratings(conn) if kind in EXPLICIT else data.interactions(conn)
    if frame.empty:
        what = "ratings (events with a value)" if kind in EXPLICIT else "interactions"
        raise NoData(f"{kind}: no {what} to train on")
    return frame


def choose(
    kind: str, frame: pd.DataFrame, options: Options, step: Callable[[str], None]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, params, metrics) of an implicit run: its tunables (and with
    `implicit` the model) chosen on validation, unless validation is off."""
    n_items = int(frame["item_id"].nunique())
    if not options.validate:
        kind, params = unvalidated(kind, n_items, options.params.get(kind, {}))
        return kind, params, {}
    kinds = selection.candidates(selection.AUTO, n_items) if kind == CHOSEN else [kind]
    fixed = {k: options.params.get(k, {}) for k in kinds}
    seed = options.random_state
    return selection.choose(
        kinds, frame, fixed, options.validation, seed, lambda s: step(f"{kind}: {s}")
    )


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
    if kind == HYBRID:
        # The blend's collaborative part is the model the implicit run chose.
        params = {**params, **content_runs.implicit_choice(url), **options.params.get(kind, {})}
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
            chosen, metrics, size = fit_and_store(conn, run_id, kind, frame, options, params, step)
        except BaseException as error:
            conn.rollback()
            store.fail(conn, run_id, f"{type(error).__name__}: {error}", elapsed(started))
            conn.commit()
            raise
        return Outcome(run_id, chosen, role, elapsed(started), metrics, size)


def fit_and_store(
    conn: store.Conn,
    run_id: int,
    kind: str,
    frame: pd.DataFrame,
    options: Options,
    params: dict[str, Any],
    step: Callable[[str], None],
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, metrics, data) of the run, written and activated."""
    started = time.perf_counter()
    metrics: dict[str, Any] = {}
    if kind in EXPLICIT and options.validate:
        step(f"{kind}: validating")
        metrics = validation.explicit(make_model(kind, params), frame)
    elif kind not in EXPLICIT:
        kind, params, metrics = choose(kind, frame, options, step)
        store.set_choice(conn, run_id, kind, params)
    step(f"{kind}: fitting {len(frame):,} rows")
    model = make_model(kind, params, options.random_state).fit(frame)
    step(f"{kind}: writing run {run_id}")
    write(conn, run_id, kind, model)
    size = describe(kind, frame, model)
    store.finish(conn, run_id, metrics, size, elapsed(started))
    store.prune(conn, role_of(kind), options.keep)
    conn.commit()
    return kind, metrics, size


def elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


@dataclass(frozen=True)
class Plan:
    """The models to train in order, and those `all` leaves out with the reason."""

    kinds: list[str]
    skipped: dict[str, str] = field(default_factory=dict)


def plan(url: str, models: Sequence[str]) -> Plan:
    """`all`: SVD where ratings exist, the implicit model chosen on validation
    where interactions exist, content where items have text, then the hybrid
    weights (last: they read the others). Nothing to learn from is NoData."""
    named = [m for m in dict.fromkeys(models) if m != "all"]
    if "all" not in models:
        return Plan(named)
    with psycopg.connect(url) as conn:
        has_ratings = not data.ratings(conn).empty
        has_events = not data.interactions(conn).empty
        has_text = content_runs.has_text(conn)
    reasons = {
        "svd": None if has_ratings else "no ratings (events with a value)",
        CHOSEN: None if has_events else "no interactions (the catalogue has no events yet)",
        "content": None if has_text else "no item has a title, description, category or attribute",
        HYBRID: None if has_events else "no interactions to fit blend weights on",
    }
    defaults = [m for m, why in reasons.items() if why is None]
    skipped = {m: why for m, why in reasons.items() if why is not None and m not in named}
    if not defaults and not named:
        raise NoData("nothing to train: " + "; ".join(f"{m}: {w}" for m, w in skipped.items()))
    rest = [m for m in named if m not in defaults]
    tail = [HYBRID] if HYBRID in defaults or HYBRID in named else []
    kinds = [m for m in defaults + rest if m != HYBRID] + tail
    return Plan(kinds, skipped)


def train(
    url: str,
    models: Sequence[str] = ("all",),
    options: Options | None = None,
    skipped: dict[str, str] | None = None,
) -> list[Outcome]:
    """Train each model in turn; a failure stops the rest and is re-raised.
    `skipped` receives the models `all` left out, each with its reason."""
    options = options or Options()
    chosen = plan(url, models)
    if skipped is not None:
        skipped.update(chosen.skipped)
    for kind, why in chosen.skipped.items():
        log.info("skipped %s: %s", kind, why)
    outcomes = []
    total = len(chosen.kinds)
    with tqdm(total=total, desc="train", unit="model", disable=not options.progress) as bar:
        for kind in chosen.kinds:
            outcomes.append(train_one(url, kind, options, bar.set_description))
            bar.update(1)
    for outcome in outcomes:
        log.info("run %s (%s) active: %s", outcome.run_id, outcome.kind, outcome.metrics)
    return outcomes
