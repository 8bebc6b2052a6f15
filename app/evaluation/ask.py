"""Ask the served strategies for lists, and the explicit model for ratings,
through the very functions GET /recommend and GET /predict call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from app import recommenders
from app.db import predictions
from app.db.pool import Connection
from app.recommenders.base import Query

# Evaluated name -> (case, method) of GET /recommend.
STRATEGIES = recommenders.VARIANTS
# The strategies the optional sections study (behavior_based variants, content by product).
BEHAVIOR, CONTENT = "behavior_based", "content_based"

Tick = Callable[[int], object]


@dataclass(frozen=True)
class Asked:
    lists: dict[str, list[str]]
    latency_ms: list[float]


async def _connect(url: str) -> Connection:
    return await AsyncConnection.connect(url, row_factory=dict_row, autocommit=True)


async def _ask(url: str, case: str, queries: dict[str, Query], tick: Tick) -> Asked:
    lists, times = {}, []
    async with await _connect(url) as conn:
        for key, query in queries.items():
            started = time.perf_counter()
            recs = await recommenders.recommend(conn, case, query)
            times.append((time.perf_counter() - started) * 1000)
            lists[key] = [r.product_id for r in recs]
            tick(1)
    return Asked(lists, times)


def lists(url: str, strategy: str, users: list[str], k: int, tick: Tick) -> Asked:
    """Each user's top-k from one strategy, in turn, on one connection."""
    case, method = STRATEGIES[strategy]
    queries = {user: Query(user_id=user, k=k, method=method) for user in users}
    return asyncio.run(_ask(url, case, queries, tick))


def item_lists(url: str, strategy: str, products: list[str], k: int, tick: Tick) -> Asked:
    """Each product's top-k from one strategy (by product, no user), in turn."""
    case, method = STRATEGIES[strategy]
    queries = {product: Query(product_id=product, k=k, method=method) for product in products}
    return asyncio.run(_ask(url, case, queries, tick))


async def _predict(
    url: str, pairs: list[tuple[str, str]], tick: Tick
) -> tuple[np.ndarray, np.ndarray]:
    ratings, fallbacks = [], []
    async with await _connect(url) as conn:
        for user, item in pairs:
            found = await predictions.predict(conn, user, item)
            ratings.append(found.rating)
            fallbacks.append(found.fallback)
            tick(1)
    return np.array(ratings, dtype=np.float64), np.array(fallbacks, dtype=bool)


def predict(url: str, pairs: list[tuple[str, str]], tick: Tick) -> tuple[np.ndarray, np.ndarray]:
    """Predicted ratings of (user, item) pairs, and which were fallbacks
    (unknown user or item), from the active explicit model."""
    return asyncio.run(_predict(url, pairs, tick))
