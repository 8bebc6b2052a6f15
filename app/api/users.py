"""Per-user reads, and erasure."""

from __future__ import annotations

from pydantic import BaseModel
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from app.api import deps
from app.api.errors import APIError
from app.api.models import History, HistoryArgs, HistoryEvent
from app.db import users as db_users

bp = Blueprint("users", __name__)


class Erasure(BaseModel):
    user_id: str
    # What was removed: events and interactions rows, and item_pairs rows changed.
    events: int
    interactions: int
    pairs: int


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


@bp.delete("/users/<path:user_id>")
@validate_response(Erasure)
async def erase(user_id: str) -> Erasure:
    """Erases the user: their events, interactions and model factors are deleted and
    what they contributed to item counts and co-occurrences is subtracted, in one
    transaction. A later event with the same user_id starts a new user."""
    async with deps.connection() as conn:
        erased = await db_users.delete_user(conn, user_id)
    if erased is None:
        raise APIError(404, "not_found", f"unknown user_id {user_id!r}", {"user_id": "unknown"})
    return Erasure(user_id=user_id, **erased.__dict__)
