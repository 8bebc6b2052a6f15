"""Gauges a scrape reads from the database: the neighbour-list refresh lag, the
age of each active model run, and impressions and CTR by case of the last
hour's lists (as recsys.loop_by_case counts them). Cached for CACHE_SECONDS,
so scrapes from several Prometheus servers cost one round of queries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool

from app.db import queries
from app.db.pool import Connection

# loop_by_case reads every impression ever logged: its answer changes slowly,
# and Prometheus scrapes every 15-60 s.
CACHE_SECONDS = 10.0


@dataclass
class Snapshot:
    neighbor_lists: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # what reading them took


async def read(pool: AsyncConnectionPool[Connection]) -> Snapshot:
    started = time.perf_counter()
    async with pool.connection() as conn:
        state = await (await conn.execute(queries.get("metrics_neighbor_lists"))).fetchone()
        runs = await (await conn.execute(queries.get("metrics_active_runs"))).fetchall()
        cases = await (await conn.execute(queries.get("metrics_loop_by_case"))).fetchall()
    return Snapshot(state, runs, cases, time.perf_counter() - started)


class DatabaseGauges(Collector):
    """A collector over the latest snapshot; `refresh` renews it when stale."""

    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self._pool = pool
        self._snapshot = Snapshot()
        self._at = float("-inf")
        self.cache_seconds = CACHE_SECONDS

    async def refresh(self) -> None:
        if time.monotonic() - self._at >= self.cache_seconds:
            self._snapshot = await read(self._pool)
            self._at = time.monotonic()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self._snapshot
        yield from neighbor_gauges(s.neighbor_lists)
        yield run_gauge(s.runs)
        yield from case_gauges(s.cases)
        took = GaugeMetricFamily(
            "recsys_metrics_database_seconds",
            "What the latest read of the database gauges took (cached for 10 s)",
        )
        took.add_metric([], s.seconds)
        yield took


def neighbor_gauges(state: dict[str, Any] | None) -> Iterator[GaugeMetricFamily]:
    if state is None:
        return
    behind = GaugeMetricFamily(
        "recsys_neighbor_lists_events_behind",
        "Events stored since the neighbour lists behavior_based reads were last refreshed",
    )
    behind.add_metric([], state["events_behind"])
    yield behind
    if state["lag_seconds"] is not None:  # never refreshed: no age to report
        lag = GaugeMetricFamily(
            "recsys_neighbor_lists_refresh_age_seconds",
            "Seconds since the neighbour lists were last refreshed (REC_NEIGHBOR_REFRESH)",
        )
        lag.add_metric([], state["lag_seconds"])
        yield lag


def run_gauge(runs: list[dict[str, Any]]) -> GaugeMetricFamily:
    age = GaugeMetricFamily(
        "recsys_model_run_age_seconds",
        "Seconds since each active model run was trained, by role and kind",
        labels=["role", "kind", "run_id"],
    )
    for run in runs:
        age.add_metric([run["role"], run["kind"], str(run["id"])], run["age_seconds"])
    return age


def case_gauges(cases: list[dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    labels = ["case", "method"]
    impressions = GaugeMetricFamily(
        "recsys_impressions_last_hour",
        "Items shown in the lists logged in the last hour, by case (as recsys.loop_by_case)",
        labels=labels,
    )
    clicks = GaugeMetricFamily(
        "recsys_clicks_last_hour",
        "Items of the last hour's lists that earned a positive event, by case",
        labels=labels,
    )
    ctr = GaugeMetricFamily(
        "recsys_ctr_last_hour", "clicks / impressions of the last hour's lists", labels=labels
    )
    for row in cases:
        key = [row["case_name"], row["method"]]
        impressions.add_metric(key, row["impressions"])
        clicks.add_metric(key, row["clicks"])
        ctr.add_metric(key, float(row["ctr"] or 0))
    yield from (impressions, clicks, ctr)
