"""Recommendation endpoints of the original Flask service: /recommend and /realtime-recommend."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from app import recommenders
from app.api import deps
from app.api.errors import APIError
from app.api.events import to_new_event
from app.api.models import EventIn, RealtimeArgs, RecommendArgs, Recommendation, Recommendations
from app.db import events as db_events
from app.recommenders import base
from app.recommenders.base import Query

bp = Blueprint("recommend", __name__)


def as_models(recs: list[base.Recommendation]) -> list[Recommendation]:
    return [Recommendation(product_id=r.product_id, score=r.score, reason=r.reason) for r in recs]


@bp.get("/recommend")
@validate_querystring(RecommendArgs)
@validate_response(Recommendations)
async def recommend(query_args: RecommendArgs) -> Recommendations:
    """Top-k recommendations for a user (or, for content_based, a product).

    `case` picks the strategy (behavior_based by default; each is described
    under the parameter); with `method=switching` each reason starts with the
    strategy that produced it. New users get popular items, and the reason says so.
    Items the user purchased never appear; other items the user interacted
    with are excluded too. `exclude` (comma-separated ids) and `category`
    filter inside the ranking query, so lists stay k long while the catalogue allows.
    """
    query = query_args.to_query()
    missing = recommenders.BY_NAME[query_args.case].missing(query)
    if missing:
        message = f"{missing} is required for case={query_args.case}"
        raise APIError(400, "invalid_request", message, {missing: "required"})
    async with deps.connection() as conn:
        recs = await recommenders.recommend(conn, query_args.case, query)
    hybrid = query_args.case == recommenders.HYBRID
    return Recommendations(
        user_id=query_args.user_id,
        product_id=query_args.product_id,
        case=query_args.case,
        method=(query_args.method or recommenders.METHODS[0]) if hybrid else None,
        recommendations=as_models(recs),
    )


@bp.get("/realtime-recommend")
@validate_querystring(RealtimeArgs)
@validate_response(Recommendations)
async def realtime_recommend(query_args: RealtimeArgs) -> Recommendations:
    """The original Flask service's real-time call: records `event_type` (default view) on
    `product_id` when one is given, then answers behaviour-based recommendations."""
    event = EventIn(
        user_id=query_args.user_id,
        product_id=query_args.product_id or "-",
        event_type=query_args.event_type,
    )
    async with deps.connection() as conn:
        if query_args.product_id is not None:
            await db_events.insert_events(conn, [to_new_event(event)])
            await conn.commit()
        query = Query(user_id=query_args.user_id, k=query_args.k)
        recs = await recommenders.recommend(conn, recommenders.DEFAULT, query)
    return Recommendations(
        user_id=query_args.user_id, case=recommenders.DEFAULT, recommendations=as_models(recs)
    )
