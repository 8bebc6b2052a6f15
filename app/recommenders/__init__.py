"""One list of strategies and one dispatch: every caller names a strategy of
STRATEGIES and asks `recommend`, which runs the SQL entry point recsys.recommend."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from typing import Any

from psycopg.types.json import Jsonb

from app.db import queries
from app.db.pool import Connection, statement
from app.db.replicas import Reads
from app.recommenders.base import Exposure, Query, Recommendation, Served

USER = ("user_id",)
USER_OR_PRODUCT = ("user_id", "product_id")


@dataclass(frozen=True)
class Strategy:
    name: str
    # The ids of which a query must carry one (none: anyone may ask).
    needs: tuple[str, ...]
    summary: str

    def missing(self, query: Query) -> str | None:
        """The id this strategy needs but the query lacks, if any."""
        given = {"user_id": query.user_id, "product_id": query.product_id}
        if not self.needs or any(given[need] is not None for need in self.needs):
            return None
        return self.needs[0]


# Strongest first, as recsys.switching tries them; popular is every strategy's
# fallback; trending and latest are for placements that want them; the
# hybrid, last, combines the first four.
STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "collaborative",
        USER,
        "the trained models (`recsys train`) applied to the user's live history",
    ),
    Strategy(
        "behavior_based",
        USER,
        "items chosen together with the user's latest ones, from live co-occurrence",
    ),
    Strategy(
        "content_based",
        USER_OR_PRODUCT,
        "nearest items by content embedding to `product_id`, or to the user's recent items",
    ),
    Strategy("popular", (), "most popular items by time-decayed, event-weighted activity"),
    Strategy(
        "trending",
        (),
        "items whose events in the latest day (settings.trending_window) jump above their own"
        " mean of the 7 days before",
    ),
    Strategy("latest", (), "the newest items on sale (available_from, else when added)"),
    Strategy(
        "hybrid",
        USER,
        "`method=adaptive`: every strategy blended with weights fitted per history length;"
        " `method=switching`: the strongest one the history supports",
    ),
)
BY_NAME = {strategy.name: strategy for strategy in STRATEGIES}
NAMES = tuple(BY_NAME)
HYBRID = "hybrid"
# What the adaptive hybrid blends, in this order (app.training.hybrid fits its
# weights; recsys.adaptive reads them by these names).
BLENDED = ("collaborative", "behavior_based", "content_based", "popular")
# The ledger's case for lists of GET /items/{id}/similar (method: cooccurrence or content).
SIMILAR = "similar"
# The ledger's cases of POST /recommend/session, GET /items/{id}/bought-together
# and GET /items/{id}/then-bought (method: the `after` event type).
SESSION = "session"
BOUGHT_TOGETHER = "bought_together"
THEN_BOUGHT = "then_bought"
# What every strategy falls back to (recsys.popular_top_up).
FALLBACK = "popular"
# The hybrid's methods; the first is its default.
METHODS = ("adaptive", "switching")
# As in the original Flask service: GET /recommend's default case, what POST
# /event answers and what sockets receive.
DEFAULT = "behavior_based"


def _variants() -> dict[str, tuple[str, str | None]]:
    names: dict[str, tuple[str, str | None]] = {n: (n, None) for n in NAMES if n != HYBRID}
    for n, method in enumerate(METHODS):
        names[f"{HYBRID}_{method}" if n else HYBRID] = (HYBRID, method)
    return names


# Every list a caller can ask for, by name -> (case, method): each strategy, and
# the hybrid once per method (`hybrid` for the default, `hybrid_<method>` else).
VARIANTS = _variants()


async def recommend(conn: Connection, case: str, query: Query) -> list[Recommendation]:
    """The top-k of strategy `case` (one of NAMES) for the query."""
    return await _run(conn, "recommend", recommend_params(case, query))


async def serve(conn: Connection, case: str, query: Query, exposure: Exposure) -> Served:
    """recommend, rotated by query.rotation and recorded in the exposure ledger
    (recsys.serve): one statement, one ledger row."""
    recomm_id = str(uuid.uuid4())
    params = {
        **ranked_params(case, query),
        **ledger_params(recomm_id, case, query, exposure),
    }
    return Served(recomm_id, await _run(conn, "serve", params))


async def serve_read(
    reads: Reads, case: str, query: Query, exposure: Exposure, lsn: str | None = None
) -> Served:
    """serve, with the list read on a streaming replica when there is one (one
    that has replayed `lsn`, if given: a read that must see a write): there
    the list is ranked, and its ledger row written on the primary."""
    recs = await reads.on_replica(lambda conn: ranked(conn, case, query), lsn)
    async with statement(reads.primary) as conn:
        if recs is None:
            return await serve(conn, case, query, exposure)
        ids = [r.product_id for r in recs]
        return Served(await log_exposure(conn, case, query, exposure, ids), recs)


async def ranked(conn: Connection, case: str, query: Query) -> list[Recommendation]:
    """recommend with rules, rotation and diversity, without a ledger row
    (recsys.ranked): the lists an interleaving merges before it records one."""
    return await _run(conn, "ranked", ranked_params(case, query))


def ranked_params(case: str, query: Query) -> dict[str, Any]:
    """recommend's parameters and what recsys.ranked adds: rotation, rules,
    diversity, the category cap and the fallback chain."""
    return {
        **recommend_params(case, query),
        "rotation": query.rotation,
        "rules": None if query.rules is None else Jsonb(query.rules),
        "diversity": query.diversity,
        "max_per_category": query.max_per_category,
        "fallback": query.fallback,
    }


async def log_exposure(
    conn: Connection,
    case: str,
    query: Query,
    exposure: Exposure,
    product_ids: list[str],
    placed_by: list[str] | None = None,
    recomm_id: str | None = None,
    request: dict[str, Any] | None = None,
) -> str:
    """One ledger row for a list assembled in Python (an interleaving); its
    recomm_id (`recomm_id`, or a new one). `request`: what a next page needs
    beyond the query (a session's steps)."""
    recomm_id = recomm_id or str(uuid.uuid4())
    if exposure.log:
        params = {
            **recommend_params(case, query),
            **ledger_params(recomm_id, case, query, exposure, request),
        }
        await conn.execute(
            queries.get("log_exposure"),
            {**params, "product_ids": product_ids, "placed_by": placed_by},
        )
    return recomm_id


def ledger_params(
    recomm_id: str,
    case: str,
    query: Query,
    exposure: Exposure,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What recsys.exposures records besides the items: the request a next page
    repeats (with `extra`), and where the list went."""
    # Shallow: the dict is serialised at once (Jsonb), so asdict's deep copy of
    # every list and dict was pure cost (~5% of a popular request's CPU).
    request = {f.name: getattr(query, f.name) for f in fields(query)}
    request = {**request, **(extra or {}), "case": case}
    return {
        "recomm_id": recomm_id,
        "surface": exposure.surface,
        "scenario": exposure.scenario,
        "experiment": exposure.experiment,
        "arm": exposure.arm,
        "chain": exposure.chain,
        "page": exposure.page,
        "request": Jsonb(request),
        "log": exposure.log,
        "logged_method": logged_method(case, query),
    }


def logged_method(case: str, query: Query) -> str | None:
    if case == HYBRID:
        return query.method or METHODS[0]
    return query.method if case in (SIMILAR, THEN_BOUGHT) else None


def query_of(request: dict[str, Any]) -> tuple[str, Query]:
    """The case and query a ledger row's request recorded (ledger_params)."""
    fields = {name: request[name] for name in Query.__dataclass_fields__ if name in request}
    return request["case"], Query(**fields)


def recommend_params(case: str, query: Query) -> dict[str, Any]:
    """The parameters of the `recommend` named query: what `recommend` sends, for
    callers that time the SQL itself (the benchmarks)."""
    return {**_params(query), "case": case}


async def similar_items(conn: Connection, query: Query, by: str) -> list[Recommendation]:
    """Items like query.product_id: chosen by the same users (`by` cooccurrence,
    recsys.similar_items), or nearest by content embedding (`by` content)."""
    if by == "content":
        return await recommend(conn, "content_based", query)
    return await _run(conn, "similar_items", _params(query))


async def serve_similar(conn: Connection, query: Query, by: str, exposure: Exposure) -> Served:
    """similar_items, recorded in the ledger as case `similar`, method `by`."""
    recs = await similar_items(conn, query, by)
    ids = [r.product_id for r in recs]
    recomm_id = await log_exposure(conn, SIMILAR, replace(query, method=by), exposure, ids)
    return Served(recomm_id, recs)


async def serve_session(
    conn: Connection, steps: list[tuple[str, str]], query: Query, exposure: Exposure
) -> Served:
    """An anonymous session's list from its (product, event type) steps, oldest
    first (recsys.session_recommend), in the ledger as case `session` under
    query.user_id (the session's id, if the client gave one)."""
    products = [p for p, _ in steps]
    params = {**_params(query), "products": products, "event_types": [t for _, t in steps]}
    recs = await _run(conn, "session_recommend", params)
    recomm_id = await log_exposure(
        conn, SESSION, query, exposure, [r.product_id for r in recs], request={"steps": steps}
    )
    return Served(recomm_id, recs)


async def serve_bought_together(conn: Connection, query: Query, exposure: Exposure) -> Served:
    """Items bought in one basket with query.product_id (recsys.bought_together),
    in the ledger as case `bought_together`."""
    recs = await _run(conn, "bought_together", _params(query))
    recomm_id = await log_exposure(
        conn, BOUGHT_TOGETHER, query, exposure, [r.product_id for r in recs]
    )
    return Served(recomm_id, recs)


async def serve_then_bought(
    conn: Connection, query: Query, after: str, exposure: Exposure
) -> Served:
    """Items bought by the users who sent `after` (view, add_to_cart) for
    query.product_id, by LLR (recsys.then_bought), in the ledger as case
    `then_bought`, method `after`."""
    recs = await _run(conn, "then_bought", {**_params(query), "after": after})
    recomm_id = await log_exposure(
        conn, THEN_BOUGHT, replace(query, method=after), exposure, [r.product_id for r in recs]
    )
    return Served(recomm_id, recs)


def _params(query: Query) -> dict[str, Any]:
    return {
        "user_id": query.user_id,
        "product_id": query.product_id,
        "k": query.k,
        "exclude": query.exclude,
        "category": query.category,
        "method": query.method or METHODS[0],
        "attributes": None if query.attributes is None else Jsonb(query.attributes),
    }


async def _run(conn: Connection, name: str, params: dict[str, Any]) -> list[Recommendation]:
    cur = await conn.execute(queries.get(name), params)
    return [
        Recommendation(r["product_id"], float(r["score"]), r["reason"])
        for r in await cur.fetchall()
    ]
