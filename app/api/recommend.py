"""Recommendation endpoints of the original Flask service: /recommend and /realtime-recommend."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from app import recommenders
from app.api import deps
from app.api.errors import APIError
from app.api.events import to_new_event
from app.api.models import (
    EventIn,
    NextArgs,
    RealtimeArgs,
    RecommendArgs,
    Recommendation,
    Recommendations,
    SessionIn,
)
from app.db import events as db_events
from app.db import exposures as db_exposures
from app.db import scenarios as db_scenarios
from app.db.pool import Connection
from app.experiments import lists as experiment_lists
from app.recommenders import base, scenarios
from app.recommenders.base import Exposure, Query, Served

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
    Items the user purchased, disliked or hid never appear; other items the user
    interacted with are excluded too. `exclude` (comma-separated ids), `category`
    and `rules` (JSON: filter, boost, bury, pin, promote) apply inside the ranking
    query, so lists stay k long while the catalogue allows; `diversity` and
    `max_per_category` vary the list; `scenario` applies saved settings.
    Every list is logged in recsys.exposures: its `recomm_id` pages on
    (GET /recommend/next) and credits the events sent with it.
    """
    return await recommended(query_args)


@bp.post("/recommend")
@validate_request(RecommendArgs)
@validate_response(Recommendations)
async def recommend_post(data: RecommendArgs) -> Recommendations:
    """GET /recommend with its parameters in a JSON body: for rules too long
    for a URL (`rules` is a JSON object here, not text)."""
    return await recommended(data)


async def recommended(args: RecommendArgs) -> Recommendations:
    query = args.to_query()
    if args.experiment is not None:
        async with deps.connection() as conn:
            case, served, exposure = await experiment_lists.serve(
                conn, args.experiment, query, deps.exposure("recommend")
            )
        deps.count_list(case, "recommend")
        return answer(case, query, served, exposure)
    case, exposure = args.case, deps.exposure("recommend", scenario=args.scenario)
    if args.scenario is not None:
        async with deps.connection() as conn:
            case, query = await in_scenario(conn, args, query)
    missing = recommenders.BY_NAME[case].missing(query)
    if missing:
        message = f"{missing} is required for case={case}"
        raise APIError(400, "invalid_request", message, {missing: "required"})
    served = await recommenders.serve_read(deps.reads(), case, query, exposure)
    deps.count_list(case, "recommend")
    return answer(case, query, served, exposure)


async def in_scenario(conn: Connection, args: RecommendArgs, query: Query) -> tuple[str, Query]:
    """The case and query of args.scenario, with the request's own parameters winning."""
    assert args.scenario is not None
    scenario = await db_scenarios.get(conn, args.scenario)
    if scenario is None:
        raise APIError(
            404,
            "not_found",
            f"unknown scenario {args.scenario!r}; GET /scenarios lists them",
            {"scenario": "unknown"},
        )
    given = args.model_fields_set
    return scenarios.apply(scenario, query, given, args.case if "case" in given else None)


@bp.post("/recommend/session")
@validate_request(SessionIn)
@validate_response(Recommendations)
async def recommend_session(data: SessionIn) -> Recommendations:
    """Recommendations for an anonymous session from its items and event types
    (latest last): their co-occurrence neighbours, weighted by type and
    recency as a user's latest items are; the session's items are left out and
    popular items fill the rest. Unknown products are skipped; an unknown
    event type is a 400."""
    query = Query(user_id=data.session_id, k=data.k, exclude=data.exclude, category=data.category)
    steps = [(step.product_id, step.event_type) for step in data.items]
    async with deps.connection() as conn:
        served = await recommenders.serve_session(conn, steps, query, deps.exposure("recommend"))
    deps.count_list(recommenders.SESSION, "recommend")
    return answer(recommenders.SESSION, query, served)


@bp.get("/recommend/next")
@validate_querystring(NextArgs)
@validate_response(Recommendations)
async def recommend_next(query_args: NextArgs) -> Recommendations:
    """The next k items of the list `recomm_id` began: the same request again,
    without any item a page of this chain showed. A chain lives 30 minutes
    (REC_PAGE_TTL_MINUTES) after its latest page; then 410."""
    async with deps.connection() as conn:
        chain = await open_chain(conn, str(query_args.recomm_id))
        case, first = recommenders.query_of(chain["request"])
        query = replace(first, k=query_args.k or first.k, exclude=[*first.exclude, *chain["shown"]])
        exposure = deps.exposure(
            "next",
            scenario=chain["scenario"],
            experiment=chain["experiment"],
            arm=chain["arm"],
            chain=chain["chain"],
            page=chain["next_page"],
        )
        case, served, exposure = await serve_page(conn, case, query, exposure, chain)
    deps.count_list(case, "next")
    return answer(case, query, served, exposure)


async def open_chain(conn: Connection, recomm_id: str) -> dict[str, Any]:
    """The chain a next page continues; 404 if unknown, 410 once expired."""
    chain = await db_exposures.chain_of(conn, recomm_id)
    if chain is None:
        raise APIError(404, "not_found", f"unknown recomm_id {recomm_id}", {"recomm_id": "unknown"})
    if chain["expired"]:
        raise APIError(
            410,
            "expired",
            f"recomm_id {recomm_id} expired: its latest page is older than the page TTL"
            " (REC_PAGE_TTL_MINUTES, 30 by default); ask GET /recommend for a fresh list",
            {"recomm_id": "expired"},
        )
    return chain


async def serve_page(
    conn: Connection, case: str, query: Query, exposure: Exposure, chain: dict[str, Any]
) -> tuple[str, Served, Exposure]:
    """A next page of `case`: similar items, an interleaving or a strategy."""
    if case == recommenders.SIMILAR:
        return (
            case,
            await recommenders.serve_similar(conn, query, chain["method"], exposure),
            exposure,
        )
    if case == recommenders.SESSION:
        steps = [(product, event_type) for product, event_type in chain["request"]["steps"]]
        return case, await recommenders.serve_session(conn, steps, query, exposure), exposure
    if case == recommenders.BOUGHT_TOGETHER:
        return case, await recommenders.serve_bought_together(conn, query, exposure), exposure
    if case == recommenders.THEN_BOUGHT:
        served = await recommenders.serve_then_bought(conn, query, chain["method"], exposure)
        return case, served, exposure
    if case == experiment_lists.INTERLEAVED:
        # Both arms again (the same user draws the same arms), without the chain's items.
        return await experiment_lists.serve(conn, chain["experiment"], query, exposure)
    return case, await recommenders.serve(conn, case, query, exposure), exposure


def answer(
    case: str, query: Query, served: Served, exposure: Exposure | None = None
) -> Recommendations:
    hybrid = case == recommenders.HYBRID
    return Recommendations(
        user_id=query.user_id,
        product_id=query.product_id,
        case=case,
        method=(query.method or recommenders.METHODS[0]) if hybrid else None,
        recomm_id=served.recomm_id,
        experiment=exposure.experiment if exposure else None,
        arm=exposure.arm if exposure else None,
        page=exposure.page if exposure else 1,
        scenario=exposure.scenario if exposure else None,
        recommendations=as_models(served.recommendations),
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
            result = await db_events.insert_events(conn, [to_new_event(event)])
            await conn.commit()
            deps.count_events([event.event_type], result.duplicates)
        query = Query(user_id=query_args.user_id, k=query_args.k)
        served = await recommenders.serve(
            conn, recommenders.DEFAULT, query, deps.exposure("realtime")
        )
    deps.count_list(recommenders.DEFAULT, "realtime")
    return answer(recommenders.DEFAULT, query, served)
