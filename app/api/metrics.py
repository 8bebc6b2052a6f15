"""GET /metrics: the Prometheus text format (docs/operations.md)."""

from __future__ import annotations

from quart import Blueprint, Response, current_app
from quart_schema import hide

from app.api import deps
from app.api.errors import APIError
from app.metrics import exposition

bp = Blueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/metrics")
@hide  # Prometheus' format, not JSON: documented in docs/operations.md
async def metrics() -> Response:
    """Counters, histograms and gauges of the service for Prometheus."""
    instruments = deps.metrics()
    if instruments is None:
        raise APIError(404, "not_found", "metrics are off (REC_METRICS=false)")
    current_app.extensions["recsys.sampler"].sample()
    database = current_app.extensions["recsys.database_gauges"]
    await database.refresh()
    return Response(exposition.render(instruments, database), content_type=CONTENT_TYPE)
