"""One module per strategy; `recommend` picks the one a request names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.db.pool import Connection
from app.recommenders import behavior, collaborative, content, hybrid, popular
from app.recommenders.base import NotAvailable, Query, Recommendation

Strategy = Callable[[Connection, Query], Awaitable[list[Recommendation]]]

CASES = ("collaborative", "content_based", "hybrid", "behavior_based", "popular")
STRATEGIES: dict[str, Strategy] = {
    "popular": popular.recommend,
    "behavior_based": behavior.recommend,
    "collaborative": collaborative.recommend,
    "content_based": content.recommend,
    "hybrid": hybrid.recommend,
}


async def recommend(conn: Connection, case: str, query: Query) -> list[Recommendation]:
    strategy = STRATEGIES.get(case)
    if strategy is None:
        raise NotAvailable(case)
    return await strategy(conn, query)
