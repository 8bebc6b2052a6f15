"""Per-user reads, and erasure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from app.api import deps
from app.api.errors import APIError
from app.api.models import ExternalId, History, HistoryArgs, HistoryEvent
from app.config import DEFAULT_K, MAX_K
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


class MergeIn(BaseModel):
    """The anonymous id whose events become this user's (at login)."""

    model_config = ConfigDict(extra="forbid")

    from_: ExternalId = Field(alias="from", description="the anonymous visitor's user_id")


class Merged(BaseModel):
    user_id: str
    merged_from: str
    events: int = Field(description="events moved to user_id")


class SimilarArgs(BaseModel):
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)


class SimilarUser(BaseModel):
    user_id: str
    score: float
    shared: int = Field(description="items both users chose")


class SimilarUsers(BaseModel):
    user_id: str
    similar: list[SimilarUser]


@bp.post("/users/<path:user_id>/merge")
@validate_request(MergeIn)
@validate_response(Merged)
async def merge(user_id: str, data: MergeIn) -> Merged:
    """At login: every event of the anonymous id `from` becomes this user's (the
    user is created if new), and both users' interactions, co-occurrence pairs
    and their items' counts are rebuilt from the events in the same
    transaction, so every count stays exact; the anonymous id is gone after."""
    async with deps.connection() as conn:
        moved = await db_users.merge(conn, user_id, data.from_)
    return Merged(user_id=user_id, merged_from=data.from_, events=moved)


@bp.get("/users/<path:user_id>/similar")
@validate_querystring(SimilarArgs)
@validate_response(SimilarUsers)
async def similar(user_id: str, query_args: SimilarArgs) -> SimilarUsers:
    """Users who chose the same items, niche items counting more (Adamic-Adar),
    normalised by both histories' sizes."""
    async with deps.connection() as conn:
        rows = await db_users.similar(conn, user_id, query_args.k)
    return SimilarUsers(user_id=user_id, similar=[SimilarUser(**row) for row in rows])
