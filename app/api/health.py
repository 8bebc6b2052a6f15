"""Liveness and readiness."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_response

from app.api import deps
from app.api.models import Health
from app.db import queries

bp = Blueprint("health", __name__)


@bp.get("/health")
@validate_response(Health)
async def health() -> Health:
    """`ok` when the service can reach its database; 503 otherwise."""
    async with deps.statement() as conn:
        await conn.execute(queries.get("health"))
    return Health(status="ok", database="ok")
