"""Admin: define, start, stop and read experiments (docs/experiments.md)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_request, validate_response

from app.api import deps
from app.api.errors import error_response
from app.api.experiment_models import ExperimentIn, ExperimentList, ExperimentOut, ReportOut
from app.experiments import errors, store

bp = Blueprint("experiments", __name__)


@bp.post("/admin/experiments")
@validate_request(ExperimentIn)
@validate_response(ExperimentOut, 201)
async def create(data: ExperimentIn) -> tuple[ExperimentOut, int]:
    """Define an experiment (a draft, or running with `start: true`). 409 when
    the name is taken; a rejected definition writes nothing."""
    async with deps.connection() as conn:
        experiment = await store.create(conn, data.definition(), start=data.start)
    return ExperimentOut.of(experiment), 201


@bp.get("/admin/experiments")
@validate_response(ExperimentList)
async def list_experiments() -> ExperimentList:
    """Every experiment, newest first."""
    async with deps.connection() as conn:
        experiments = await store.list_all(conn)
    return ExperimentList(experiments=[ExperimentOut.of(e) for e in experiments])


@bp.get("/admin/experiments/<name>")
@validate_response(ExperimentOut)
async def get(name: str) -> ExperimentOut:
    """One experiment and its arms."""
    async with deps.connection() as conn:
        return ExperimentOut.of(await store.get(conn, name))


@bp.post("/admin/experiments/<name>/start")
@validate_response(ExperimentOut)
async def start(name: str) -> ExperimentOut:
    """Start serving a draft (a running experiment is left as it is; a stopped
    one cannot run again: 409)."""
    async with deps.connection() as conn:
        return ExperimentOut.of(await store.start(conn, name))


@bp.post("/admin/experiments/<name>/stop")
@validate_response(ExperimentOut)
async def stop(name: str) -> ExperimentOut:
    """Stop serving (a stopped experiment is left as it is; a draft: 409).
    Its report stays readable."""
    async with deps.connection() as conn:
        return ExperimentOut.of(await store.stop(conn, name))


@bp.get("/admin/experiments/<name>/report")
@validate_response(ReportOut)
async def get_report(name: str) -> ReportOut:
    """Per arm: users, lists, impressions, clicks, conversions and their rates;
    A/B: each arm's uplift over the control in user click and conversion rate
    (95% interval, two-proportion z-test); interleaving: the per-user sign test;
    and which arm wins at alpha 0.05."""
    from app.experiments import report  # scipy.stats: loaded at the first report

    async with deps.connection() as conn:
        return ReportOut.of(await report.build(conn, name))


# App-wide: GET /recommend?experiment= (app.experiments.serving) raises these too.
@bp.app_errorhandler(errors.ExperimentNotFound)
async def not_found(error: errors.ExperimentNotFound) -> Any:
    return error_response(404, "not_found", error.message, {error.field: "unknown"})


@bp.app_errorhandler(errors.ExperimentNotRunning)
async def not_running(error: errors.ExperimentNotRunning) -> Any:
    return error_response(409, "not_running", error.message, {error.field: error.status})


@bp.app_errorhandler(errors.ExperimentExists)
@bp.app_errorhandler(errors.ExperimentStateError)
async def conflict(error: errors.ExperimentError) -> Any:
    return error_response(409, "conflict", error.message, {error.field: error.message})


@bp.app_errorhandler(errors.InvalidExperiment)
async def invalid(error: errors.InvalidExperiment) -> Any:
    message = f"{error.field}: {error.message}"
    return error_response(400, "invalid_request", message, {error.field: error.message})
