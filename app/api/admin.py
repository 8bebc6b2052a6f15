"""The admin dashboard (/admin) and the JSON endpoints its panels read.

Every endpoint answers rows of the SQL views analysts use (recsys.daily_activity,
item_funnel, loop_by_*, model_runs), through named queries in sql/queries.sql.
The page itself is static and open, like the demo page; its data needs an
admin key when authentication is on (app/api/auth.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response, send_from_directory
from quart_schema import validate_querystring

from app import resources
from app.api import deps, strategies
from app.db import dashboard

STATIC = resources.directory(resources.STATIC)

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
async def dashboard_page() -> Response:
    """The admin dashboard: overview, models, experiments, settings."""
    return await send_from_directory(STATIC, "admin.html")


@bp.get("/admin/overview")
@validate_querystring(OverviewArgs)
async def overview(query_args: OverviewArgs) -> dict[str, Any]:
    """What the database holds, active users (5 minutes, hour, day), the view ->
    cart -> purchase funnel and daily activity over `days` (recsys.daily_activity),
    and the `top` items by users (recsys.item_funnel)."""
    async with deps.connection() as conn:
        return await dashboard.overview(conn, query_args.days, query_args.top)


@bp.get("/admin/events-per-minute")
@validate_querystring(MinutesArgs)
async def events_per_minute(query_args: MinutesArgs) -> dict[str, Any]:
    """Events per minute and type over the last `minutes` (the live chart's start;
    /admin/stream adds to it)."""
    async with deps.connection() as conn:
        return {"minutes": await dashboard.events_per_minute(conn, query_args.minutes)}


@bp.get("/admin/loop")
@validate_querystring(LoopArgs)
async def loop(query_args: LoopArgs) -> dict[str, Any]:
    """Lists, impressions, clicks, carts, purchases, CTR and conversion by one
    dimension: the rows of recsys.loop_by_<by>."""
    async with deps.connection() as conn:
        return {"by": query_args.by, "rows": await dashboard.loop(conn, query_args.by)}


@bp.get("/admin/models")
@validate_querystring(RunsArgs)
async def models(query_args: RunsArgs) -> dict[str, Any]:
    """Training runs, newest first: kind, role, status, whether active, params,
    validation metrics and training data (recsys.model_runs)."""
    async with deps.connection() as conn:
        return {"runs": await dashboard.runs(conn, query_args.limit)}


@bp.post("/admin/models/<int:run_id>/activate")
async def activate(run_id: int) -> dict[str, Any]:
    """Make a ready run the active model of its role (roll back or forward);
    404 for an unknown run, 409 for one not ready."""
    async with deps.connection() as conn:
        return await dashboard.activate(conn, run_id)


@bp.get("/admin/settings")
async def settings() -> dict[str, Any]:
    """The tunables the SQL reads (recsys.settings), what this service was started
    with (no secrets), and the strategies it serves."""
    s = deps.settings()
    async with deps.connection() as conn:
        tunables = await dashboard.tunables(conn)
    return {
        "tunables": tunables,
        "service": {
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
        "strategies": strategies.every(),
    }
