"""The admin dashboard (/admin) and the JSON endpoints its panels read.

Every endpoint answers rows of the SQL views analysts use (recsys.daily_activity,
item_funnel, loop_by_*, model_runs), through named queries in sql/queries.sql.
The page itself is static and open, like the demo page; its data needs an
admin key when authentication is on (app/api/auth.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response, send_from_directory
from quart_schema import hide, validate_querystring, validate_response

from app import resources
from app.api import deps, strategies
from app.api.admin_models import (
    ActivatedRun,
    EventsPerMinute,
    LoopRows,
    Overview,
    Runs,
    Settings,
)
from app.api.errors import APIError
from app.db import dashboard

STATIC = resources.directory(resources.STATIC)

MAX_BIGINT = 2**63 - 1

bp = Blueprint("admin", __name__)


class OverviewArgs(BaseModel):
    days: int = Field(30, ge=1, le=3660, description="days of daily_activity and the funnel")
    top: int = Field(10, ge=1, le=100, description="how many top items")


class MinutesArgs(BaseModel):
    minutes: int = Field(60, ge=1, le=1440)


class LoopArgs(BaseModel):
    by: Literal["case", "position", "day", "arm", "scenario"] = Field(
        "case", description="the recsys.loop_by_<by> view to read"
    )


class RunsArgs(BaseModel):
    limit: int = Field(50, ge=1, le=1000)


@bp.get("/admin")
@hide  # a page, documented in docs/operations.md
async def dashboard_page() -> Response:
    """The admin dashboard: overview, models, experiments, settings."""
    return await send_from_directory(STATIC, "admin.html")


@bp.get("/admin/overview")
@validate_querystring(OverviewArgs)
@validate_response(Overview)
async def overview(query_args: OverviewArgs) -> Overview:
    """What the database holds, active users (5 minutes, hour, day), the view ->
    cart -> purchase funnel and daily activity over `days` (recsys.daily_activity),
    and the `top` items by users (recsys.item_funnel)."""
    async with deps.connection() as conn:
        figures = await dashboard.overview(conn, query_args.days, query_args.top)
    return Overview(tenant=deps.shop().tenant, **figures)


@bp.get("/admin/events-per-minute")
@validate_querystring(MinutesArgs)
@validate_response(EventsPerMinute)
async def events_per_minute(query_args: MinutesArgs) -> EventsPerMinute:
    """Events per minute and type over the last `minutes` (the live chart's start;
    /admin/stream adds to it)."""
    async with deps.connection() as conn:
        return EventsPerMinute(minutes=await dashboard.events_per_minute(conn, query_args.minutes))


@bp.get("/admin/loop")
@validate_querystring(LoopArgs)
@validate_response(LoopRows)
async def loop(query_args: LoopArgs) -> LoopRows:
    """Lists, impressions, clicks, carts, purchases, CTR and conversion by one
    dimension: the rows of recsys.loop_by_<by>."""
    async with deps.connection() as conn:
        return LoopRows(by=query_args.by, rows=await dashboard.loop(conn, query_args.by))


@bp.get("/admin/models")
@validate_querystring(RunsArgs)
@validate_response(Runs)
async def models(query_args: RunsArgs) -> Runs:
    """Training runs, newest first: kind, role, status, whether active, params,
    validation metrics and training data (recsys.model_runs)."""
    async with deps.connection() as conn:
        return Runs(runs=await dashboard.runs(conn, query_args.limit))


@bp.post("/admin/models/<int:run_id>/activate")
@validate_response(ActivatedRun)
async def activate(run_id: int) -> ActivatedRun:
    """Make a ready run the active model of its role (roll back or forward);
    404 for an unknown run, 409 for one not ready."""
    if not 0 < run_id <= MAX_BIGINT:
        # No such run can exist; a bigint parameter could not even carry it.
        raise APIError(404, "not_found", f"unknown model run {run_id}", {"run": "unknown"})
    async with deps.connection() as conn:
        return ActivatedRun(**await dashboard.activate(conn, run_id))


@bp.get("/admin/settings")
@validate_response(Settings)
async def settings() -> Settings:
    """The tunables the SQL reads (recsys.settings), what this service was started
    with (no secrets), and the strategies it serves."""
    s = deps.settings()
    async with deps.connection() as conn:
        tunables = await dashboard.tunables(conn)
    return Settings(
        tunables=tunables,
        service={
            "auth": s.auth_enabled,
            "exposures": s.exposures,
            "metrics": s.metrics,
            "log_format": s.log_format,
            "pool_min": s.pool_min,
            "pool_max": s.pool_max,
            "neighbor_refresh_seconds": s.neighbor_refresh,
            "train_every_seconds": s.train_every,
            "retention_days": s.retention_days,
            "max_batch": s.max_batch,
        },
        strategies=strategies.every(),
    )
