"""Experiments as rows: define (validated), list, read, start, stop.

Every check that needs the service's own lists (strategies, methods, the request
parameters an arm may fix) is made here, before anything is written; the tables'
constraints and recsys.start_experiment hold the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from psycopg import errors as pg
from psycopg.types.json import Jsonb

from app import recommenders
from app.config import MAX_ID
from app.db import queries
from app.db import scenarios as db_scenarios
from app.db.pool import Connection
from app.experiments.errors import (
    ExperimentExists,
    ExperimentNotFound,
    ExperimentStateError,
    InvalidExperiment,
)

AB, INTERLEAVE = "ab", "interleave"
MODES = (AB, INTERLEAVE)
# As the tables' checks (sql/10_experiments.sql): safe in a URL path and a query string.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_DESCRIPTION = 1000
# Shares are relative (1:3 is 25:75); the bound keeps them inside a real.
MAX_SHARE = 1e6


@dataclass(frozen=True)
class ArmSpec:
    name: str
    case: str
    method: str | None = None
    # Request parameters the arm fixes: category (text), rotation (0..1).
    params: dict[str, Any] = field(default_factory=dict)
    # Relative: the arm's slice of users is share / the sum of shares (A/B only).
    share: float = 1.0


@dataclass(frozen=True)
class Definition:
    name: str
    mode: str
    arms: tuple[ArmSpec, ...]
    description: str = ""


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    mode: str
    description: str
    status: str
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    arms: tuple[ArmSpec, ...]  # position order: the first is the control


async def create(conn: Connection, definition: Definition, start: bool = False) -> Experiment:
    """Validate and insert, and start at once if asked; all in the caller's transaction."""
    definition = validate(definition)
    for n, arm in enumerate(definition.arms):
        scenario = arm.params.get("scenario")
        if scenario is not None and await db_scenarios.get(conn, scenario) is None:
            raise InvalidExperiment(f"unknown scenario {scenario!r}", f"arms.{n}.params.scenario")
    params = {
        "name": definition.name,
        "mode": definition.mode,
        "description": definition.description,
        "arms": Jsonb([asdict(arm) for arm in definition.arms]),
    }
    try:
        await conn.execute(queries.get("insert_experiment"), params)
    except pg.UniqueViolation:
        raise ExperimentExists(definition.name) from None
    if start:
        return await _lifecycle(conn, "start_experiment", definition.name)
    return await get(conn, definition.name)


async def list_all(conn: Connection) -> list[Experiment]:
    """Every experiment, newest first."""
    cur = await conn.execute(queries.get("select_experiments"), {"name": None})
    return [_experiment(row) for row in await cur.fetchall()]


async def get(conn: Connection, name: str) -> Experiment:
    cur = await conn.execute(queries.get("select_experiments"), {"name": name})
    row = await cur.fetchone()
    if row is None:
        raise ExperimentNotFound(name, "name")
    return _experiment(row)


async def start(conn: Connection, name: str) -> Experiment:
    """draft -> running; a running experiment stays as it is; a stopped one cannot."""
    return await _lifecycle(conn, "start_experiment", name)


async def stop(conn: Connection, name: str) -> Experiment:
    """running -> stopped; a stopped experiment stays as it is; a draft cannot."""
    return await _lifecycle(conn, "stop_experiment", name)


async def _lifecycle(conn: Connection, query: str, name: str) -> Experiment:
    try:
        await conn.execute(queries.get(query), {"name": name})
    except pg.NoDataFound:
        raise ExperimentNotFound(name, "name") from None
    except pg.ObjectNotInPrerequisiteState as error:
        raise ExperimentStateError(error.diag.message_primary or str(error), "name") from None
    except pg.InvalidParameterValue as error:
        raise InvalidExperiment(error.diag.message_primary or str(error), "arms") from None
    return await get(conn, name)


def _experiment(row: Mapping[str, Any]) -> Experiment:
    arms = tuple(ArmSpec(**arm) for arm in row["arms"])
    fields = {k: row[k] for k in Experiment.__dataclass_fields__ if k != "arms"}
    return Experiment(**fields, arms=arms)


# ------------------------------------------------------------------ validation


def validate(definition: Definition) -> Definition:
    """The definition as stored (the hybrid's method made explicit), or
    InvalidExperiment naming the first bad field."""
    if not isinstance(definition.name, str) or not NAME.fullmatch(definition.name):
        raise InvalidExperiment(
            "name must be 1-64 letters, digits, '_' or '-', starting with a letter or digit",
            "name",
        )
    if definition.mode not in MODES:
        raise InvalidExperiment(f"mode must be one of {', '.join(MODES)}", "mode")
    if len(definition.description) > MAX_DESCRIPTION:
        raise InvalidExperiment(
            f"description is at most {MAX_DESCRIPTION} characters", "description"
        )
    _check_arm_count(definition)
    arms = tuple(_arm(n, arm) for n, arm in enumerate(definition.arms))
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        raise InvalidExperiment("arm names must differ", "arms.name")
    return Definition(definition.name, definition.mode, arms, definition.description)


def _check_arm_count(definition: Definition) -> None:
    n = len(definition.arms)
    if definition.mode == INTERLEAVE and n != 2:
        raise InvalidExperiment(f"interleaving compares exactly 2 arms, got {n}", "arms")
    if n < 2:
        raise InvalidExperiment(f"an experiment needs at least 2 arms, got {n}", "arms")


def _arm(n: int, arm: ArmSpec) -> ArmSpec:
    where = f"arms.{n}"
    if not isinstance(arm.name, str) or not NAME.fullmatch(arm.name):
        raise InvalidExperiment(
            "an arm's name must be 1-64 letters, digits, '_' or '-'", f"{where}.name"
        )
    if arm.case not in recommenders.NAMES:
        raise InvalidExperiment(
            f"case must be one of {', '.join(recommenders.NAMES)}", f"{where}.case"
        )
    share = arm.share
    if isinstance(share, bool) or not isinstance(share, int | float) or not math.isfinite(share):
        raise InvalidExperiment("share must be a number", f"{where}.share")
    if not 0 < share <= MAX_SHARE:
        raise InvalidExperiment(f"share must be in (0, {MAX_SHARE:g}]", f"{where}.share")
    params = _params(arm.params, where)
    return ArmSpec(arm.name, arm.case, _method(arm, where), params, float(share))


def _method(arm: ArmSpec, where: str) -> str | None:
    if arm.case != recommenders.HYBRID:
        if arm.method is not None:
            raise InvalidExperiment("method applies to case hybrid only", f"{where}.method")
        return None
    # Stored explicitly: a later change of the default must not change a running arm.
    method = arm.method or recommenders.METHODS[0]
    if method not in recommenders.METHODS:
        raise InvalidExperiment(
            f"method must be one of {', '.join(recommenders.METHODS)}", f"{where}.method"
        )
    return method


def _params(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise InvalidExperiment("params must be an object", f"{where}.params")
    for key, value in params.items():
        check = PARAMS.get(key)
        if check is None:
            known = ", ".join(PARAMS)
            raise InvalidExperiment(f"unknown parameter {key!r}; known: {known}", f"{where}.params")
        problem = check(value)
        if problem:
            raise InvalidExperiment(f"{key} {problem}", f"{where}.params.{key}")
    return dict(params)


def _category(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID:
        return f"must be text of 1-{MAX_ID} characters"
    return None


def _rotation(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return "must be a number from 0 to 1"
    return None


def _cap(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        return "must be an integer from 1 to 1000"
    return None


def _scenario(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        return "must be a scenario's name"
    return None


# The request parameters an arm may fix, each with its check (a problem or None);
# `scenario`: the arm serves that scenario (its case, method, rules and settings).
PARAMS = {
    "category": _category,
    "rotation": _rotation,
    "diversity": _rotation,
    "max_per_category": _cap,
    "scenario": _scenario,
}
