"""Per-user reads."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from app.api import deps
from app.api.errors import APIError
from app.api.models import History, HistoryArgs, HistoryEvent
from app.db import users as db_users

bp = Blueprint("users", __name__)


@bp.get("/users/<path:user_id>/history")
@validate_querystring(HistoryArgs)
@validate_response(History)
async def history(user_id: str, query_args: HistoryArgs) -> History:
    """The user's latest events, newest first (at most `limit`, default 100)."""
    async with deps.connection() as conn:
        rows = await db_users.select_history(conn, user_id, query_args.limit)
        if not rows and not await db_users.user_exists(conn, user_id):
            raise APIError(404, "not_found", f"unknown user_id {user_id!r}", {"user_id": "unknown"})
    return History(user_id=user_id, events=[HistoryEvent(**row) for row in rows])
