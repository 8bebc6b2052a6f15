"""behavior_based asked again under other settings of the scratch database:
each co-occurrence measure (cosine, Jaccard, log-likelihood ratio), and live
scoring from item_pairs against refreshed neighbour lists of several sizes.

Each variant's lists go through the same asking and scoring as the main table
(the run's); only `recsys.settings` and `recsys.neighbor_lists` of the
scratch database change, so the figures differ by the setting alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from app.db import queries
from app.evaluation import ask

MEASURES = ("cosine", "jaccard", "llr")  # recsys.check_measure

# Asks behavior_based for every test user under the current settings and
# scores the lists; the argument names the progress phase.
Score = Callable[[str], dict[str, Any]]


def _execute(url: str, name: str, params: dict[str, Any] | None = None) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(queries.get(name), params)
        return cursor.fetchall() if cursor.description else []


def by_measure(url: str, measures: Sequence[str], score: Score) -> dict[str, dict[str, Any]]:
    """behavior_based under each measure, every source item scored live."""
    [(configured,)] = _execute(url, "evaluation_similarity")
    _execute(url, "drop_neighbor_lists")
    rows = {}
    try:
        for measure in measures:
            _execute(url, "evaluation_set_similarity", {"similarity": measure})
            rows[measure] = score(f"{ask.BEHAVIOR}, {measure}")
    finally:
        _execute(url, "evaluation_set_similarity", {"similarity": configured})
    return rows


def by_list_size(url: str, sizes: Sequence[int], score: Score) -> dict[str, dict[str, Any]]:
    """behavior_based live, then from neighbour lists of each size, each rebuilt in full
    (the seconds that took are reported next to the lists' figures)."""
    _execute(url, "drop_neighbor_lists")
    rows = {"live": score(f"{ask.BEHAVIOR}, live")}
    for size in sizes:
        _execute(url, "evaluation_set_neighbor_list_size", {"size": size})
        started = time.perf_counter()
        _execute(url, "refresh_neighbor_lists", {"everything": True})
        rebuilt = round(time.perf_counter() - started, 3)
        label = f"lists of {size}"
        rows[label] = {**score(f"{ask.BEHAVIOR}, {label}"), "rebuild_s": rebuilt}
    return rows
